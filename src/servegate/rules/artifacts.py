"""MLS-ART: model artifacts and load-time supply chain, as seen from Kubernetes manifests."""

from __future__ import annotations

from servegate.rules.base import RuleSet

rules = RuleSet("artifacts")
