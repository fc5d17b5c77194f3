"""Every evaluated resource of a scan, with the links rules follow between them."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, Hashable, Iterable

from servegate.model.memo import Memo

if TYPE_CHECKING:
    from servegate.model.terraform.config import TfResource


class TfInventory(Memo):
    def __init__(self, resources: Iterable[TfResource]) -> None:
        self.resources: list[TfResource] = list(resources)
        self.kubernetes: Any = None  # the scan's Kubernetes Inventory, once the scan links the two layers
        self._by_type: dict[str, list[TfResource]] = defaultdict(list)
        self._by_name: dict[tuple[int, str, str, str], list[TfResource]] = defaultdict(list)
        for resource in self.resources:
            self._by_type[resource.type].append(resource)
            self._by_name[(id(resource.module), resource.mode, resource.type, resource.name)].append(resource)
        self._memo: dict[Hashable, Any] = {}  # see Memo

    def of_type(self, *types: str) -> list[TfResource]:
        return [r for t in types for r in self._by_type.get(t, ())]

    def referenced(self, resource: TfResource, path: tuple, *types: str) -> list[TfResource]:
        """Resources (of ``types``, if given) named by the expression at ``path`` of ``resource``."""
        found: list[TfResource] = []
        for root, steps in resource.references_of(path):
            if root == "data" and len(steps) >= 2:
                key = (id(resource.module), "data", steps[0], steps[1])
            elif steps:
                key = (id(resource.module), "managed", root, steps[0])
            else:
                continue
            if not types or key[2] in types:
                found.extend(self._by_name.get(key, ()))
        return found

    def attached(self, target: TfResource, types: Iterable[str], attribute: str,
                 by_value: Iterable[str] = ("id", "bucket", "name", "arn")) -> list[TfResource]:
        """Resources of ``types`` whose ``attribute`` points at ``target``: by reference, or by equal value
        (``bucket = "acme-models"`` next to the bucket named so)."""
        wanted = {v for v in (target.values.get(k) for k in by_value) if isinstance(v, str)}
        if target.type == "aws_s3_bucket" and isinstance(target.values.get("bucket"), str):
            wanted.add(f"arn:aws:s3:::{target.values['bucket']}")
        out = []
        for candidate in self.of_type(*types):
            if target in self.referenced(candidate, (attribute,)) or candidate.values.get(attribute) in wanted:
                out.append(candidate)
        return out
