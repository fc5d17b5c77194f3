"""YAML and JSON documents with a span for every key, value and item.

PyYAML's C parser composes nodes; ``_construct`` turns them into ``LDict``/``LList``. It is a direct
recursive walk rather than PyYAML's generic constructor (generators, recursion bookkeeping, a lookup per
node): on a monorepo that halves the loader's time. Tags it does not know go to PyYAML's constructor, so
values and errors stay PyYAML's. Before a document with anchors is constructed its node graph is measured,
so alias bombs and recursive aliases are refused, and nesting deeper than ``MAX_DEPTH`` is refused in every
document, with an error naming the file and line instead of exploding later in a rule or a serializer.

Lines are counted at line feeds only, as editors, code scanning and the rest of servegate count them. libyaml also
breaks lines at a lone CR, NEL, LS and PS; in the rare text holding one, positions are computed from the
parser's character offsets instead (``_Positions``). JSON is read as JSON means it: numbers with an exponent
are numbers (YAML 1.1 would keep ``1e5`` a string), surrogate-pair escapes decode to their character, and raw
characters YAML refuses or folds are escaped first (``_JSON_REWRITES``).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

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

_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
# Kubernetes keeps unquoted dates as strings; binary stays the base64 text it is written as.
_TEXT_TAGS = frozenset({_STR_TAG, "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"})
# Immutable scalars, constructed once per spelling: manifests repeat `true`, `80` and `null` endlessly.
_ATOM_TAGS = frozenset({"tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
                        "tag:yaml.org,2002:float"})
_FLATTEN_TAGS = frozenset({"tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"})  # see flatten_mapping
_MAP_TAGS = frozenset({_MAP_TAG, "tag:yaml.org,2002:omap"})


class DocumentTooLarge(Exception):
    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.mark = mark  # where the refused node starts


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

    _tags: dict[str, str] = {}  # plain scalar -> tag

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass  # no path resolvers are registered; skip the bookkeeping

    def ascend_resolver(self) -> None:
        pass

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        # The C composer calls this for every node. Without path resolvers (none are registered) a
        # collection's tag depends on its kind only and a quoted scalar is a string; only plain
        # scalars need the implicit resolvers' regular expressions.
        if kind is not ScalarNode:
            return _MAP_TAG if kind is MappingNode else _SEQ_TAG
        if not implicit[0]:
            return _STR_TAG
        tag = self._tags.get(value)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(self._tags) < 200_000:
                self._tags[value] = tag
        return tag


class _JsonLoader(_LocatingLoader):
    """Plain scalars resolved as JSON defines them; anything that is not JSON falls back to YAML's rules."""

    _tags: dict[str, str] = {}
    _JSON_TAGS = {"true": "tag:yaml.org,2002:bool", "false": "tag:yaml.org,2002:bool",
                  "null": "tag:yaml.org,2002:null"}
    _NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode and implicit[0]:
            tag = self._JSON_TAGS.get(value)
            if tag is not None:
                return tag
            number = self._NUMBER.fullmatch(value)
            if number is not None:
                return "tag:yaml.org,2002:float" if number.group(1) or number.group(2) else "tag:yaml.org,2002:int"
        return super().resolve(kind, value, implicit)


# What JSON allows in a string and YAML does not read back: the escape of a character beyond the BMP as a
# surrogate pair (not preceded by an escaped backslash), and raw characters that YAML refuses (DEL, C1
# controls, noncharacters) or reads as line breaks (NEL, LS, PS). Each is rewritten as a YAML escape.
_JSON_REWRITES = re.compile(r"(?<!\\)((?:\\\\)*)\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"
                            "|[\x7f-\x9f\u2028\u2029\ufffe\uffff]")
_LONE_CR = re.compile(r"\r(?!\n)")


def _has_odd_line_breaks(text: str) -> bool:
    return "\x85" in text or "\u2028" in text or "\u2029" in text or ("\r" in text and bool(_LONE_CR.search(text)))


class _Positions:
    """1-based (line, column) of parser marks from their character offsets, lines counted at line feeds only.

    ``edits`` are (offset in the parsed text, characters removed there) for text rewritten before parsing, so
    that marks still point into the text as written.
    """

    def __init__(self, original: str, edits: Sequence[tuple[int, int]] = ()) -> None:
        self.line_starts = [0] + [match.end() for match in re.finditer("\n", original)]
        self.edit_offsets = [offset for offset, _ in edits]
        self.removed_before: list[int] = []
        removed = 0
        for _, count in edits:
            removed += count
            self.removed_before.append(removed)

    def __call__(self, mark: Any) -> tuple[int, int]:
        index = mark.index
        edited = bisect_right(self.edit_offsets, index)
        if edited:
            index += self.removed_before[edited - 1]
        line = bisect_right(self.line_starts, index)
        return line, index - self.line_starts[line - 1] + 1

    def span(self, node: Node) -> Span:
        line, column = self(node.start_mark)
        end_line, end_column = self(node.end_mark)
        block = node.__class__ is not ScalarNode and not node.flow_style
        if end_line > line and (block or end_column == 1):  # see _span
            end_line, end_column = end_line - 1, 0
        return (line, column, end_line, end_column, getattr(node, "style", None) or "")


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


_ATOMS: dict[tuple[str, str], Any] = {}  # (tag, spelling) -> value of the _ATOM_TAGS scalars
_MISSING = object()


def _construct(loader: Any, root: Node, shares_nodes: bool, positions: _Positions | None) -> Any:
    """The document under ``root`` as LDict/LList/scalars, with spans (see ``_span``, inlined for speed).

    ``shares_nodes``: the document has anchors, so one node may be reached through several aliases; it is
    constructed once and shared, as PyYAML does (recursive aliases were refused by ``_measure``).
    ``positions``: how to place marks when libyaml's own line numbers cannot be used.
    """
    built: dict[int, Any] = {}
    used_pyyaml = False

    def fallback(node: Node) -> Any:
        nonlocal used_pyyaml
        used_pyyaml = True
        return loader.construct_object(node, deep=True)

    def span(node: Node) -> Span:
        if positions is not None:
            return positions.span(node)
        start, end = node.start_mark, node.end_mark
        if node.__class__ is ScalarNode:
            if end.line > start.line and end.column == 0:
                return (start.line + 1, start.column + 1, end.line, 0, node.style or "")
            return (start.line + 1, start.column + 1, end.line + 1, end.column + 1, node.style or "")
        if end.line > start.line and (not node.flow_style or end.column == 0):
            return (start.line + 1, start.column + 1, end.line, 0, "")
        return (start.line + 1, start.column + 1, end.line + 1, end.column + 1, "")

    def build(node: Node, depth: int) -> Any:
        if shares_nodes:
            done = built.get(id(node), _MISSING)
            if done is not _MISSING:
                return done
        kind, tag = node.__class__, node.tag
        if kind is ScalarNode:
            if tag in _TEXT_TAGS:
                return node.value
            if tag in _ATOM_TAGS:
                key = (tag, node.value)
                value = _ATOMS.get(key, _MISSING)
                if value is _MISSING:
                    value = fallback(node)
                    if len(_ATOMS) < 100_000:
                        _ATOMS[key] = value
                return value
            return fallback(node)
        if depth >= MAX_DEPTH:
            raise DocumentTooLarge(f"nesting deeper than {MAX_DEPTH} levels", node.start_mark)
        if kind is MappingNode and tag in _MAP_TAGS:
            data: Any = LDict(span=span(node))
            if shares_nodes:
                built[id(node)] = data
            key_spans, value_spans = data.key_spans, data.value_spans
            if any(key_node.tag in _FLATTEN_TAGS for key_node, _ in node.value):
                loader.flatten_mapping(node)
            for key_node, value_node in node.value:
                key = build(key_node, depth + 1)
                try:
                    hash(key)
                except TypeError:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark, "found unhashable key",
                        key_node.start_mark) from None
                data[key] = build(value_node, depth + 1)
                key_spans[key] = span(key_node)
                value_spans[key] = span(value_node)
            return data
        if kind is SequenceNode and tag == _SEQ_TAG:
            data = LList(span=span(node))
            if shares_nodes:
                built[id(node)] = data
            data.extend([build(child, depth + 1) for child in node.value])
            data.item_spans.extend([span(child) for child in node.value])
            return data
        return fallback(node)

    try:
        return build(root, 0)
    finally:
        build = None  # noqa: F841 - it calls itself through its closure: freed by reference counting, not the collector
        if used_pyyaml:  # what PyYAML's construct_document does after each document
            loader.constructed_objects, loader.recursive_objects = {}, {}


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
                raise DocumentTooLarge(f"nesting deeper than {MAX_DEPTH} levels", node.start_mark)
            if size > MAX_EXPANDED_NODES:
                raise DocumentTooLarge(
                    f"document expands to more than {MAX_EXPANDED_NODES} nodes (alias bomb?)", node.start_mark
                )
            continue
        if key in memo:
            continue
        if key in on_path:
            raise DocumentTooLarge("recursive alias", node.start_mark)
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in memo)
    size = memo[id(root)][0]
    if size > SMALL_DOCUMENT_NODES and size > MAX_EXPANSION_FACTOR * len(memo):
        raise DocumentTooLarge(
            f"aliases expand {len(memo)} distinct nodes to {size} (alias bomb?)", root.start_mark
        )


def _root_scalars(node: Node, keys: tuple[str, ...]) -> tuple[str | None, ...]:
    """Top-level scalar values of a mapping node, read before (and instead of) constructing it."""
    found: dict[str, str] = {}
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value in keys and isinstance(value_node, ScalarNode):
                found[key_node.value] = value_node.value
    return tuple(found.get(key) for key in keys)


# A line starting with `---` then a blank or the end: written without `^` and MULTILINE, which would defeat
# the regular expression engine's literal-prefix search (ten times slower on CRD-heavy repositories).
_DOCUMENT_START = re.compile(r"\n---(?=[ \t\n]|\Z)")
_TOP_LEVEL_KIND = re.compile(r"^kind:[ \t]*[\"']?([A-Za-z0-9]+)[\"']?[ \t]*(?:#.*)?$", re.MULTILINE)


def blank_documents_of_kinds(text: str, kinds: frozenset[str]) -> str:
    """Replace documents whose top-level ``kind`` is in ``kinds`` by blank lines (lines keep their numbers).

    Cheaper than parsing them: CustomResourceDefinition schemas are most of the YAML in operator repos.
    """
    def blank(chunk: str) -> str:
        head = chunk.partition("\n")[0] if chunk.startswith("---") else ""
        return head + "\n" * chunk.count("\n")  # keep the separator so documents stay apart

    return rewrite_documents_of_kinds(text, kinds, blank)


def rewrite_documents_of_kinds(text: str, kinds: frozenset[str], rewrite: Callable[[str], str]) -> str:
    """``text`` with ``rewrite(document)`` in place of each document whose top-level ``kind`` is in ``kinds``,
    found textually (a document's text starts with its ``---`` line, if any)."""
    if not kinds or not any(kind in text for kind in kinds):
        return text
    starts = [0] + [m.start() + 1 for m in _DOCUMENT_START.finditer(text)]
    pieces = []
    for start, end in zip(starts, starts[1:] + [len(text)]):
        chunk = text[start:end]
        match = _TOP_LEVEL_KIND.search(chunk)
        pieces.append(rewrite(chunk) if match and match.group(1) in kinds else chunk)
    return "".join(pieces)


def load_documents(text: str, wanted: DocumentFilter | None = None) -> tuple[list[Document], LoadError | None]:
    """Every document of a YAML stream (JSON is YAML); stops at the first error.

    Every document is parsed, so syntax errors are always reported; ``wanted(kind, apiVersion)``
    decides which ones are also constructed (nobody reads the body of a CRD schema).
    """
    positions = _Positions(text) if _has_odd_line_breaks(text) else None
    return _load(_LocatingLoader(text), text, wanted, positions)


def load_json_documents(text: str, wanted: DocumentFilter | None = None) -> tuple[list[Document], LoadError | None]:
    """JSON through the YAML parser, which gives positions; JSON tabs are plain whitespace."""
    parsed = text.replace("\t", " ")
    edits: list[tuple[int, int]] = []  # see _Positions
    if ("\\u" in parsed or "\x7f" in parsed or not parsed.isascii()) and _JSON_REWRITES.search(parsed):
        pieces, last, length = [], 0, 0
        for match in _JSON_REWRITES.finditer(parsed):
            if match.group(2):
                high, low = int(match.group(2), 16), int(match.group(3), 16)
                escape = match.group(1) + f"\\U{0x10000 + ((high - 0xD800) << 10) + low - 0xDC00:08X}"
            else:
                escape = f"\\u{ord(match.group()):04X}"
            piece = parsed[last:match.start()] + escape
            pieces.append(piece)
            length += len(piece)
            edits.append((length, len(match.group()) - len(escape)))
            last = match.end()
        parsed = "".join(pieces) + parsed[last:]
    positions = _Positions(text, edits) if edits or _has_odd_line_breaks(text) else None
    return _load(_JsonLoader(parsed), parsed, wanted, positions)


def _load(loader: Any, text: str, wanted: DocumentFilter | None,
          positions: _Positions | None) -> tuple[list[Document], LoadError | None]:
    documents: list[Document] = []
    may_alias = "&" in text
    last_line = text.count("\n") + 1

    def line_of(mark: Any) -> int:
        """The line of a document or an error; libyaml puts the end of the stream one line past the text."""
        return min(positions(mark)[0] if positions is not None else mark.line + 1, last_line)

    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if wanted is None or wanted(*_root_scalars(node, ("kind", "apiVersion"))):
                if may_alias:  # without anchors nothing can expand; libyaml caps nesting at 1000
                    _measure(node)
                data = _construct(loader, node, may_alias, positions)
                documents.append(Document(index, data, line_of(node.start_mark)))
            index += 1
    except DocumentTooLarge as exc:
        return documents, LoadError(line_of(exc.mark), str(exc))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = line_of(mark) if mark else 1
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        return documents, LoadError(line, f"invalid YAML: {problem or exc}")
    except yaml.YAMLError as exc:
        return documents, LoadError(1, f"invalid YAML: {exc}")
    except RecursionError:
        return documents, LoadError(1, "nesting too deep to load")
    finally:
        loader.dispose()
    return documents, None

