"""MLS-SRV-001..008: TorchServe, Triton, TensorFlow Serving and Ray control planes."""

from __future__ import annotations

from servegate.rules.base import RuleSet

rules = RuleSet("model-servers")
