"""Kubernetes objects found in the loaded documents, and an inventory to look them up."""

from __future__ import annotations

import posixpath
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Hashable, Iterable, Iterator

from servegate.findings import Location
from servegate.model.memo import Memo
from servegate.sources.located import Path, format_path, get_path, line_within_scalar, span_of

if TYPE_CHECKING:
    from servegate.model.graph import ResourceGraph
    from servegate.model.kustomize import KustomizeIndex


@dataclass(frozen=True, slots=True, eq=False)
class K8sObject:
    """One Kubernetes object: a document, or an item of a ``kind: List`` document."""

    file: str
    doc: Any  # the document root, which holds the positions
    base: Path  # where the object sits inside ``doc``: () or ("items", i)
    data: dict
    kind: str
    api_version: str
    name: str
    namespace: str  # as written; "" when the manifest leaves it to the deploy-time default
    origin: str = ""  # the Terraform address, for objects declared through kubernetes_* resources

    @property
    def ref(self) -> str:
        if self.origin:
            return self.origin
        if self.namespace:
            return f"{self.kind}/{self.namespace}/{self.name}"
        return f"{self.kind}/{self.name}"

    @property
    def effective_namespace(self) -> str:
        return self.namespace or "default"

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0] if "/" in self.api_version else ""

    def at(self, *steps: str | int) -> Path:
        return self.base + steps

    def get(self, *steps: str | int, default: Any = None) -> Any:
        return get_path(self.data, steps, default)

    def locate(self, path: Path, scalar_line: int | None = None) -> Location:
        """The source region of ``path`` (absolute within the document), as precise as the source allows."""
        span, _ = span_of(self.doc, path)
        relative = format_path(path[len(self.base):] if path[: len(self.base)] == self.base else path)
        if scalar_line is not None:
            line = line_within_scalar(self.doc, path, scalar_line)
            return Location(self.file, line, 1, line, 0, relative)
        return Location(self.file, span[0], span[1], span[2], span[3], relative)

    @property
    def labels(self) -> dict:
        value = self.get("metadata", "labels")
        return value if isinstance(value, dict) else {}

    @property
    def annotations(self) -> dict:
        value = self.get("metadata", "annotations")
        return value if isinstance(value, dict) else {}


# Kinds no rule reads: their (often huge) bodies are parsed for errors but never constructed.
UNREAD_KINDS = frozenset({"CustomResourceDefinition"})


def is_wanted_document(kind: str | None, api_version: str | None) -> bool:
    """Worth constructing: a Kubernetes object (or List) of a kind some rule reads."""
    return bool(kind) and bool(api_version) and kind not in UNREAD_KINDS


def objects_in(file: str, doc: Any) -> Iterator[K8sObject]:
    """The Kubernetes objects of one document; anything without ``kind`` is not one."""
    if not isinstance(doc, dict):
        return
    kind = doc.get("kind")
    if kind == "List" or (isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list)):
        for index, item in enumerate(doc.get("items") or ()):
            obj = _object(file, doc, ("items", index), item)
            if obj is not None:
                yield obj
        return
    obj = _object(file, doc, (), doc)
    if obj is not None:
        yield obj


def _object(file: str, doc: Any, base: Path, data: Any) -> K8sObject | None:
    if not isinstance(data, dict):
        return None
    kind, api_version = data.get("kind"), data.get("apiVersion")
    if not isinstance(kind, str) or not kind or not isinstance(api_version, str):
        return None
    metadata = data.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    name = metadata.get("name") or metadata.get("generateName") or ""
    namespace = metadata.get("namespace") or ""
    return K8sObject(file, doc, base, data, kind, api_version, str(name), str(namespace))


@dataclass(slots=True)
class Inventory(Memo):
    """Every object of the scan, indexed for the lookups rules need."""

    objects: list[K8sObject] = field(default_factory=list)
    _by_kind: dict[str, list[K8sObject]] = field(default_factory=lambda: defaultdict(list))
    _by_name: dict[tuple[str, str, str], K8sObject] = field(default_factory=dict)
    _by_kind_name: dict[tuple[str, str], list[K8sObject]] = field(default_factory=lambda: defaultdict(list))
    _kustomize: Any = None
    terraform: Any = None  # the scan's TfInventory: the resource graph reaches across both layers
    _graph: Any = None
    _memo: dict[Hashable, Any] = field(default_factory=dict)  # see Memo

    @classmethod
    def of(cls, objects: Iterable[K8sObject]) -> Inventory:
        inv = cls()
        for obj in objects:
            inv.objects.append(obj)
            inv._by_kind[obj.kind].append(obj)
            inv._by_name.setdefault((obj.kind, obj.effective_namespace, obj.name), obj)
            inv._by_kind_name[(obj.kind, obj.name)].append(obj)
        return inv

    def of_kind(self, *kinds: str) -> list[K8sObject]:
        if len(kinds) == 1:
            return self._by_kind.get(kinds[0], [])
        return [obj for kind in kinds for obj in self._by_kind.get(kind, [])]

    def find(self, kind: str, namespace: str, name: str) -> K8sObject | None:
        return self._by_name.get((kind, namespace or "default", name))

    def near(self, obj: K8sObject, *kinds: str) -> list[K8sObject]:
        """Objects of these kinds that may be deployed with ``obj``: every ``other`` for which
        ``deployed_together`` (either way round) is above 0, and a few more, in inventory order. Found through
        indexes: pairing an object with every other of its namespace grows with the square of a monorepo."""
        under, by_grandparent, by_nearest = self.memo(("near",), self._near_indexes)
        folder = posixpath.dirname(obj.file)
        areas = [posixpath.dirname(folder) if folder.count("/") >= 1 else folder]  # see deployed_together
        nearest = self.kustomize.nearest(obj.file)
        areas += self.kustomize.built.get(id(nearest), ()) if nearest is not None else ()
        groups = [under.get(area, ()) for area in areas]
        path, parent = folder, None  # the other way round: objects whose grandparent folder holds obj ...
        while path and path != parent:
            groups.append(by_grandparent.get(path, ()))
            path, parent = posixpath.dirname(path), path
        groups.append(by_grandparent.get("", ()))
        groups += [by_nearest.get(id(k), ()) for k in self.kustomize.reaching(obj.file)]  # ... or whose build does
        wanted = set(kinds)
        return self.in_order(o for group in groups for o in group if o.kind in wanted)

    def in_order(self, objects: Iterable[K8sObject]) -> list[K8sObject]:
        """``objects`` of this inventory, each once, in the inventory's order (what a scan of all gives)."""
        position = self.memo(("order",), lambda: {id(o): i for i, o in enumerate(self.objects)})
        return sorted({id(o): o for o in objects}.values(), key=lambda o: position[id(o)])

    def _near_indexes(self) -> tuple[dict, dict, dict]:
        under: dict[str, list[K8sObject]] = defaultdict(list)  # a file or any folder above it -> its objects
        by_grandparent: dict[str, list[K8sObject]] = defaultdict(list)  # objects two folders deep or more
        by_nearest: dict[int, list[K8sObject]] = defaultdict(list)  # id(innermost Kustomization building them)
        for other in self.objects:
            path, parent = other.file, None
            while path and path != parent:
                under[path].append(other)
                path, parent = posixpath.dirname(path), path
            if path == "":
                under[""].append(other)
            folder = posixpath.dirname(other.file)
            if folder.count("/") >= 1:
                by_grandparent[posixpath.dirname(folder)].append(other)
            nearest = self.kustomize.nearest(other.file)
            if nearest is not None:
                by_nearest[id(nearest)].append(other)
        return under, by_grandparent, by_nearest

    def named(self, kind: str, name: str) -> list[K8sObject]:
        """Every object of that kind and name, whatever its namespace or file."""
        return self._by_kind_name.get((kind, name), [])

    @property
    def kustomize(self) -> KustomizeIndex:
        if self._kustomize is None:
            from servegate.model.kustomize import KustomizeIndex

            self._kustomize = KustomizeIndex.of(self.of_kind("Kustomization", "Component"))
        return self._kustomize

    @property
    def graph(self) -> ResourceGraph:
        """Who routes to, selects, runs as, binds, assumes, reads and writes what: built once, on first use."""
        if self._graph is None:
            from servegate.model.graph import ResourceGraph

            self._graph = ResourceGraph.build(self, self.terraform)
        return self._graph

    def namespace_of(self, obj: K8sObject) -> str:
        """The namespace an object will live in, when its manifest or its Kustomization says; else ""."""
        return obj.namespace or self.kustomize.namespace(obj.file)

    def is_patch(self, obj: K8sObject) -> bool:
        """A Kustomize patch, not a whole object: listed as a patch, or an apps/v1 workload without selector."""
        if obj.file in self.kustomize.patch_files:
            return True
        return obj.kind in APPS_KINDS and obj.api_version == "apps/v1" and isinstance(obj.get("spec"), dict) and \
            obj.get("spec", "selector") is None

    def deployed_together(self, obj: K8sObject, other: K8sObject) -> int:
        """How surely two objects of a repository are deployed together (0: no reason to think so)."""
        if obj.file == other.file:
            return 4
        # Asked for every pod and each account, binding or policy near it: a pair of files is worked out once.
        known = self.memo(("deployed-together",), dict)
        pair = (obj.file, other.file)
        if pair not in known:
            known[pair] = self._files_deployed_together(obj.file, other.file)
        return known[pair]

    def _files_deployed_together(self, file: str, other: str) -> int:
        folder = posixpath.dirname(file)
        if folder == posixpath.dirname(other):
            return 3
        nearest = self.kustomize.nearest(file)
        if nearest is not None and self.kustomize.reaches(nearest, other):
            return 2
        level = folder.count("/") + 1 if folder else 0
        if level >= 2 and _shared_folders(file, other) >= level - 1:  # config/manager and config/rbac
            return 1
        return 0


APPS_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})


def _shared_folders(a: str, b: str) -> int:
    shared = 0
    for x, y in zip(posixpath.dirname(a).split("/"), posixpath.dirname(b).split("/")):
        if x != y:
            break
        shared += 1
    return shared
