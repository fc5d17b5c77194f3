"""A pull-request summary in Markdown: counts by severity, then the findings, worst first."""

from __future__ import annotations

from servegate.findings import Severity
from servegate.report.json_report import summary
from servegate.scan import ScanResult

ICONS = {Severity.CRITICAL: "🟥", Severity.HIGH: "🟧", Severity.MEDIUM: "🟨", Severity.LOW: "🟦", Severity.INFO: "⬜"}
MAX_ROWS = 200


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(result: ScanResult, show_suppressed: bool = False) -> str:
    stats = summary(result)
    counts = " · ".join(f"{ICONS[Severity.parse(label)]} {n} {label}" for label, n in stats["by_severity"].items() if n)
    lines = ["## servegate", "", f"**{stats['findings']} findings** in {stats['files_scanned']} files"
             + (f": {counts}" if counts else "") + (f" · {stats['suppressed']} suppressed" if stats["suppressed"] else "")]
    if result.errors:
        lines += ["", f"**{len(result.errors)} inputs could not be read** (the run fails):", ""]
        lines += [f"- `{e.file}:{e.line}` {_cell(e.message)}" for e in result.errors]
    findings = sorted((f for f in result.findings if show_suppressed or not f.suppressed),
                      key=lambda f: (-f.severity, f.sort_key()))
    if findings:
        lines += ["", "| severity | rule | location | finding |", "|---|---|---|---|"]
        for f in findings[:MAX_ROWS]:
            lines.append(f"| {ICONS[f.severity]} {f.severity.label} | `{f.rule_id}` | "
                         f"`{_cell(f.location.file)}:{f.location.line}` | {_cell(f.message)} |")
        if len(findings) > MAX_ROWS:
            lines.append(f"\n…and {len(findings) - MAX_ROWS} more (see the SARIF or JSON report).")
    return "\n".join(lines) + "\n"
