"""What a rule says about fixing a hit: symbolic operations on paths, never offsets.

Kubernetes operations name document paths, exactly like ``Hit.path``; Terraform operations name attribute
paths of the resource the hit is about (``("data_capture_config", 0, "enable_capture")``). The planners in
``yaml_patch`` and ``hcl_patch`` turn them into text edits with the spans the loaders keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from servegate.findings import Applicability
from servegate.sources.located import Path


# --- YAML (Kubernetes manifests) -----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SetKey:
    """Set ``path`` to ``value`` (a plain Python value), creating missing mappings on the way. A dict value
    is merged into an existing mapping key by key. ``replace=False`` leaves a value already there alone."""

    path: Path
    value: Any
    replace: bool = True


@dataclass(frozen=True, slots=True)
class AddItem:
    """Append ``value`` to the list at ``path`` (created when missing), unless an equal item is there."""

    path: Path
    value: Any


@dataclass(frozen=True, slots=True)
class RemoveKey:
    """Remove a mapping key or a list item (the last item of a block list takes its key with it)."""

    path: Path


@dataclass(frozen=True, slots=True)
class ReplaceText:
    """Inside the string at ``path`` (an argv item, a shell script, a config file held by a ConfigMap),
    replace the one occurrence of ``old`` with ``new``; an empty ``new`` also removes the blank before it."""

    path: Path
    old: str
    new: str


# --- HCL (Terraform) -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SetAttribute:
    """Set the attribute at ``path`` of the resource to the HCL expression ``value`` (source text), creating
    the first instance of a missing nested block. ``replace=False`` keeps an attribute already written."""

    path: Path
    value: str
    replace: bool = True


@dataclass(frozen=True, slots=True)
class AddResource:
    """A new ``resource "type" "label"`` block appended after the resource, with ``body`` lines of
    ``name = expression`` (source text, in order). ``{self}`` in an expression is the resource's address
    within its module (``aws_s3_bucket.models``)."""

    type: str
    label: str
    body: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class DeclareVariable:
    """``variable "name" { ... }`` in the resource's module, unless the module declares it already."""

    name: str
    type: str = "string"
    description: str = ""


Operation = Union[SetKey, AddItem, RemoveKey, ReplaceText, SetAttribute, AddResource, DeclareVariable]


@dataclass(frozen=True, slots=True)
class SymbolicFix:
    title: str
    applicability: Applicability
    operations: tuple[Operation, ...]


def safe(title: str, *operations: Operation) -> SymbolicFix:
    return SymbolicFix(title, Applicability.SAFE, operations)


def unsafe(title: str, *operations: Operation) -> SymbolicFix:
    return SymbolicFix(title, Applicability.UNSAFE, operations)
