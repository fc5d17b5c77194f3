"""MLS-NET: network exposure of model servers."""

from __future__ import annotations

from servegate.rules.base import RuleSet

rules = RuleSet("network")
