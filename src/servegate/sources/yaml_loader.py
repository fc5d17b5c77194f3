"""YAML and JSON documents with a span for every key, value and item.

PyYAML's C parser composes nodes; a Python constructor turns them into ``LDict``/``LList``.
Before a document is constructed its node graph is measured, so alias bombs, recursive aliases
and excessive nesting are refused with an error naming the file and line instead of exploding
later in a rule or a serializer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Optional

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from servegate.sources.located import LDict, LList, Span

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_DEPTH = 200
# Aliases may repeat a subtree, but a document that expands far beyond its own size is an attack.
MAX_EXPANDED_NODES = 2_000_000
MAX_EXPANSION_FACTOR = 20
SMALL_DOCUMENT_NODES = 20_000


DocumentFilter = Callable[[Optional[str], Optional[str]], bool]


class DocumentTooLarge(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, slots=True)
class Document:
    index: int
    data: Any
    line: int


@dataclass(frozen=True, slots=True)
class LoadError:
    line: int
    message: str


def _span(node: Node) -> Span:
    start, end = node.start_mark, node.end_mark
    end_line, end_col = end.line + 1, end.column + 1
    # A block collection (or block scalar) ends where the next token starts: on the line after its
    # last line. End column 0 means "to the end of that line".
    block = not isinstance(node, ScalarNode) and not node.flow_style
    if end.line > start.line and (block or end.column == 0):
        end_line, end_col = end.line, 0
    style = getattr(node, "style", None) or ""
    return (start.line + 1, start.column + 1, end_line, end_col, style)


class _LocatingLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Builds LDict/LList. Tag resolution is memoised: manifests repeat the same scalars endlessly."""

    _tags: dict[tuple[str, tuple[bool, bool]], str] = {}

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass  # no path resolvers are registered; skip the bookkeeping

    def ascend_resolver(self) -> None:
        pass

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is not ScalarNode:
            return super().resolve(kind, value, implicit)
        key = (value, implicit)
        tag = self._tags.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(self._tags) < 200_000:
                self._tags[key] = tag
        return tag


def _construct_map(loader: Any, node: MappingNode):
    data = LDict(span=_span(node))
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
            ) from None
        data[key] = loader.construct_object(value_node, deep=False)
        data.key_spans[key] = _span(key_node)
        data.value_spans[key] = _span(value_node)


def _construct_seq(loader: Any, node: SequenceNode):
    data = LList(span=_span(node))
    yield data
    data.extend(loader.construct_object(child, deep=False) for child in node.value)
    data.item_spans.extend(_span(child) for child in node.value)


_LocatingLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LocatingLoader.add_constructor("tag:yaml.org,2002:omap", _construct_map)
_LocatingLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
# Kubernetes keeps unquoted dates as strings; datetime objects would also break JSON output.
_LocatingLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)
_LocatingLoader.add_constructor("tag:yaml.org,2002:binary", yaml.SafeLoader.construct_yaml_str)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return node.value
    if isinstance(node, MappingNode):
        return [child for pair in node.value for child in pair]
    return []


def _measure(root: Node) -> None:
    """Refuse recursive aliases, nesting beyond MAX_DEPTH and alias expansion bombs."""
    memo: dict[int, tuple[int, int]] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            children = _children(node)
            size = 1 + sum(memo[id(c)][0] for c in children)
            depth = 1 + max((memo[id(c)][1] for c in children), default=0)
            memo[key] = (size, depth)
            on_path.discard(key)
            if depth > MAX_DEPTH:
                raise DocumentTooLarge(f"nesting deeper than {MAX_DEPTH} levels", node.start_mark.line + 1)
            if size > MAX_EXPANDED_NODES:
                raise DocumentTooLarge(
                    f"document expands to more than {MAX_EXPANDED_NODES} nodes (alias bomb?)", node.start_mark.line + 1
                )
            continue
        if key in memo:
            continue
        if key in on_path:
            raise DocumentTooLarge("recursive alias", node.start_mark.line + 1)
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in memo)
    size = memo[id(root)][0]
    if size > SMALL_DOCUMENT_NODES and size > MAX_EXPANSION_FACTOR * len(memo):
        raise DocumentTooLarge(
            f"aliases expand {len(memo)} distinct nodes to {size} (alias bomb?)", root.start_mark.line + 1
        )


def _root_scalars(node: Node, keys: tuple[str, ...]) -> tuple[str | None, ...]:
    """Top-level scalar values of a mapping node, read before (and instead of) constructing it."""
    found: dict[str, str] = {}
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value in keys and isinstance(value_node, ScalarNode):
                found[key_node.value] = value_node.value
    return tuple(found.get(key) for key in keys)


_DOCUMENT_START = re.compile(r"^---(?=[ \t]|$)", re.MULTILINE)
_TOP_LEVEL_KIND = re.compile(r"^kind:[ \t]*[\"']?([A-Za-z0-9]+)[\"']?[ \t]*(?:#.*)?$", re.MULTILINE)


def blank_documents_of_kinds(text: str, kinds: frozenset[str]) -> str:
    """Replace documents whose top-level ``kind`` is in ``kinds`` by blank lines (lines keep their numbers).

    Cheaper than parsing them: CustomResourceDefinition schemas are most of the YAML in operator repos.
    """
    if not kinds or not any(kind in text for kind in kinds):
        return text
    starts = [0] + [m.start() for m in _DOCUMENT_START.finditer(text)]
    pieces = []
    for start, end in zip(starts, starts[1:] + [len(text)]):
        chunk = text[start:end]
        match = _TOP_LEVEL_KIND.search(chunk)
        if match and match.group(1) in kinds:
            head = chunk.partition("\n")[0] if chunk.startswith("---") else ""
            chunk = head + "\n" * chunk.count("\n")  # keep the separator so documents stay apart
        pieces.append(chunk)
    return "".join(pieces)


def load_documents(text: str, wanted: DocumentFilter | None = None) -> tuple[list[Document], LoadError | None]:
    """Every document of a YAML stream (JSON is YAML); stops at the first error.

    Every document is parsed, so syntax errors are always reported; ``wanted(kind, apiVersion)``
    decides which ones are also constructed (nobody reads the body of a CRD schema).
    """
    documents: list[Document] = []
    loader = _LocatingLoader(text)
    may_alias = "&" in text
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if wanted is None or wanted(*_root_scalars(node, ("kind", "apiVersion"))):
                if may_alias:  # without anchors nothing can expand; libyaml caps nesting at 1000
                    _measure(node)
                data = loader.construct_document(node)
                documents.append(Document(index, data, node.start_mark.line + 1))
            index += 1
    except DocumentTooLarge as exc:
        return documents, LoadError(exc.line, str(exc))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        return documents, LoadError(line, f"invalid YAML: {problem or exc}")
    except yaml.YAMLError as exc:
        return documents, LoadError(1, f"invalid YAML: {exc}")
    except RecursionError:
        return documents, LoadError(1, "nesting too deep to load")
    finally:
        loader.dispose()
    return documents, None


def load_json_documents(text: str, wanted: DocumentFilter | None = None) -> tuple[list[Document], LoadError | None]:
    """JSON through the YAML parser, which gives positions; JSON tabs are plain whitespace."""
    return load_documents(text.replace("\t", " "), wanted)
