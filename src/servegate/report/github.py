"""GitHub Actions workflow commands: each finding becomes an annotation on the pull request's diff."""

from __future__ import annotations

from servegate.findings import Severity
from servegate.scan import ScanResult

LEVELS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "notice",
          Severity.INFO: "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(result: ScanResult, show_suppressed: bool = False) -> str:
    lines = []
    for f in result.findings:
        if f.suppressed:
            continue
        loc = f.location
        props = f"file={_escape_property(loc.file)},line={loc.line},endLine={loc.end_line or loc.line}," \
                f"col={loc.column},title={_escape_property(f'{f.rule_id} {f.title}')}"
        lines.append(f"::{LEVELS[f.severity]} {props}::{_escape_data(f.message)}")
    for error in result.errors:
        lines.append(f"::error file={_escape_property(error.file)},line={max(error.line, 1)},"
                     f"title=servegate input error::{_escape_data(error.message)}")
    for warning in result.warnings:
        lines.append(f"::warning file={_escape_property(warning.file)},line={max(warning.line, 1)},"
                     f"title=servegate::{_escape_data(warning.message)}")
    return "\n".join(lines) + ("\n" if lines else "")
