"""Conftest's reading of a rule's value, turned into servegate findings.

As Conftest does: a rule's value counts only when it is an array (a set of messages arrives as one); each string
in it is a message, each object a message in ``msg`` (a string, else the run fails) with the rest as metadata;
an empty message and any other value are a pass. A rule the namespace's ``exception`` rule names is exempted:
its results are kept, suppressed with that justification, like any accepted risk.

Metadata servegate reads: ``path`` (where in the document: a list of keys and indexes, or text such as
``spec.template.spec.containers[0].image``; in ``--combine`` mode its first step is the index of the document in
``input``, optionally followed by ``"contents"``), ``file`` (in ``--combine`` mode, the document's path when
the path gives no index) and ``severity`` (this result's severity, instead of the rule's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from servegate.findings import Finding, Location, Severity
from servegate.policy.inputs import Document, parse_path
from servegate.policy.rules import PolicyRule


class ResultError(Exception):
    """A result Conftest would refuse too (an object without a string ``msg``)."""


@dataclass(frozen=True)
class Result:
    message: str
    metadata: dict[str, Any]


def results(value: Any, rule: PolicyRule) -> list[Result]:
    if not isinstance(value, list):
        return []
    out: list[Result] = []
    for item in value:
        if isinstance(item, str):
            if item:
                out.append(Result(item, {}))
        elif isinstance(item, dict):
            message = item.get("msg")
            if not isinstance(message, str):
                problem = "has no `msg` field" if "msg" not in item else "has a `msg` that is not a string"
                raise ResultError(f"rule {rule.namespace}.{rule.rule} ({', '.join(rule.files)}) returned a result "
                                  f"that {problem}: {item!r}")
            if message:
                out.append(Result(message, {k: v for k, v in item.items() if k != "msg"}))
    return out


def finding(rule: PolicyRule, result: Result, docs: list[Document], combined: bool, exempted: bool) -> Finding:
    document, path = _target(result.metadata, docs, combined)
    location, resource = document.locate(path or (), result.message) if document else (Location("<combined>", 1), "")
    severity = rule.severity
    if isinstance(result.metadata.get("severity"), str):
        try:
            severity = Severity.parse(result.metadata["severity"])
        except ValueError:
            pass
    return Finding(
        rule_id=rule.id, title=rule.title, severity=severity, confidence=rule.confidence, message=result.message,
        location=location, resource=resource, suppressed=exempted, suppression="exception" if exempted else "",
        justification=f"exempted by data.{rule.namespace}.exception" if exempted else "",
    )


def _target(metadata: dict[str, Any], docs: list[Document],
            combined: bool) -> tuple[Document | None, tuple[str | int, ...] | None]:
    path = parse_path(metadata.get("path"))
    if not combined:
        return docs[0], path
    if path and isinstance(path[0], int) and 0 <= path[0] < len(docs):
        rest = path[1:]
        return docs[path[0]], rest[1:] if rest[:1] == ("contents",) else rest
    named = [d for d in docs if d.file == metadata.get("file")]
    if named:
        return named[0], path
    return (docs[0] if docs else None), None
