"""The versioned JSON report. Version 1 is frozen: new keys may be added, none removed or renamed."""

from __future__ import annotations

import json
from collections import Counter

from servegate import __version__
from servegate.findings import Finding, Fix, Severity
from servegate.scan import ScanResult


def finding_dict(finding: Finding) -> dict:
    loc = finding.location
    return {
        "rule_id": finding.rule_id,
        "severity": finding.severity.label,
        "confidence": finding.confidence.label,
        "title": finding.title,
        "message": finding.message,
        "file": loc.file,
        "line": loc.line,
        "column": loc.column,
        "end_line": loc.end_line,
        "end_column": loc.end_column,
        "resource": finding.resource,
        "path": loc.path,
        "suppressed": finding.suppressed,
        "suppression": {"kind": finding.suppression, "justification": finding.justification}
        if finding.suppressed else None,
        "fingerprint": finding.fingerprint,
        "related": [
            {"file": r.location.file, "line": r.location.line, "path": r.location.path, "message": r.message}
            for r in finding.related
        ],
        "fixes": [fix_dict(fix) for fix in finding.fixes],
    }


def fix_dict(fix: Fix) -> dict:
    """A fix as text edits: 1-based positions (end column exclusive) and character offsets of the scanned text."""
    return {
        "title": fix.title,
        "applicability": fix.applicability.value,
        "edits": [{"file": e.file, "line": e.line, "column": e.column, "end_line": e.end_line,
                   "end_column": e.end_column, "offset": e.offset, "end_offset": e.end_offset, "text": e.text}
                  for e in fix.edits],
    }


def summary(result: ScanResult) -> dict:
    visible = [f for f in result.findings if not f.suppressed]
    by_severity = Counter(f.severity.label for f in visible)
    return {
        "files_scanned": result.files_scanned,
        "objects": result.objects,
        "rules": len(result.rules),
        "findings": len(visible),
        "suppressed": len(result.findings) - len(visible),
        "by_severity": {s.label: by_severity.get(s.label, 0) for s in reversed(Severity)},
        "errors": len(result.errors),
        "warnings": len(result.warnings),
        "skipped": len(result.skipped),
        "fixed": len(result.fixed),
    }


def render(result: ScanResult, show_suppressed: bool = False) -> str:
    report = {
        "version": 1,
        "tool": {"name": "servegate", "version": __version__},
        "findings": [finding_dict(f) for f in result.findings],
        "errors": [{"file": e.file, "line": e.line, "message": e.message} for e in result.errors],
        "warnings": [{"file": w.file, "line": w.line, "message": w.message} for w in result.warnings],
        "skipped": [{"file": s.file, "reason": s.reason} for s in result.skipped],
        "fixed": result.fixed,
        "summary": summary(result),
    }
    return json.dumps(report, indent=2, sort_keys=False) + "\n"
