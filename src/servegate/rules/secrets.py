"""MLS-SEC: model-hub, LLM and cloud credentials in manifests."""

from __future__ import annotations

from servegate.rules.base import RuleSet

rules = RuleSet("secrets")
