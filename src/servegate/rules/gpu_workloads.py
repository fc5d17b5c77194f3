"""MLS-K8S: hardening of GPU inference workloads, with ML-specific remediation."""

from __future__ import annotations

from servegate.rules.base import RuleSet

rules = RuleSet("gpu-workloads")
