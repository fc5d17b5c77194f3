"""MLS-SRV-009..020: MLflow, Jupyter, LLM servers (vLLM, SGLang, TGI, TEI, Ollama), browser ML apps, KServe
visibility and known-vulnerable versions."""

from __future__ import annotations

from servegate.rules.base import RuleSet

rules = RuleSet("ml-apps")
