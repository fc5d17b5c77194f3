"""The rule registry: every family, listed explicitly, in documentation order.

A family is imported when a scan needs it: ``rules_for`` gives the families that read what the scan found, so a
scan of Kubernetes manifests never imports the Terraform families (a third of the start-up of a small scan).
``REGISTRY`` and ``BY_ID`` hold every rule, importing every family on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from servegate.rules.base import Rule

KUBERNETES, TERRAFORM = "kubernetes", "terraform"
BOTH = frozenset({KUBERNETES, TERRAFORM})

# (module, the inputs its rules read), in documentation order.
FAMILIES: tuple[tuple[str, frozenset[str]], ...] = (
    ("model_servers", frozenset({KUBERNETES})),
    ("ml_apps", frozenset({KUBERNETES})),
    ("gpu_workloads", frozenset({KUBERNETES})),
    ("network", frozenset({KUBERNETES})),
    ("artifacts", frozenset({KUBERNETES})),
    ("secrets", frozenset({KUBERNETES})),
    ("k8s_hardening", frozenset({KUBERNETES})),
    ("cloud_network", frozenset({TERRAFORM})),
    ("aws_ml", frozenset({TERRAFORM})),
    ("aws_cloud", frozenset({TERRAFORM})),
    ("azure", frozenset({TERRAFORM})),
    ("gcp", frozenset({TERRAFORM})),
    ("mesh", frozenset({KUBERNETES})),
    ("graph", BOTH),  # walks from workloads to cloud identities and stores
)


def rules_for(inputs: Iterable[str]) -> tuple[Rule, ...]:
    """The rules of every family that reads one of ``inputs`` (KUBERNETES, TERRAFORM), in documentation order."""
    wanted = set(inputs)
    return tuple(rule for module, reads in FAMILIES if reads & wanted
                 for rule in importlib.import_module(f"servegate.rules.{module}").rules.rules)


def __getattr__(name: str) -> Any:
    if name not in ("REGISTRY", "BY_ID"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    registry = rules_for(BOTH)
    by_id = {rule.id: rule for rule in registry}
    if len(by_id) != len(registry):
        raise RuntimeError("duplicate rule ids in the registry")
    globals().update(REGISTRY=registry, BY_ID=by_id)
    return globals()[name]
