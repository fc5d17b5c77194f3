"""Renderers: pure functions from a scan result to text. None of them knows a rule's logic."""

from __future__ import annotations

from typing import Callable

from servegate.scan import ScanResult


def renderer(name: str) -> Callable[[ScanResult], str]:
    if name == "json":
        from servegate.report.json_report import render
    elif name == "sarif":
        from servegate.report.sarif import render
    elif name == "text":
        from servegate.report.text import render
    else:
        raise ValueError(f"unknown format {name!r}")
    return render


FORMATS = ("text", "json", "sarif")
