"""Accepted risks, with an audit trail: inline comments, Kubernetes annotations, configuration entries
and baselines. Suppressed findings stay in JSON and SARIF with their justification; suppressions
without a reason, or that match nothing, are reported as warnings.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from servegate.findings import Finding, InputError, Severity

# `# servegate:ignore[MLS-K8S-001,KUBE-020] the GPU operator needs it`, in YAML and HCL comments.
DIRECTIVE = re.compile(r"(?:#|//)\s*servegate:ignore\[([A-Za-z0-9_*,\s-]+)\]\s*(.*?)\s*$")
# `ignore.servegate.dev/MLS-K8S-001: "the GPU operator needs it"` on a Kubernetes object.
ANNOTATION_PREFIX = "ignore.servegate.dev/"


@dataclass
class Directive:
    file: str
    line: int
    rule_ids: tuple[str, ...]
    reason: str
    standalone: bool  # a comment alone on its line covers the next line
    used: bool = False

    def covers(self, finding: Finding) -> bool:
        loc = finding.location
        if loc.file != self.file or not (loc.line == self.line or (self.standalone and loc.line == self.line + 1)):
            return False
        return "*" in self.rule_ids or finding.rule_id in self.rule_ids


def directives_in(file: str, text: str) -> list[Directive]:
    if "servegate:ignore" not in text:
        return []
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = DIRECTIVE.search(line)
        if match:
            ids = tuple(part.strip().upper() for part in match.group(1).split(",") if part.strip())
            standalone = line.lstrip().startswith(("#", "//"))
            found.append(Directive(file, number, ids, match.group(2), standalone))
    return found


@dataclass
class ConfigSuppression:
    rule: str
    path: str = "*"
    reason: str = ""
    used: bool = False

    def covers(self, finding: Finding) -> bool:
        rule_ok = self.rule == "*" or finding.rule_id == self.rule or finding.rule_id.startswith(self.rule + "-")
        return rule_ok and (fnmatch.fnmatchcase(finding.location.file, self.path)
                            or fnmatch.fnmatchcase(finding.location.file, self.path.rstrip("/") + "/*"))


@dataclass
class Baseline:
    """Findings accepted at some point, by fingerprint (which survives inserted lines)."""

    entries: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Baseline:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("findings"), list):
            raise ValueError(f"{path}: not a servegate baseline (version 1)")
        return cls({entry["fingerprint"]: entry for entry in data["findings"] if isinstance(entry, dict)
                    and isinstance(entry.get("fingerprint"), str)})

    @staticmethod
    def render(findings: Iterable[Finding]) -> str:
        entries = [{"fingerprint": f.fingerprint, "rule_id": f.rule_id, "file": f.location.file,
                    "resource": f.resource, "path": f.location.path, "message": f.message}
                   for f in findings if not f.suppressed]
        entries.sort(key=lambda e: (e["file"], e["rule_id"], e["resource"], e["path"]))
        return json.dumps({"version": 1, "tool": "servegate", "findings": entries}, indent=2) + "\n"


@dataclass
class Suppressions:
    directives: list[Directive] = field(default_factory=list)
    annotations: dict[str, dict] = field(default_factory=dict)  # resource -> its annotations
    configured: list[ConfigSuppression] = field(default_factory=list)
    severity_overrides: dict[str, Severity] = field(default_factory=dict)
    baseline: Baseline | None = None

    def apply(self, findings: list[Finding], rule_ids: set[str],
              files: set[str]) -> tuple[list[Finding], list[InputError], list[dict]]:
        """The findings with severities overridden and suppressions marked; warnings; baseline entries
        no longer found (fixed) among the rules that ran on the files that were scanned."""
        out: list[Finding] = []
        seen_fingerprints: set[str] = set()
        used_annotations: set[tuple[str, str]] = set()
        for finding in findings:
            if finding.rule_id in self.severity_overrides:
                finding = dataclasses.replace(finding, severity=self.severity_overrides[finding.rule_id])
            if self.baseline is not None:  # a fingerprint is a hash: only a baseline needs it
                seen_fingerprints.add(finding.fingerprint)
            how, reason = self._why_suppressed(finding, used_annotations)
            if how:
                finding = dataclasses.replace(finding, suppressed=True, suppression=how, justification=reason)
            out.append(finding)
        warnings = self._warnings(used_annotations)
        fixed = [e for fp, e in self.baseline.entries.items() if fp not in seen_fingerprints
                 and e.get("rule_id") in rule_ids and e.get("file") in files] if self.baseline else []
        return out, warnings, fixed

    def _why_suppressed(self, finding: Finding, used_annotations: set[tuple[str, str]]) -> tuple[str, str]:
        for directive in self.directives:
            if directive.covers(finding):
                directive.used = True
                return "inline", directive.reason
        annotations = self.annotations.get(finding.resource, {})
        key = ANNOTATION_PREFIX + finding.rule_id
        if key in annotations:
            used_annotations.add((finding.resource, finding.rule_id))
            return "annotation", str(annotations[key] or "")
        for entry in self.configured:
            if entry.covers(finding):
                entry.used = True
                return "config", entry.reason
        if self.baseline is not None and finding.fingerprint in self.baseline.entries:
            return "baseline", "accepted in the baseline"
        return "", ""

    def _warnings(self, used_annotations: set[tuple[str, str]]) -> list[InputError]:
        warnings = []
        for d in self.directives:
            ids = ",".join(d.rule_ids)
            if not d.reason:
                warnings.append(InputError(d.file, d.line, f"suppression of {ids} gives no reason"))
            if not d.used:
                warnings.append(InputError(d.file, d.line, f"suppression of {ids} matches no finding"))
        for resource, on_resource in sorted(self.annotations.items()):
            for key, reason in on_resource.items():
                if not isinstance(key, str) or not key.startswith(ANNOTATION_PREFIX):
                    continue
                rule = key.removeprefix(ANNOTATION_PREFIX)
                if not reason:
                    warnings.append(InputError(resource, 0, f"annotation {key} gives no reason"))
                if (resource, rule) not in used_annotations:
                    warnings.append(InputError(resource, 0, f"annotation {key} matches no finding"))
        for entry in self.configured:
            if not entry.reason:
                warnings.append(InputError("<config>", 0, f"suppression of {entry.rule} at {entry.path} gives no reason"))
            if not entry.used:
                warnings.append(InputError("<config>", 0, f"suppression of {entry.rule} at {entry.path} matches no finding"))
        return warnings
