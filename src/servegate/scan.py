"""The scan pipeline: discover -> load -> model -> rules -> findings."""

from __future__ import annotations

import dataclasses
import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from servegate.collector import collector_paused
from servegate.discover import SourceFile, discover, scan_root
from servegate.evaluate import evaluate
from servegate.findings import Finding, InputError, Severity, Skipped
from servegate.fix.resolve import FixSources
from servegate.model.k8s import UNREAD_KINDS, Inventory, K8sObject, is_wanted_document, objects_in
from servegate.model.terraform import looks_like_plan
from servegate.model.terraform.inventory import TfInventory
from servegate.model.terraform.kubernetes import as_kubernetes_object
from servegate.model.terraform.values import VariableInputs
from servegate.render import KUSTOMIZATION_FILES, PendingRendering, Rendering, RenderOptions, collapse_repeats
from servegate.rules import BOTH, KUBERNETES, TERRAFORM, rules_for
from servegate.rules.base import Rule
from servegate.sources.yaml_loader import blank_documents_of_kinds, load_documents, load_json_documents
from servegate.suppression import ANNOTATION_PREFIX, Baseline, ConfigSuppression, Directive, Suppressions, directives_in

if TYPE_CHECKING:
    from servegate.model.terraform.plan import PlanResource  # plans are read only when a JSON file is one
    from servegate.policy import PolicySet

DEFAULT_MAX_FILE_SIZE = 20 * 1024 * 1024


@dataclass(frozen=True)
class ScanOptions:
    rules: tuple[Rule, ...] | None = None  # None: the rules of every family that reads what the scan finds,
    select: tuple[str, ...] = ()  # with an id that starts with one of these (all when empty)
    ignore: tuple[str, ...] = ()  # and with none of these
    terraform: VariableInputs = field(default_factory=lambda: VariableInputs())
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    follow_outside_links: bool = False
    exclude: tuple[str, ...] = ()  # glob patterns on paths relative to the scan root
    suppress: tuple[ConfigSuppression, ...] = ()
    severity_overrides: dict[str, Severity] = field(default_factory=dict)
    baseline: Baseline | None = None
    stdin: tuple[tuple[str, str], ...] = ()  # (name, text) of manifests read from standard input
    progress: Callable[[int, int], None] | None = None  # called with (files read, files in all)
    policies: PolicySet | None = None  # custom Rego policies (servegate.policy), run after the built-in rules
    render: RenderOptions = field(default_factory=RenderOptions)  # Helm charts and Kustomize overlays
    texts: dict[str, str] = field(default_factory=dict)  # display path -> text to scan instead of the file
    jobs: int | None = None  # worker processes for the rules (None: one per core when the scan is big enough)


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
    inventory: Inventory | None = None  # what the rules saw; ``inventory.graph`` is the resource graph


def select_rules(select: Iterable[str] = (), ignore: Iterable[str] = (),
                 inputs: Iterable[str] = BOTH) -> tuple[Rule, ...]:
    """Rules whose id starts with one of ``select`` (all when empty) and with none of ``ignore``, of the families
    that read ``inputs`` (all by default)."""
    select, ignore = tuple(s.upper() for s in select), tuple(s.upper() for s in ignore)
    return tuple(rule for rule in rules_for(inputs)
                 if (not select or rule.id.startswith(select)) and not (ignore and rule.id.startswith(ignore)))


def read_text(source: SourceFile, max_size: int) -> str | InputError:
    try:
        info = source.path.stat()
        if not stat.S_ISREG(info.st_mode):
            return InputError(source.display, 0, "not a regular file (a pipe, socket or device); not scanned")
        if info.st_size > max_size:
            return InputError(source.display, 0,
                              f"file is {info.st_size} bytes, over the {max_size}-byte limit; not scanned")
        raw = _read_at_most(source.path, max_size + 1)
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


def _read_at_most(path: Path, limit: int) -> bytes:
    """At most ``limit`` bytes: memory stays bounded when a file grows after it was measured, and a pipe
    swapped in for the file cannot block the scan (non-blocking open, then only regular files are read)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return handle.read(limit)


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


@collector_paused()
def scan(paths: list[Path], options: ScanOptions = ScanOptions()) -> ScanResult:
    root = scan_root(paths) if paths else Path.cwd()  # only standard input: nothing to walk
    files, skipped = discover(paths, root, options.follow_outside_links, options.exclude) if paths else ([], [])
    result = ScanResult(root=root, skipped=skipped)
    objects: list[K8sObject] = []
    terraform_files: list[tuple[Path, str, str]] = []
    planned: list[PlanResource] = []
    directives: list[Directive] = []
    scanned: set[str] = set()
    policy_sources: list[tuple[SourceFile, str]] = []  # what custom policies test, as Conftest would read it
    objects_by_file: dict[str, list[K8sObject]] = {}
    fix_sources = FixSources()  # the texts fixes are planned against
    stdin = [(SourceFile(root / name, name, "json" if name.endswith(".json") else "yaml"), text)
             for name, text in options.stdin]
    sources = [(f, None) for f in files] + stdin
    pending = _start_rendering(root, files, options)  # builds run while the plain files load
    for count, (source, text) in enumerate(sources, start=1):
        if options.progress is not None:
            options.progress(count, len(sources))
        if text is None:
            text = _source_text(source, options)
        if isinstance(text, InputError):
            result.errors.append(text)
            continue
        result.files_scanned += 1
        scanned.add(source.display)
        directives.extend(directives_in(source.display, text))
        if options.policies is not None and source.kind in ("yaml", "json", "terraform"):
            policy_sources.append((source, text))
        if source.kind == "helm":
            continue  # rendered with its chart, after every plain file is loaded
        if source.kind == "terraform":
            terraform_files.append((source.path, source.display, text))
            fix_sources.add_terraform(source.display, text)
            continue
        if source.kind == "json" and looks_like_plan(text):
            from servegate.model.terraform.plan import plan_resources

            documents, error = load_json_documents(text)
            planned.extend(r for d in documents for r in plan_resources(source.display, d.data))
            if error:
                result.errors.append(InputError(source.display, error.line, error.message))
            continue
        loaded, error = load_objects(source, text)
        objects.extend(loaded)
        objects_by_file[source.display] = loaded
        fix_sources.add_manifests(source.display, text, loaded)
        if error:
            result.errors.append(error)
    tf_inventory = TfInventory(planned)  # Terraform first: overlay builds and chart renders go on meanwhile
    if terraform_files:
        from servegate.model.terraform.loading import load_terraform  # tree-sitter only when needed
        from servegate.model.terraform.plan import merge_plan

        try:
            terraform = load_terraform(terraform_files, options.terraform, lambda p: p.read_text(encoding="utf-8"),
                                       root.resolve())
            result.errors.extend(terraform.errors)
            tf_inventory = TfInventory(merge_plan(list(terraform.project.resources()), planned))
            result.errors.extend(terraform.project.errors)
        except Exception as exc:  # noqa: BLE001 - report, and keep the Kubernetes results
            result.errors.append(InputError("<terraform>", 0, f"internal error evaluating Terraform: "
                                                             f"{type(exc).__name__}: {exc}"))
    rendering = _finish_rendering(pending, objects_by_file, options, result)
    objects = [obj for obj in objects if obj.file not in rendering.consumed] + rendering.objects
    objects.extend(obj for obj in map(as_kubernetes_object, tf_inventory.resources) if obj is not None)
    result.objects = len(objects) + len(tf_inventory.resources)
    inventory = Inventory.of(objects)
    found = {KUBERNETES} if objects else set()
    found |= {TERRAFORM} if tf_inventory.resources else set()
    result.rules = options.rules if options.rules is not None else select_rules(options.select, options.ignore, found)
    findings, rule_errors = evaluate(inventory, result.rules, tf_inventory, fix_sources, options.jobs)
    result.inventory = inventory
    if rendering.deployed_by:
        findings = collapse_repeats(findings, rendering.deployed_by)
    if options.policies is not None:
        findings, rule_errors = _with_policies(options.policies, policy_sources, findings, rule_errors, result)
    suppressions = Suppressions(
        directives=directives,
        annotations={o.ref: o.annotations for o in objects
                     if any(str(k).startswith(ANNOTATION_PREFIX) for k in o.annotations)},
        configured=[dataclasses.replace(entry) for entry in options.suppress],
        severity_overrides=options.severity_overrides, baseline=options.baseline,
    )
    result.findings, result.warnings, result.fixed = suppressions.apply(
        findings, {rule.id for rule in result.rules}, scanned)
    if options.policies is not None:
        result.warnings += options.policies.warnings
    result.errors.extend(rule_errors)
    result.errors.sort(key=lambda e: (e.file, e.line, e.message))
    return result


def _source_text(source: SourceFile, options: ScanOptions) -> str | InputError:
    """The file's text: the working copy the fix engine passed in ``options.texts``, else what is on disk."""
    if source.display in options.texts:
        return options.texts[source.display]
    return read_text(source, options.max_file_size)


def _with_policies(policies: PolicySet, sources: list[tuple[SourceFile, str]], findings: list[Finding],
                   errors: list[InputError], result: ScanResult) -> tuple[list[Finding], list[InputError]]:
    """The built-in findings and errors with those of the custom Rego policies, whose rules join the result's."""
    policy_findings, policy_errors = policies.evaluate(sources)
    result.rules += policies.rules
    return sorted(findings + policy_findings, key=Finding.sort_key), errors + policy_errors


def _start_rendering(root: Path, files: list[SourceFile], options: ScanOptions) -> PendingRendering | None:
    """Start rendering the scan's Helm charts and building its Kustomize overlays (see ``servegate.render``)."""
    if not any(f.kind == "helm" or f.path.name in KUSTOMIZATION_FILES for f in files):
        return None
    from servegate.render import start_rendering

    return start_rendering(root, files, dataclasses.replace(options.render, max_file_size=options.max_file_size))


def _finish_rendering(pending: PendingRendering | None, objects_by_file: dict[str, list[K8sObject]],
                      options: ScanOptions, result: ScanResult) -> Rendering:
    if pending is None:
        return Rendering()

    def load_file(path: Path, display: str) -> list[K8sObject]:
        source = SourceFile(path, display, "yaml")
        text = read_text(source, options.max_file_size)
        return [] if isinstance(text, InputError) else load_objects(source, text)[0]

    rendering = pending.finish(objects_by_file, load_file)
    result.errors.extend(rendering.errors)
    result.skipped.extend(rendering.skipped)
    return rendering


def exit_code(result: ScanResult, fail_on: Severity, fail_on_error: bool = True) -> int:
    if result.errors and fail_on_error:
        return 2
    return 1 if any(f.severity >= fail_on and not f.suppressed for f in result.findings) else 0
