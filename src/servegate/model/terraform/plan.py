"""``terraform show -json`` plans as scan input.

A plan knows values the configuration alone cannot (module inputs from remote state, data sources),
but has no line numbers. Its resources are merged into the evaluated configuration by address:
findings then point at the .tf source when the configuration is in the scan, and at the resource's
entry in the plan file otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from servegate.findings import Location
from servegate.model.terraform.config import TfResource
from servegate.sources import hcl_ast as ast
from servegate.sources.located import LDict, format_path, span_of


@dataclass
class PlanModule:
    """Stands in for a module instance: plans carry addresses, not configuration."""

    address: str
    call: Any = None
    parent: Any = None

    def origin_chain(self, variable: str) -> list:
        return []

    def local_references(self, name: str) -> set:
        return set()


class PlanResource(TfResource):
    """A resource known only from a plan; located in the plan file."""

    plan_doc: Any = None
    plan_path: tuple = ()

    def locate(self, path: tuple, scalar_line: int | None = None) -> Location:
        span, _ = span_of(self.plan_doc, self.plan_path + ("values",) + tuple(path))
        return Location(self.file, span[0], span[1], span[2], span[3], format_path(path))

    def provenance(self, path: tuple) -> list[tuple[Location, str]]:
        return []


def _list(value: Any) -> list:
    """A list member of a plan as a list: anything else in its place (a hand-edited or hostile plan) is empty."""
    return value if isinstance(value, list) else []


def _modules(module: Any, path: tuple) -> Iterator[tuple[Any, tuple]]:
    if not isinstance(module, dict):
        return
    yield module, path
    for index, child in enumerate(_list(module.get("child_modules"))):
        yield from _modules(child, path + ("child_modules", index))


def plan_resources(file: str, doc: Any) -> list[PlanResource]:
    planned = doc.get("planned_values") if isinstance(doc, dict) else None
    root = planned.get("root_module") if isinstance(planned, dict) else None
    found: list[PlanResource] = []
    for module, module_path in _modules(root, ("planned_values", "root_module")):
        address = module.get("address", "") if isinstance(module.get("address"), str) else ""
        for index, raw in enumerate(_list(module.get("resources"))):
            if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
                continue
            values = raw.get("values") if isinstance(raw.get("values"), dict) else {}
            resource = PlanResource(
                mode=raw.get("mode", "managed"), type=raw["type"], name=str(raw.get("name", "")),
                key=raw.get("index"), module=PlanModule(address), file=file,
                block=ast.Block(raw["type"], (str(raw.get("name", "")),), ast.Body(), _span(doc, module_path, index)),
                values=dict(values),
            )
            resource.plan_doc = doc
            resource.plan_path = module_path + ("resources", index)
            found.append(resource)
    return found


def _span(doc: Any, module_path: tuple, index: int) -> ast.Span:
    span, _ = span_of(doc, module_path + ("resources", index))
    return span[0], span[1], span[2], span[3]


def merge_plan(configured: list[TfResource], planned: list[PlanResource]) -> list[TfResource]:
    """Plan values override evaluated ones (they are exact); configured spans stay (they have lines)."""
    by_address = {resource.address: resource for resource in configured}
    merged = list(configured)
    for resource in planned:
        target = by_address.get(resource.address)
        if target is None:
            merged.append(resource)
            continue
        for key, value in resource.values.items():
            if value is not None or key not in target.values:
                target.values[key] = _plain(value)
    return merged


def _plain(value: Any) -> Any:
    if isinstance(value, LDict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
