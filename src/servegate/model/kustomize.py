"""What the Kustomizations of a scan say about other files: which are patches (fragments, not whole
objects), which builds include a file, the namespace and `images:` overrides they apply.

Built once per inventory; every lookup is a walk up a path, not a scan of all Kustomizations.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from servegate.model.k8s import K8sObject

KUSTOMIZE_GROUP = "kustomize.config.k8s.io"


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def depth(file: str) -> int:
    """How many folders deep a file of the scan sits."""
    folder = posixpath.dirname(file)
    return folder.count("/") + 1 if folder else 0


@dataclass
class KustomizeIndex:
    kustomizations: list[K8sObject] = field(default_factory=list)
    patch_files: set[str] = field(default_factory=set)
    images: list[tuple[K8sObject, int, dict]] = field(default_factory=list)  # (kustomization, index, entry)
    images_named: dict[str, list[tuple[K8sObject, int, dict]]] = field(default_factory=dict)  # by `name:`
    built: dict[int, frozenset[str]] = field(default_factory=dict)  # id(kustomization) -> paths its build includes
    _included_by: dict[str, list[K8sObject]] = field(default_factory=dict)  # path -> kustomizations including it
    _reaching: dict[str, list[K8sObject]] = field(default_factory=dict)

    @classmethod
    def of(cls, kustomizations: list[K8sObject]) -> KustomizeIndex:
        index = cls(kustomizations=[k for k in kustomizations if k.group == KUSTOMIZE_GROUP and k.base == ()])
        by_dir: dict[str, list[K8sObject]] = {}
        direct: dict[int, list[str]] = {}
        for k in index.kustomizations:
            folder = posixpath.dirname(k.file)
            by_dir.setdefault(folder, []).append(k)

            def local(entry: Any, folder: str = folder) -> str | None:
                if not isinstance(entry, str) or not entry or "\n" in entry or "://" in entry or \
                        entry.startswith(("github.com/", "git@")):
                    return None
                return posixpath.normpath(posixpath.join(folder, entry))

            direct[id(k)] = [p for key in ("resources", "bases", "components")
                             for p in map(local, _as_list(k.get(key))) if p]
            for entry in _as_list(k.get("patchesStrategicMerge")):
                if (path := local(entry)) is not None:
                    index.patch_files.add(path)
            for key in ("patches", "patchesJson6902"):
                for entry in _as_list(k.get(key)):
                    if isinstance(entry, dict) and (path := local(entry.get("path"))) is not None:
                        index.patch_files.add(path)
            for i, entry in enumerate(_as_list(k.get("images"))):
                if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                    index.images.append((k, i, entry))
                    index.images_named.setdefault(entry["name"], []).append((k, i, entry))

        reach: dict[int, frozenset[str]] = {}

        def reach_of(k: K8sObject, seen: frozenset[int]) -> frozenset[str]:
            if id(k) not in reach:
                paths = set(direct[id(k)])
                for path in direct[id(k)]:
                    for inner in by_dir.get(path, ()):
                        if id(inner) not in seen:
                            paths |= reach_of(inner, seen | {id(inner)})
                reach[id(k)] = frozenset(paths)
            return reach[id(k)]

        for k in index.kustomizations:
            index.built[id(k)] = reach_of(k, frozenset({id(k)}))
            for path in index.built[id(k)]:
                index._included_by.setdefault(path, []).append(k)
        return index

    def reaching(self, file: str) -> list[K8sObject]:
        """The Kustomizations whose build includes ``file``, innermost (deepest folder) first."""
        if file not in self._reaching:
            found: dict[int, K8sObject] = {}
            path, parent = file, None
            while path and path != "." and path != parent:  # an absolute name climbs to "/", its own parent
                for k in self._included_by.get(path, ()):
                    found[id(k)] = k
                path, parent = posixpath.dirname(path), path
            self._reaching[file] = sorted(found.values(), key=lambda k: -depth(k.file))
        return self._reaching[file]

    def reaches(self, kustomization: K8sObject, file: str) -> bool:
        return any(k is kustomization for k in self.reaching(file))

    def nearest(self, file: str) -> K8sObject | None:
        reaching = self.reaching(file)
        return reaching[0] if reaching else None

    def namespace(self, file: str) -> str:
        """The namespace the innermost Kustomization that sets one gives the objects of ``file``."""
        return next((str(k.get("namespace")) for k in self.reaching(file)
                     if isinstance(k.get("namespace"), str) and k.get("namespace")), "")
