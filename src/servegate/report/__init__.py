"""Renderers: pure functions from a scan result to text. None of them knows a rule's logic."""

from __future__ import annotations

import importlib
from typing import Callable

MODULES = {"text": "text", "json": "json_report", "sarif": "sarif", "junit": "junit", "github": "github",
           "markdown": "markdown", "html": "html"}


def renderer(name: str) -> Callable[..., str]:
    """``render(result, show_suppressed=False) -> str`` of the named format (imported only when used)."""
    if name not in MODULES:
        raise ValueError(f"unknown format {name!r}")
    return importlib.import_module(f"servegate.report.{MODULES[name]}").render
