"""The rule registry: every family, listed explicitly, in documentation order."""

from __future__ import annotations

from servegate.rules import k8s_hardening
from servegate.rules.base import Rule

FAMILIES = (k8s_hardening.rules,)

REGISTRY: tuple[Rule, ...] = tuple(rule for family in FAMILIES for rule in family)
BY_ID: dict[str, Rule] = {rule.id: rule for rule in REGISTRY}

if len(BY_ID) != len(REGISTRY):
    raise RuntimeError("duplicate rule ids in the registry")
