"""Terminal output: findings grouped by file, worst first within a line, then a summary."""

from __future__ import annotations

import os
import sys
from itertools import groupby

from servegate.findings import Finding, Severity
from servegate.rules.base import Rule
from servegate.report.json_report import summary
from servegate.scan import ScanResult

COLOURS = {Severity.CRITICAL: "\033[1;31m", Severity.HIGH: "\033[31m", Severity.MEDIUM: "\033[33m",
           Severity.LOW: "\033[36m", Severity.INFO: "\033[2m"}
RESET, DIM, BOLD = "\033[0m", "\033[2m", "\033[1m"


def _use_colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def render(result: ScanResult, colour: bool | None = None, show_suppressed: bool = False) -> str:
    colour = _use_colour() if colour is None else colour

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{RESET}" if colour else text

    out: list[str] = []
    rules = {rule.id: rule for rule in result.rules}
    visible = [f for f in result.findings if show_suppressed or not f.suppressed]
    for file, group in groupby(visible, key=lambda f: f.location.file):
        out.append(paint(file, BOLD))
        for finding in group:
            out.extend(_finding_lines(finding, paint, rules))
        out.append("")
    for label, items, colour in (("error", result.errors, COLOURS[Severity.CRITICAL]),
                                 ("warning", result.warnings, COLOURS[Severity.MEDIUM])):
        for item in items:
            where = f"{item.file}:{item.line}" if item.line else item.file
            out.append(paint(label, colour) + f" {where}: {item.message}")
    for entry in result.fixed:
        out.append(paint("fixed", DIM) + f" {entry['file']}: {entry['rule_id']} {entry['message']}")
    if result.errors or result.warnings or result.fixed:
        out.append("")
    out.append(_summary_line(result, paint))
    return "\n".join(out) + "\n"


def _finding_lines(finding: Finding, paint, rules: dict[str, Rule]) -> list[str]:
    loc = finding.location
    severity = paint(f"{finding.severity.label:<8}", COLOURS[finding.severity])
    lines = [f"  {loc.line:>4}:{loc.column:<3} {severity} {finding.rule_id:<12} {finding.message}"]
    if finding.suppressed:
        lines[0] += paint(f"  [suppressed: {finding.justification}]", DIM)
    for related in finding.related:
        lines.append(paint(f"{'':18}-> {related.location.file}:{related.location.line} {related.message}", DIM))
    for fix in finding.fixes:  # an automatic fix says exactly what it changes (`servegate fix` applies it)
        lines.append(paint(f"{'':18}fix ({fix.applicability.value}): {fix.title}", DIM))
    rule = rules.get(finding.rule_id)
    if rule is not None and not finding.fixes:
        lines.append(paint(f"{'':18}fix: {_first_sentence(rule.remediation)}", DIM))
    return lines


def _first_sentence(text: str, limit: int = 150) -> str:
    """The gist of a remediation; `servegate explain ID` prints all of it."""
    text = " ".join(text.split())
    end = text.find(". ")
    sentence = text[: end + 1] if 0 < end < limit else text
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def _summary_line(result: ScanResult, paint) -> str:
    stats = summary(result)
    counts = ", ".join(f"{n} {label}" for label, n in stats["by_severity"].items() if n)
    parts = [f"{stats['findings']} findings" + (f" ({counts})" if counts else ""),
             f"{stats['files_scanned']} files, {stats['objects']} objects scanned"]
    if stats["suppressed"]:
        parts.append(f"{stats['suppressed']} suppressed")
    if result.errors:
        parts.append(paint(f"{len(result.errors)} input errors", COLOURS[Severity.CRITICAL]))
    reasons: dict[str, int] = {}
    for item in result.skipped:
        reasons[item.reason] = reasons.get(item.reason, 0) + 1
    skipped = "; ".join(f"{n} skipped: {reason}" for reason, n in sorted(reasons.items()))
    return " · ".join(parts) + (f"\n{skipped}" if skipped else "")
