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
_K8S, _TF, BOTH = frozenset({KUBERNETES}), frozenset({TERRAFORM}), frozenset({KUBERNETES, TERRAFORM})

# (module, the inputs its rules read), in documentation order.
FAMILIES: tuple[tuple[str, frozenset[str]], ...] = (
    ("model_servers", _K8S),
    ("ml_apps", _K8S),
    ("gpu_workloads", _K8S),
    ("network", _K8S),
    ("artifacts", _K8S),
    ("secrets", _K8S),
    ("k8s_hardening", _K8S),
    ("cloud_network", _TF),
    ("aws_ml", _TF),
    ("aws_cloud", _TF),
    ("azure", _TF),
    ("gcp", _TF),
    ("mesh", _K8S),
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
