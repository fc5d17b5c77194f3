"""One AdmissionReview (``admission.k8s.io/v1``) in, one out.

The object of a request is judged as ``servegate scan`` judges a manifest that holds it alone: turned into the
located tree a loader makes of a file (positions as in the object printed as indented JSON), so every view and
symbolic path works unchanged, then checked by the built-in Kubernetes rules that look at one object at a time
(scopes CONTAINER, POD and OBJECT) and by any other ``Check`` (custom policies, which see it as Conftest gives
them a JSON manifest), with the scan's suppression annotations, ``[[suppress]]`` entries and severity overrides.
Nothing here does I/O: the server hands in bytes and sends back the document it gets.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from servegate.admit.settings import AdmitSettings
from servegate.findings import Finding, InputError
from servegate.model.k8s import Inventory, K8sObject, is_wanted_document, objects_in
from servegate.rules.base import Rule, Scope
from servegate.evaluate import evaluate
from servegate.sources.located import TooDeep, located_from_plain
from servegate.sources.yaml_loader import MAX_DEPTH
from servegate.suppression import ConfigSuppression, Suppressions

if TYPE_CHECKING:
    from servegate.policy import PolicySet

API_VERSION = "admission.k8s.io/v1"
OBJECT_SCOPES = frozenset({Scope.CONTAINER, Scope.POD, Scope.OBJECT})
JUDGED_OPERATIONS = frozenset({"CREATE", "UPDATE"})
MAX_WARNING_CHARS = 256  # the API server may cut longer warnings
MAX_WARNING_TOTAL = 4096  # and drops warnings past this many characters in all
MAX_HINT_CHARS = 150
_NUMBERS = re.compile(r"(\d+)")


class BadReview(ValueError):
    """The body is not an AdmissionReview this webhook can answer; ``uid`` is the request's, when it named one."""

    def __init__(self, message: str, uid: str = "") -> None:
        super().__init__(message)
        self.uid = uid


class CheckFailed(Exception):
    """A rule or policy broke on the object: there is no verdict, so the server answers with an error and the
    webhook configuration's failurePolicy decides."""


@dataclass(frozen=True)
class AdmissionRequest:
    uid: str
    operation: str
    kind: str  # request.kind.kind: what the API server is admitting
    namespace: str
    name: str
    user: str
    object: dict[str, Any] | None
    dry_run: bool  # the client's server-side dry run (kubectl --dry-run=server): nothing will be persisted


@dataclass(frozen=True)
class Admitted:
    """The object under review, as checks see it."""

    file: str  # admission/<namespace>/<kind>/<name>: what findings and [[suppress]] paths name
    ref: str  # Kind/namespace/name, as findings name the object
    contents: dict[str, Any]  # the object as plain JSON values: what policies read
    located: Any  # the same, located (LDict), or None when it is too deep to read
    objects: tuple[K8sObject, ...]  # the Kubernetes objects in it (nothing for kinds no rule reads)


# A check judges one admitted object: its findings, and the errors of rules that broke.
Check = Callable[[Admitted], tuple[list[Finding], list[InputError]]]


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    message: str = ""  # why the object is refused: the AdmissionReview's status.message
    warnings: tuple[str, ...] = ()  # the AdmissionReview's warnings
    denying: tuple[Finding, ...] = ()  # in dry-run mode these deny nothing
    warning: tuple[Finding, ...] = ()
    suppressed: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()  # suppressions without a reason or matching nothing: for the log
    skipped: str = ""  # why the object was not judged


def parse_review(body: bytes) -> AdmissionRequest:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadReview(f"the body is not JSON: {exc}") from None
    except RecursionError:  # the API server's own decoder never passes such a body on
        raise BadReview("the body nests arrays or objects too deeply to be read") from None
    request = document.get("request") if isinstance(document, dict) else None
    uid = request.get("uid") if isinstance(request, dict) else None
    uid = uid if isinstance(uid, str) else ""
    if not isinstance(document, dict) or document.get("kind") != "AdmissionReview":
        raise BadReview("the body is not an AdmissionReview", uid)
    if document.get("apiVersion") != API_VERSION:
        raise BadReview(f"AdmissionReview {document.get('apiVersion')!r} is not supported: list only "
                        f"{API_VERSION.rpartition('/')[2]!r} in the webhook's admissionReviewVersions", uid)
    if not isinstance(request, dict) or not uid:
        raise BadReview("the AdmissionReview has no request with a uid", uid)
    operation = request.get("operation")
    obj = request.get("object")
    if not isinstance(operation, str):
        raise BadReview("request.operation is missing", uid)
    if operation in JUDGED_OPERATIONS and not isinstance(obj, dict):
        raise BadReview(f"a {operation} request must carry its object in request.object", uid)
    kind = request.get("kind")
    user = request.get("userInfo")
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    metadata = metadata if isinstance(metadata, dict) else {}
    name = request.get("name") or metadata.get("name") or metadata.get("generateName") or ""  # CREATE may name none
    return AdmissionRequest(
        uid=uid, operation=operation,
        kind=str(kind.get("kind", "")) if isinstance(kind, dict) else "",
        namespace=str(request.get("namespace") or ""), name=str(name),
        user=str(user.get("username", "")) if isinstance(user, dict) else "",
        object=obj if isinstance(obj, dict) else None, dry_run=request.get("dryRun") is True,
    )


def admission_rules(rules: Iterable[Rule], skip: Iterable[str] = ()) -> tuple[Rule, ...]:
    """The Kubernetes rules that judge one object at a time, without those whose id starts with ``skip``."""
    skipped = tuple(s.upper() for s in skip)
    return tuple(r for r in rules if r.scope in OBJECT_SCOPES and not (skipped and r.id.startswith(skipped)))


def rule_check(rules: Sequence[Rule]) -> Check:
    """The built-in rules over a one-object inventory, through the scan's own ``evaluate``."""
    def check(admitted: Admitted) -> tuple[list[Finding], list[InputError]]:
        return evaluate(Inventory.of(admitted.objects), rules)

    return check


def policy_check(policies: PolicySet) -> Check:
    """Custom Rego policies over the object's JSON, as ``servegate scan`` gives them a JSON manifest.

    Their OPA worker answers one query at a time, so request threads take turns.
    """
    from servegate.policy.inputs import Document

    turn = threading.Lock()

    def check(admitted: Admitted) -> tuple[list[Finding], list[InputError]]:
        document = Document(admitted.file, "json", admitted.contents, admitted.located)
        with turn:
            return policies.evaluate_documents([document])

    return check


class Reviewer:
    """Judges admission requests. Holds no per-request state, so server threads share one."""

    def __init__(self, settings: AdmitSettings, checks: Sequence[Check], rules: Iterable[Rule],
                 suppress: Sequence[ConfigSuppression] = (), severity_overrides: Mapping[str, Any] | None = None):
        self.settings = settings
        self.checks = tuple(checks)
        self.hints = {rule.id: remediation_gist(rule.remediation) for rule in rules}
        self.suppress = tuple(suppress)
        self.severity_overrides = dict(severity_overrides or {})

    def judge(self, request: AdmissionRequest) -> Verdict:
        if request.operation not in JUDGED_OPERATIONS or request.object is None:
            return Verdict(True, skipped=f"{request.operation} requests are not judged")
        if request.namespace in self.settings.exclude_namespaces:
            return Verdict(True, skipped=f"namespace {request.namespace} is excluded")
        metadata = request.object.get("metadata")
        if isinstance(metadata, dict) and metadata.get("deletionTimestamp"):
            # Controllers remove finalizers with UPDATEs: refusing them would leave the object stuck in deletion.
            return Verdict(True, skipped="the object is being deleted")
        admitted, error = self.admitted(request)
        if error:
            return self._verdict_on_unreadable(admitted, error)
        findings: list[Finding] = []
        for check in self.checks:
            found, errors = check(admitted)
            if errors:
                raise CheckFailed("; ".join(e.message for e in errors))
            findings.extend(found)
        suppressions = Suppressions(
            annotations={obj.ref: obj.annotations for obj in admitted.objects},
            configured=[dataclasses.replace(entry) for entry in self.suppress],  # `used` is per request
            severity_overrides=self.severity_overrides,
        )
        judged, notes, _ = suppressions.apply(findings, set(), {admitted.file})
        judged.sort(key=_worst_first)
        live = [f for f in judged if not f.suppressed]
        denying = tuple(f for f in live if f.severity in self.settings.deny)
        warning = tuple(f for f in live if f.severity in self.settings.warn)
        suppressed = tuple(f for f in judged if f.suppressed)
        note_texts = tuple(f"{n.file}: {n.message}" for n in notes)
        warnings = [_warning_line(f) for f in warning]
        if denying and not self.settings.dry_run:
            return Verdict(False, self.denial_message(admitted.ref, denying), _within_budget(warnings), denying,
                           warning, suppressed, note_texts)
        would_deny = [f"dry-run, would deny: {_warning_line(f)}" for f in denying]
        return Verdict(True, "", _within_budget(would_deny + warnings), denying, warning, suppressed, note_texts)

    def admitted(self, request: AdmissionRequest) -> tuple[Admitted, str]:
        """The request's object read like a JSON manifest, or why it cannot be."""
        obj = dict(request.object or {})
        metadata = obj.get("metadata")
        metadata = dict(metadata) if isinstance(metadata, dict) else {}
        if request.namespace and not metadata.get("namespace"):
            metadata["namespace"] = request.namespace  # `kubectl apply -n` leaves it to the request
            obj["metadata"] = metadata
        name = metadata.get("name") or metadata.get("generateName") or request.name or "-"
        kind, namespace = obj.get("kind") or request.kind or "-", metadata.get("namespace") or ""
        file = f"admission/{namespace or '-'}/{kind}/{name}"
        try:
            located = located_from_plain(obj, MAX_DEPTH)
        except TooDeep as exc:
            located, error = None, f"{exc}, starting at line 1"
        else:
            error = ""
        wanted = located is not None and is_wanted_document(str(obj.get("kind") or ""),
                                                            str(obj.get("apiVersion") or ""))
        objects = tuple(objects_in(file, located)) if wanted else ()
        ref = objects[0].ref if objects else "/".join(part for part in (kind, namespace, name) if part)
        return Admitted(file, ref, obj, located, objects), error

    def denial_message(self, ref: str, findings: Sequence[Finding]) -> str:
        levels = " or ".join(s.label for s in sorted(self.settings.deny))
        lines = [f"{ref}: servegate found {len(findings)} problem{'s' if len(findings) != 1 else ''} "
                 f"of severity {levels}:"]
        for f in findings:
            lines.append(f"- {f.rule_id} ({f.severity.label}) at {f.location.path or '<object>'}: {f.message}")
            hint = self.hints.get(f.rule_id)
            if hint:
                lines.append(f"  fix: {hint}")
        return "\n".join(lines)

    def _verdict_on_unreadable(self, admitted: Admitted, error: str) -> Verdict:
        """An object the scanner cannot read fails the gate, as an unreadable manifest fails a scan."""
        message = f"{admitted.file}: servegate cannot read the object: {error}"
        if self.settings.dry_run:
            return Verdict(True, warnings=(_cut(f"dry-run, would deny: {message}", MAX_WARNING_CHARS),))
        return Verdict(False, message)


def review_document(uid: str, verdict: Verdict) -> dict[str, Any]:
    response: dict[str, Any] = {"uid": uid, "allowed": verdict.allowed}
    if not verdict.allowed:
        response["status"] = {"code": 403, "reason": "Forbidden", "message": verdict.message}
    if verdict.warnings:
        response["warnings"] = list(verdict.warnings)
    return {"apiVersion": API_VERSION, "kind": "AdmissionReview", "response": response}


def error_document(uid: str, code: int, message: str) -> dict[str, Any]:
    """The answer to a request that could not be judged (sent with the same HTTP status)."""
    return {"apiVersion": API_VERSION, "kind": "AdmissionReview",
            "response": {"uid": uid, "allowed": False, "status": {"code": code, "message": message}}}


def remediation_gist(text: str) -> str:
    """The first sentence of a rule's remediation; `servegate explain ID` prints all of it."""
    text = " ".join(text.split())
    end = text.find(". ")
    return _cut(text[: end + 1] if 0 < end < MAX_HINT_CHARS else text, MAX_HINT_CHARS)


def _worst_first(f: Finding) -> tuple:
    """Severity, then place in the object (containers[2] before containers[10]), then rule."""
    steps = tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in _NUMBERS.split(f.location.path))
    return -f.severity, steps, f.rule_id, f.message


def _warning_line(f: Finding) -> str:
    return _cut(f"{f.rule_id} ({f.severity.label}) at {f.location.path or '<object>'}: {f.message}",
                MAX_WARNING_CHARS)


def _within_budget(lines: list[str]) -> tuple[str, ...]:
    """As many warnings as the API server passes on, and a last one saying how many were left out."""
    kept: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        rest = len(lines) - index
        tail = f"... and {rest} more servegate warnings (see the webhook's log)"
        if used + len(line) + (len(tail) if rest > 1 else 0) > MAX_WARNING_TOTAL:
            kept.append(tail)
            break
        kept.append(line)
        used += len(line)
    return tuple(kept)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."
