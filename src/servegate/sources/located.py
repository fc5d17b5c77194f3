"""Containers that remember where each key and item came from, and a resolver for symbolic paths.

Loaders build these; rules never read positions, they only name paths such as
``("spec", "template", "spec", "containers", 0, "securityContext")``.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

# A span is (line, column, end_line, end_column, style), 1-based; style is the YAML scalar
# style character ("|", ">", '"', "'") or "" for plain scalars and collections.
Span = tuple[int, int, int, int, str]
Path = tuple[str | int, ...]


class LDict(dict):
    """A mapping with the span of the mapping itself, of each key, and of each value."""

    __slots__ = ("span", "key_spans", "value_spans")

    def __init__(self, *args: Any, span: Span = (1, 1, 1, 1, "")) -> None:
        super().__init__(*args)
        self.span = span
        self.key_spans: dict[Any, Span] = {}
        self.value_spans: dict[Any, Span] = {}


class LList(list):
    """A sequence with the span of the sequence and of each item."""

    __slots__ = ("span", "item_spans")

    def __init__(self, *args: Any, span: Span = (1, 1, 1, 1, "")) -> None:
        super().__init__(*args)
        self.span = span
        self.item_spans: list[Span] = []


def span_of(root: Any, path: Path) -> tuple[Span, int]:
    """The span of the deepest node of ``path`` that exists, and how many steps of it resolved.

    A key's span runs from the key to the end of its value, so a finding on a missing child
    points at the block that should hold it.
    """
    node = root
    span: Span = getattr(root, "span", (1, 1, 1, 1, ""))
    resolved = 0
    for step in path:
        if isinstance(node, LDict) and not isinstance(step, int) and step in node:
            ks, vs = node.key_spans.get(step), node.value_spans.get(step)
            if ks is not None and vs is not None:
                span = (ks[0], ks[1], vs[2], vs[3], vs[4])
            node = node[step]
        elif isinstance(node, LList) and isinstance(step, int) and 0 <= step < len(node):
            if step < len(node.item_spans):
                span = node.item_spans[step]
            node = node[step]
        else:
            break
        resolved += 1
    return span, resolved


def value_span(root: Any, path: Path) -> Span | None:
    """The span of the value at ``path`` (not its key), or None when the path does not exist."""
    if not path:
        return getattr(root, "span", None)
    parent_span, resolved = span_of(root, path[:-1])
    if resolved != len(path) - 1:
        return None
    parent = get_path(root, path[:-1])
    last = path[-1]
    if isinstance(parent, LDict) and last in parent:
        return parent.value_spans.get(last)
    if isinstance(parent, LList) and isinstance(last, int) and 0 <= last < len(parent.item_spans):
        return parent.item_spans[last]
    return None


def get_path(root: Any, path: Path, default: Any = None) -> Any:
    node = root
    for step in path:
        if isinstance(node, dict) and not isinstance(step, int):
            if step not in node:
                return default
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        else:
            return default
    return node


def line_within_scalar(root: Any, path: Path, offset: int) -> int:
    """The file line of line ``offset`` (0-based) inside the string at ``path``.

    Exact for literal block scalars (``|``), whose content starts on the line after the indicator.
    """
    span = value_span(root, path)
    if span is None:
        return span_of(root, path)[0][0]
    if span[4] in ("|", ">"):
        return span[0] + 1 + offset
    return span[0]


@functools.lru_cache(maxsize=1 << 16)  # rules name the same few paths over and over
def format_path(path: Path) -> str:
    out: list[str] = []
    for step in path:
        if isinstance(step, int):
            out.append(f"[{step}]")
        elif _is_identifier(str(step)):
            out.append(("." if out else "") + str(step))
        else:
            out.append(f'["{step}"]')
    return "".join(out)


_IDENTIFIER = re.compile(r"[\w-]+")


def _is_identifier(step: str) -> bool:
    return bool(_IDENTIFIER.fullmatch(step)) and (step.isascii() or all(ch.isalnum() or ch in "_-" for ch in step))


class TooDeep(ValueError):
    pass


def located_from_plain(value: Any, max_depth: int) -> Any:
    """LDict/LList from plain JSON values (``json.loads``), each span where ``json.dumps(value, indent=2)`` puts
    the node: for an object that has no file of its own (an admission request's), that text is its source.

    Raises ``TooDeep`` past ``max_depth`` levels of nesting, as the loaders refuse such documents.
    """
    line = 1

    def width(scalar: Any) -> int:
        if isinstance(scalar, str) and scalar.isascii() and scalar.isprintable() and '"' not in scalar \
                and "\\" not in scalar:
            return len(scalar) + 2
        return len(json.dumps(scalar, ensure_ascii=False))

    def build(node: Any, column: int, depth: int) -> tuple[Any, Span]:
        nonlocal line
        if not isinstance(node, (dict, list)):
            return node, (line, column, line, column + width(node), '"' if isinstance(node, str) else "")
        if depth >= max_depth:
            raise TooDeep(f"nesting deeper than {max_depth} levels")
        start, inner = line, 2 * depth + 3  # the column of a member: one indent more than this node's
        if isinstance(node, dict):
            located: Any = LDict()
            for key, item in node.items():
                line += 1
                key_end = inner + width(key)
                located.key_spans[key] = (line, inner, line, key_end, '"')
                child, located.value_spans[key] = build(item, key_end + 2, depth + 1)
                dict.__setitem__(located, key, child)
        else:
            located = LList()
            for item in node:
                line += 1
                child, span = build(item, inner, depth + 1)
                list.append(located, child)
                located.item_spans.append(span)
        if node:
            line += 1  # the closing bracket has a line of its own
        located.span = (start, column, line, inner - 1 if node else column + 2, "")
        return located, located.span

    return build(value, 1, 0)[0]
