"""SARIF 2.1.0, emitted as plain dicts and validated against the official schema in the tests."""

from __future__ import annotations

import json

from servegate import __version__
from servegate.findings import Confidence, Finding, Fix, Location, Severity
from servegate.report.rule_docs import rule_markdown, rule_text
from servegate.rules.base import Rule
from servegate.scan import ScanResult

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note",
          Severity.INFO: "note"}
PRECISION = {Confidence.HIGH: "high", Confidence.MEDIUM: "medium", Confidence.LOW: "low"}


def _rule(rule: Rule) -> dict:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": " ".join(rule.rationale.split())},
        "help": {"text": rule_text(rule), "markdown": rule_markdown(rule)},
        "helpUri": rule.help_uri,
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "security-severity": rule.severity.security_severity,
            "precision": PRECISION[rule.confidence],
            "tags": ["security", rule.family],
        },
    }


def _physical(location: Location) -> dict:
    region = {"startLine": location.line, "startColumn": location.column}
    if location.end_line:
        region["endLine"] = location.end_line
    if location.end_column and location.end_line == location.line:
        region["endColumn"] = max(location.end_column, location.column + 1)
    return {"artifactLocation": {"uri": location.file, "uriBaseId": "%SRCROOT%"}, "region": region}


def _fix(fix: Fix) -> dict:
    """SARIF's fix: one artifactChange per file, each edit a replacement (an insertion deletes nothing)."""
    changes: dict[str, list[dict]] = {}
    for edit in fix.edits:
        region = {"startLine": edit.line, "startColumn": edit.column, "endLine": edit.end_line,
                  "endColumn": edit.end_column}
        changes.setdefault(edit.file, []).append({"deletedRegion": region, "insertedContent": {"text": edit.text}})
    return {
        "description": {"text": f"{fix.title} ({fix.applicability.value})"},
        "artifactChanges": [{"artifactLocation": {"uri": file, "uriBaseId": "%SRCROOT%"}, "replacements": replacements}
                            for file, replacements in changes.items()],
        "properties": {"applicability": fix.applicability.value},
    }


def _result(finding: Finding, index: dict[str, int]) -> dict:
    result = {
        "ruleId": finding.rule_id,
        "ruleIndex": index[finding.rule_id],
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [{
            "physicalLocation": _physical(finding.location),
            "logicalLocations": [{"fullyQualifiedName": f"{finding.resource}:{finding.location.path}",
                                  "kind": "resource"}],
        }],
        "partialFingerprints": {"servegate/v1": finding.fingerprint},
        "properties": {"severity": finding.severity.label, "confidence": finding.confidence.label,
                       "security-severity": finding.severity.security_severity},
    }
    if finding.related:
        result["relatedLocations"] = [
            {"id": i + 1, "physicalLocation": _physical(r.location), "message": {"text": r.message}}
            for i, r in enumerate(finding.related)
        ]
    if finding.fixes:
        result["fixes"] = [_fix(fix) for fix in finding.fixes]
    if finding.suppressed:
        kind = "inSource" if finding.suppression in ("inline", "annotation") else "external"
        result["suppressions"] = [{"kind": kind, "status": "accepted",
                                   "justification": finding.justification or "no reason given"}]
    return result


def render(result: ScanResult, show_suppressed: bool = False) -> str:
    rules = sorted({r.id: r for r in result.rules}.values(), key=lambda r: r.id)
    index = {rule.id: i for i, rule in enumerate(rules)}
    notifications = [
        {"level": level, "message": {"text": f"{e.file}:{e.line}: {e.message}" if e.line else f"{e.file}: {e.message}"},
         **({"locations": [{"physicalLocation": _physical(Location(e.file, max(e.line, 1)))}]}
            if e.file and not e.file.startswith("<") else {})}
        for level, items in (("error", result.errors), ("warning", result.warnings)) for e in items
    ]
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "servegate",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": "https://servegate.dev",
                "rules": [_rule(rule) for rule in rules],
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": result.root.as_uri() + "/"}},
            "invocations": [{"executionSuccessful": not result.errors, "toolExecutionNotifications": notifications}],
            "results": [_result(f, index) for f in result.findings if f.rule_id in index],
            "columnKind": "unicodeCodePoints",
        }],
    }
    return json.dumps(log, indent=2) + "\n"
