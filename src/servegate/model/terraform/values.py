"""The values the Terraform evaluator works with.

Terraform values map to Python: string -> str, number -> int or float (int when integral),
bool -> bool, null -> None, list/tuple/set -> list (sets sorted and deduplicated), map/object -> dict.
What cannot be known statically is an ``Unknown``, which propagates through every operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Unknown:
    """A value not known before apply, or not known to servegate; ``reason`` says why."""

    reason: str = "not known statically"
    ref: str = ""  # "aws_iam_role.serve.arn" when it is a (computed) attribute of another resource
    # What is known of it: a JSON document whose leaves are partly unknown keeps its structure here,
    # so a policy with one unknown Resource can still be judged on its actions.
    partial: Any = None

    def __bool__(self) -> bool:  # guard against ``if value:`` on an unknown
        raise TypeError("the truth of an unknown value is not known; test is_known() first")


class EvalError(Exception):
    """An expression Terraform itself would reject (wrong types, bad function arguments)."""


def is_known(value: Any) -> bool:
    """True when the value holds no Unknown at any depth."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Unknown):
            return False
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def first_unknown(*values: Any) -> Unknown | None:
    """The first Unknown among ``values`` (shallow), to propagate."""
    for value in values:
        if isinstance(value, Unknown):
            return value
    return None


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, Unknown):
        return "unknown"
    return type(value).__name__


def normalise_number(value: float | int) -> int | float:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


@dataclass(frozen=True)
class VariableInputs:
    """Values given on the command line, applied to every root module after its tfvars files."""

    var_files: tuple[Path, ...] = ()
    variables: tuple[str, ...] = ()  # "name=value"
