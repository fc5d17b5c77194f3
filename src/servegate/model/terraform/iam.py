"""AWS IAM policy documents, normalised: from jsonencode, heredoc JSON or ``aws_iam_policy_document``.

Questions rules ask: which actions does a statement allow on which resources, with wildcards and
NotAction/NotResource, and under which conditions?
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from servegate.model.terraform.values import Unknown, is_known
from servegate.sources.embedded import decode_json

if TYPE_CHECKING:
    from servegate.model.terraform.config import TfResource


@dataclass(frozen=True, slots=True)
class Statement:
    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    principals: tuple[str, ...] = ()  # "AWS:arn...", "Service:sagemaker.amazonaws.com", "*"
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (operator, key, values)
    index: int = 0  # position in the document, for locating findings

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    def allows_action(self, action: str) -> bool:
        """Does this statement's action part cover ``action`` (wildcards and NotAction included)?"""
        if self.not_actions:
            return not any(matches(pattern, action) for pattern in self.not_actions)
        return any(matches(pattern, action) for pattern in self.actions)

    def covers_resource(self, arn: str) -> bool:
        if self.not_resources:
            return not any(matches(pattern, arn, case=True) for pattern in self.not_resources)
        return any(matches(pattern, arn, case=True) for pattern in self.resources)

    def condition_keys(self) -> set[str]:
        return {key.lower() for _, key, _ in self.conditions}


def matches(pattern: str, value: str, case: bool = False) -> bool:
    """IAM wildcard matching: ``*`` any run, ``?`` one character; actions are case-insensitive."""
    if not case:
        pattern, value = pattern.lower(), value.lower()
    if "*" not in pattern and "?" not in pattern:
        return pattern == value
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


UNKNOWN_ITEM = "<unknown>"


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, (str, Unknown)):
        value = [value]
    if isinstance(value, list):
        return tuple(v if isinstance(v, str) else UNKNOWN_ITEM for v in value if isinstance(v, (str, Unknown)))
    return ()


def _principals(value: Any) -> tuple[str, ...]:
    if value == "*":
        return ("*",)
    if isinstance(value, dict):
        return tuple(f"{kind}:{ident}" for kind, ids in value.items() for ident in _strings(ids))
    return ()


def _conditions(value: Any) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        return ()
    out = []
    for operator, entries in value.items():
        if isinstance(entries, dict):
            out.extend((operator, key, _strings(values) or (json.dumps(values),)) for key, values in entries.items())
    return tuple(out)


def parse_policy(document: Any) -> list[Statement] | Unknown:
    """Statements of a policy given as a JSON string or an already-decoded object.

    Unknown leaves (an ARN known only after apply) become ``UNKNOWN_ITEM``; a wholly unknown
    document stays Unknown.
    """
    if isinstance(document, Unknown):
        if document.partial is None:
            return document
        document = document.partial
    if isinstance(document, str):
        try:
            document = decode_json(document)
        except ValueError:
            return Unknown("policy is not valid JSON")
    if not isinstance(document, dict) or isinstance(document.get("Statement"), Unknown):
        return Unknown("policy document is not known")
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    out = []
    for index, raw in enumerate(statements if isinstance(statements, list) else ()):
        if not isinstance(raw, dict):
            continue
        out.append(Statement(
            effect=str(raw.get("Effect", "")),
            actions=_strings(raw.get("Action")),
            not_actions=_strings(raw.get("NotAction")),
            resources=_strings(raw.get("Resource")),
            not_resources=_strings(raw.get("NotResource")),
            principals=_principals(raw.get("Principal")),
            conditions=_conditions(raw.get("Condition")),
            index=index,
        ))
    return out


def _document_from_blocks(resource: TfResource) -> dict:
    statements = []
    for block in resource.values.get("statement", []) or []:
        if not isinstance(block, dict):
            continue
        statement: dict[str, Any] = {"Effect": block.get("effect") or "Allow"}
        if block.get("sid"):
            statement["Sid"] = block["sid"]
        for key, field in (("Action", "actions"), ("NotAction", "not_actions"), ("Resource", "resources"),
                           ("NotResource", "not_resources")):
            if block.get(field) is not None:
                statement[key] = block[field]
        for key, field in (("Principal", "principals"), ("NotPrincipal", "not_principals")):
            principals: dict[str, list] = {}
            for p in block.get(field, []) or []:
                if isinstance(p, dict):
                    principals.setdefault(str(p.get("type")), []).extend(p.get("identifiers") or [])
            if principals:
                statement[key] = "*" if principals == {"*": ["*"]} else principals
        conditions: dict[str, dict[str, Any]] = {}
        for c in block.get("condition", []) or []:
            if isinstance(c, dict):
                conditions.setdefault(str(c.get("test")), {})[str(c.get("variable"))] = c.get("values")
        if conditions:
            statement["Condition"] = conditions
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def complete_data_source(resource: TfResource) -> None:
    """Fill the computed attributes a data source would have where they follow from its arguments."""
    if resource.type != "aws_iam_policy_document":
        return
    document = _document_from_blocks(resource)
    merged: list = []
    for source in resource.values.get("source_policy_documents") or []:
        try:
            parsed = decode_json(source) if isinstance(source, str) and is_known(source) else None
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            resource.values["json"] = Unknown("a source policy document is not known")
            return
        merged.extend(parsed.get("Statement", []))
    document["Statement"] = merged + document["Statement"]
    if not is_known(document):
        resource.values["json"] = Unknown("the policy document holds unknown values", f"{resource.address}.json",
                                         partial=document)
        return
    resource.values["json"] = json.dumps(document, indent=2)
    resource.values["minified_json"] = json.dumps(document, separators=(",", ":"))
