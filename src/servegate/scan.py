"""The scan pipeline: discover -> load -> model -> rules -> findings."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from servegate.discover import SourceFile, discover, scan_root
from servegate.findings import Finding, InputError, Related, Severity, Skipped
from servegate.model.k8s import UNREAD_KINDS, Inventory, K8sObject, is_wanted_document, objects_in
from servegate.model.terraform.inventory import TfInventory
from servegate.model.terraform.kubernetes import as_kubernetes_object
from servegate.model.terraform.plan import PlanResource, looks_like_plan, merge_plan, plan_resources
from servegate.model.terraform.values import VariableInputs
from servegate.model.workloads import pod_specs
from servegate.rules import REGISTRY
from servegate.rules.base import Hit, Located, Rule, Scope
from servegate.suppression import ANNOTATION_PREFIX, Baseline, ConfigSuppression, Directive, Suppressions, directives_in
from servegate.sources.yaml_loader import blank_documents_of_kinds, load_documents, load_json_documents

DEFAULT_MAX_FILE_SIZE = 20 * 1024 * 1024


@dataclass(frozen=True)
class ScanOptions:
    rules: tuple[Rule, ...] = tuple(REGISTRY)
    terraform: VariableInputs = field(default_factory=lambda: VariableInputs())
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    follow_outside_links: bool = False
    exclude: tuple[str, ...] = ()  # glob patterns on paths relative to the scan root
    suppress: tuple[ConfigSuppression, ...] = ()
    severity_overrides: dict[str, Severity] = field(default_factory=dict)
    baseline: Baseline | None = None
    stdin: tuple[tuple[str, str], ...] = ()  # (name, text) of manifests read from standard input
    progress: Callable[[int, int], None] | None = None  # called with (files read, files in all)


@dataclass
class ScanResult:
    root: Path
    findings: list[Finding] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[InputError] = field(default_factory=list)  # reported, never failing the run
    fixed: list[dict] = field(default_factory=list)  # baseline entries no longer found
    files_scanned: int = 0
    objects: int = 0
    rules: tuple[Rule, ...] = ()


def select_rules(select: Iterable[str] = (), ignore: Iterable[str] = ()) -> tuple[Rule, ...]:
    """Rules whose id starts with one of ``select`` (all when empty) and with none of ``ignore``."""
    select, ignore = tuple(s.upper() for s in select), tuple(s.upper() for s in ignore)
    return tuple(rule for rule in REGISTRY
                 if (not select or rule.id.startswith(select)) and not (ignore and rule.id.startswith(ignore)))


def read_text(source: SourceFile, max_size: int) -> str | InputError:
    try:
        size = source.path.stat().st_size
        if size > max_size:
            return InputError(source.display, 0, f"file is {size} bytes, over the {max_size}-byte limit; not scanned")
        raw = source.path.read_bytes()
    except OSError as exc:
        return InputError(source.display, 0, f"cannot read file: {exc.strerror or exc}")
    if len(raw) > max_size:  # it grew while we looked
        return InputError(source.display, 0, f"file grew over the {max_size}-byte limit while being read; not scanned")
    if b"\0" in raw:
        return InputError(source.display, 0, "binary content (NUL bytes) in a file with an IaC extension; not scanned")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return InputError(source.display, line, f"not valid UTF-8 (byte {exc.start}); not scanned")


def load_objects(source: SourceFile, text: str) -> tuple[list[K8sObject], InputError | None]:
    if source.kind == "json":
        documents, error = load_json_documents(text, is_wanted_document)
    else:
        documents, error = load_documents(blank_documents_of_kinds(text, UNREAD_KINDS), is_wanted_document)
    objects = [obj for doc in documents for obj in objects_in(source.display, doc.data)]
    if error is None:
        return objects, None
    message = error.message
    if "{{" in text:
        message += " (the file holds template syntax `{{ }}`: render it first, or leave it out with --exclude)"
    return objects, InputError(source.display, error.line, message)


def scan(paths: list[Path], options: ScanOptions = ScanOptions()) -> ScanResult:
    root = scan_root(paths) if paths else Path.cwd()  # only standard input: nothing to walk
    files, skipped = discover(paths, root, options.follow_outside_links, options.exclude) if paths else ([], [])
    result = ScanResult(root=root, skipped=skipped, rules=options.rules)
    objects: list[K8sObject] = []
    terraform_files: list[tuple[Path, str, str]] = []
    planned: list[PlanResource] = []
    directives: list[Directive] = []
    scanned: set[str] = set()
    stdin = [(SourceFile(root / name, name, "json" if name.endswith(".json") else "yaml"), text)
             for name, text in options.stdin]
    sources = [(f, None) for f in files] + stdin
    for count, (source, text) in enumerate(sources, start=1):
        if options.progress is not None:
            options.progress(count, len(sources))
        if text is None:
            text = read_text(source, options.max_file_size)
        if isinstance(text, InputError):
            result.errors.append(text)
            continue
        result.files_scanned += 1
        scanned.add(source.display)
        directives.extend(directives_in(source.display, text))
        if source.kind == "terraform":
            terraform_files.append((source.path, source.display, text))
            continue
        if source.kind == "json" and looks_like_plan(text):
            documents, error = load_json_documents(text)
            planned.extend(r for d in documents for r in plan_resources(source.display, d.data))
            if error:
                result.errors.append(InputError(source.display, error.line, error.message))
            continue
        loaded, error = load_objects(source, text)
        objects.extend(loaded)
        if error:
            result.errors.append(error)
    tf_inventory = TfInventory(planned)
    if terraform_files:
        from servegate.model.terraform.loading import load_terraform  # tree-sitter only when needed

        try:
            terraform = load_terraform(terraform_files, options.terraform, lambda p: p.read_text(encoding="utf-8"),
                                       root.resolve())
            result.errors.extend(terraform.errors)
            tf_inventory = TfInventory(merge_plan(list(terraform.project.resources()), planned))
            result.errors.extend(terraform.project.errors)
        except Exception as exc:  # noqa: BLE001 - report, and keep the Kubernetes results
            result.errors.append(InputError("<terraform>", 0, f"internal error evaluating Terraform: "
                                                             f"{type(exc).__name__}: {exc}"))
        objects.extend(obj for obj in map(as_kubernetes_object, tf_inventory.resources) if obj is not None)
    result.objects = len(objects) + len(tf_inventory.resources)
    findings, rule_errors = evaluate(Inventory.of(objects), options.rules, tf_inventory)
    suppressions = Suppressions(
        directives=directives,
        annotations={o.ref: o.annotations for o in objects
                     if any(str(k).startswith(ANNOTATION_PREFIX) for k in o.annotations)},
        configured=[dataclasses.replace(entry) for entry in options.suppress],
        severity_overrides=options.severity_overrides, baseline=options.baseline,
    )
    result.findings, result.warnings, result.fixed = suppressions.apply(
        findings, {rule.id for rule in options.rules}, scanned)
    result.errors.extend(rule_errors)
    result.errors.sort(key=lambda e: (e.file, e.line, e.message))
    return result


def evaluate(inventory: Inventory, rules: Iterable[Rule],
             tf_inventory: TfInventory | None = None) -> tuple[list[Finding], list[InputError]]:
    """Run every rule over the inventory; a rule that crashes is reported, never silently dropped."""
    by_scope: dict[Scope, list[Rule]] = {scope: [] for scope in Scope}
    for rule in rules:
        by_scope[rule.scope].append(rule)
    findings: list[Finding] = []
    errors: list[InputError] = []

    def run(rule: Rule, obj: Located | None, *args: object) -> None:
        try:
            for hit in rule.check(*args):
                findings.append(to_finding(rule, hit, obj))
        except Exception as exc:  # noqa: BLE001 - one broken rule must not hide the others' results
            where = obj.file if obj else "<scan>"
            errors.append(InputError(where, 0, f"internal error in rule {rule.id}: {type(exc).__name__}: {exc}"))

    for obj in inventory.objects:
        for rule in by_scope[Scope.OBJECT]:
            if obj.kind in rule.kinds:
                run(rule, obj, obj, inventory)
        for pod in pod_specs(obj, inventory):
            for rule in by_scope[Scope.POD]:
                if not rule.inference_only or pod.is_inference:
                    run(rule, obj, pod)
            for container in pod.containers:
                for rule in by_scope[Scope.CONTAINER]:
                    if not rule.inference_only or pod.is_inference:
                        run(rule, obj, container)
    for rule in by_scope[Scope.INVENTORY]:
        run(rule, None, inventory)
    for resource in tf_inventory.resources if tf_inventory else ():
        for rule in by_scope[Scope.RESOURCE]:
            if resource.type in rule.kinds:
                run(rule, resource, resource, tf_inventory)
    unique = {(f.rule_id, f.location, f.resource, f.message): f for f in _drop_superseded(findings, rules)}
    return sorted(unique.values(), key=Finding.sort_key), errors


def to_finding(rule: Rule, hit: Hit, checked: Located | None) -> Finding:
    obj = hit.obj or checked
    if obj is None:
        raise ValueError(f"rule {rule.id} returned a hit without an object")
    related = tuple(Related(r.obj.locate(r.path), r.message) for r in hit.related)
    provenance = getattr(obj, "provenance", None)
    if provenance is not None:  # a Terraform value set by a variable, a tfvars file or a module call
        related += tuple(Related(location, message) for location, message in provenance(hit.path))
    return Finding(
        rule_id=rule.id, title=rule.title, severity=hit.severity or rule.severity,
        confidence=hit.confidence or rule.confidence, message=hit.message,
        location=obj.locate(hit.path, hit.scalar_line), resource=obj.ref, related=related,
    )


def _drop_superseded(findings: list[Finding], rules: Iterable[Rule]) -> list[Finding]:
    """A specialised rule replaces the generic one it names when both flag the same line."""
    supersedes = {r.id: r.supersedes for r in rules if r.supersedes}
    replaced = {(generic, f.location.file, f.location.line, f.resource)
                for f in findings for generic in supersedes.get(f.rule_id, ())}
    return [f for f in findings if (f.rule_id, f.location.file, f.location.line, f.resource) not in replaced]


def exit_code(result: ScanResult, fail_on: Severity, fail_on_error: bool = True) -> int:
    if result.errors and fail_on_error:
        return 2
    return 1 if any(f.severity >= fail_on and not f.suppressed for f in result.findings) else 0
