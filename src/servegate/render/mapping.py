"""Where a rendered object came from: the template line that wrote a Helm value, the base or patch line
that a Kustomize build kept.

Rendered objects are ``RenderedObject``s: ordinary ``K8sObject``s for every rule, whose ``locate`` asks a
source map instead of the rendered text's positions, so findings name source files and lines.

**Helm** (``HelmSourceMap``). Helm keeps no positions, only which template produced each manifest. The
template is read as an outline of YAML keys by indentation, ignoring template actions, and the rendered
path is walked through it:

- a key written in the template maps to its line (``privileged: true``, ``hostNetwork: {{ .Values.x }}``);
  when several lines hold the same key (``if``/``else``), the one whose literal value matches wins;
- a list item is narrowed to the template item with the same ``name:`` (or the same literal scalar), else
  to the item at the same position when the counts agree, else to the only item a ``range`` writes;
- a key the template does not write came from a template action under the deepest matched key
  (``{{- toYaml .Values.securityContext | nindent 12 }}``, an ``include``): the finding points at that
  action's line;
- when the line's value comes from ``.Values.a.b`` (or ``.`` inside ``with .Values.a``), a related location
  names the values key: in the last ``--helm-values`` file that sets it, else in the chart's
  ``values.yaml`` (for a missing key, the block there that should hold it).

Limits: keys written by ``_helpers.tpl`` point at the ``include`` line, not inside the helper; items that
``range`` produces all map to the range body; template actions inside a key (``{{ $k }}:``) match any key;
values passed through variables (``$x := .Values.a``) or ``tpl`` are not traced to ``values.yaml``; a
value given with ``--helm-set`` has no file to point at.

**Kustomize** (``KustomizeSourceMap``). The build's origin annotation names the file that defined the
object; the object is found there by kind and name and the same symbolic path is resolved in it, list
items matched by their ``name`` (or equal scalar), not by position. Strategic-merge patches of the object
(from the Kustomizations that the build's transformer annotations name) are candidates too: a value the
patch sets, or a container the patch adds, points into the patch. An image rewritten by ``images:`` adds a
related location at that entry, and a namespace set by ``namespace:`` points at that line. JSON 6902 patches and inline patches are not traced: such findings point
at the base.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from servegate.findings import Location
from servegate.model.images import image_repository
from servegate.model.k8s import K8sObject
from servegate.sources.located import LDict, Path, format_path, get_path, line_within_scalar, span_of


class SourceMap(Protocol):
    def locate(self, obj: RenderedObject, path: Path, scalar_line: int | None) -> Location: ...

    def provenance(self, obj: RenderedObject, path: Path) -> list[tuple[Location, str]]: ...


@dataclass(frozen=True, slots=True, eq=False)
class RenderedObject(K8sObject):
    """An object of rendered output, located in the sources that produced it."""

    source_map: SourceMap | None = None

    def locate(self, path: Path, scalar_line: int | None = None) -> Location:
        if self.source_map is None:
            return K8sObject.locate(self, path, scalar_line)
        return self.source_map.locate(self, path, scalar_line)

    def provenance(self, path: Path) -> list[tuple[Location, str]]:
        """Related locations for ``evaluate.to_finding``: the values key behind a Helm template line."""
        return self.source_map.provenance(self, path) if self.source_map is not None else []


def as_rendered(obj: K8sObject, source_map: SourceMap, **changes: Any) -> RenderedObject:
    values = {f.name: getattr(obj, f.name) for f in dataclasses.fields(K8sObject)} | changes
    return RenderedObject(**values, source_map=source_map)


def _relative(obj: K8sObject, path: Path) -> Path:
    return path[len(obj.base):] if path[: len(obj.base)] == obj.base else path


# --- Helm --------------------------------------------------------------------------------------------

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.DOTALL)
_ACTIONS_ONLY = re.compile(r"^\s*(?:\{\{.*?\}\}\s*)+$")
_KEY_LINE = re.compile(r"""^(?P<indent> *)(?P<dashes>(?:- +)*)(?P<key>"[^"]*"|'[^']*'|\{\{.*?\}\}[^:\s]*|[^\s#'"{\-][^:#]*?|-[^\s:#][^:#]*?)"""
                       r"""[ ]*:(?:[ ]+(?P<value>.*?))?[ ]*$""")
_ITEM_LINE = re.compile(r"^(?P<indent> *)-(?: +(?P<value>.*?))?[ ]*$")
_DOCUMENT_START = re.compile(r"^---(?=\s|$)")
_BLOCK_SCALAR = re.compile(r"^[|>][-+0-9]*\s*(?:#.*)?$")
_NINDENT = re.compile(r"\b(n?indent)\s+(\d+)")
_VALUES_REF = re.compile(r"\$?\.Values((?:\.[A-Za-z0-9_-]+)+)")
_DOT_REF = re.compile(r"(?:^|[\s(|,])\.((?:[A-Za-z_][\w-]*)(?:\.[A-Za-z_][\w-]*)*)?(?=[\s)|,]|$)")
_OPENERS = {"if", "with", "range", "define", "block"}
_QUIET = {"else", "break", "continue", "end"} | _OPENERS


@dataclass
class _Entry:
    """A line of the template that writes a key, or a scalar list item (``key`` None)."""

    line: int
    col: int
    key: str | None
    parents: tuple[str, ...]  # the keys above it; "*" stands for a key the template computes
    value: str
    dot: tuple[str, ...] | None  # the values path ``.`` means here (inside ``with .Values.x``), if known
    dash_col: int | None = None  # where the "-" is, when the line starts a list item
    end: int = 0  # last line of the key's block
    item_end: int = 0  # last line of the list item it starts
    block_scalar: bool = False

    @property
    def item_name(self) -> str | None:
        if self.key == "name":
            return _unquote(self.value)
        match = re.search(r"\bname:\s*([^,}\s]+)", self.value) if self.key is None else None
        return _unquote(match.group(1)) if match else None


@dataclass
class _Insert:
    """A template action that writes YAML (``toYaml``, ``include``, a bare value) under ``parents``."""

    line: int
    col: int
    expression: str
    parents: tuple[str, ...]
    dot: tuple[str, ...] | None


@dataclass
class _Section:
    start: int
    end: int = 0
    kind: str | None = None  # the literal ``kind:`` of the document, when the template writes one
    entries: list[_Entry] = field(default_factory=list)
    inserts: list[_Insert] = field(default_factory=list)


def _unquote(text: str) -> str:
    text = re.sub(r"\s+#.*$", "", text.strip())
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _values_paths(expression: str, dot: tuple[str, ...] | None) -> tuple[tuple[str, ...], ...]:
    """Every values key a line's value reads (``image: "{{ .Values.repo }}:{{ .Values.tag }}"`` reads two)."""
    explicit = tuple(tuple(m.group(1).split(".")[1:]) for m in _VALUES_REF.finditer(expression))
    if explicit:
        return explicit
    single = _values_path(expression, dot)
    return (single,) if single is not None else ()


def _values_path(expression: str, dot: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The values key an expression reads: ``.Values.a.b``, or ``.``/``.b`` where ``.`` is a values path."""
    match = _VALUES_REF.search(expression)
    if match:
        return tuple(match.group(1).split(".")[1:])
    if dot is not None:
        for action in _ACTION.findall(expression) or [expression]:
            ref = _DOT_REF.search(action)
            if ref:
                return dot + (tuple(ref.group(1).split(".")) if ref.group(1) else ())
    return None


class TemplateOutline:
    """The YAML shape a template writes, line by line, with its template actions set aside."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.sections: list[_Section] = []
        self._parse()

    def _parse(self) -> None:
        section = _Section(start=1)
        stack: list[_Entry] = []
        open_items: list[_Entry] = []
        blocks: list[tuple[str, ...] | None] = []
        block_scalar_col: int | None = None

        def close(entries: list[_Entry], line: int, attr: str) -> None:
            for entry in entries:
                setattr(entry, attr, line)

        def finish(last: int) -> None:
            section.end = last
            close(stack, last, "end")
            close(open_items, last, "item_end")
            self.sections.append(section)

        for number, raw in enumerate(self.lines, start=1):
            indent = len(raw) - len(raw.lstrip(" "))
            stripped = raw.strip()
            if block_scalar_col is not None:
                if not stripped or indent > block_scalar_col:
                    continue
                block_scalar_col = None
            if not stripped or stripped.startswith("#"):
                continue
            dot = blocks[-1] if blocks else None
            if _DOCUMENT_START.match(raw):
                finish(number - 1)
                section, stack, open_items = _Section(start=number + 1), [], []
                continue
            if _ACTIONS_ONLY.match(raw):
                for action in _ACTION.findall(raw):
                    word = action.split(maxsplit=1)[0] if action.split() else ""
                    if word in _OPENERS:
                        argument = action[len(word):].strip()
                        blocks.append(_values_path(argument, dot) if word == "with"
                                      else None if word in ("range", "define", "block") else dot)
                        dot = blocks[-1]
                    elif word == "end":
                        if blocks:
                            blocks.pop()
                        dot = blocks[-1] if blocks else None
                    elif word in _QUIET or word.startswith("/*") or re.match(r"^\$\w*\s*:?=", action):
                        continue
                    else:
                        nindent = _NINDENT.search(action)
                        col = int(nindent.group(2)) if nindent else indent
                        parents = tuple(e.key or "" for e in stack if e.col < col)
                        last = section.entries[-1] if section.entries else None
                        if last is not None and last.key and last.col == col and not last.value.strip():
                            parents = last.parents + (last.key,)  # a list written at its key's column
                        section.inserts.append(_Insert(number, col, action, parents, dot))
                continue
            match = _KEY_LINE.match(raw)
            if match:
                dashes = match.group("dashes")
                col = indent + len(dashes)
                dash_col = indent if dashes else None
                key = _unquote(match.group("key"))
                key = "*" if "{{" in key else key
                value = match.group("value") or ""
            else:
                item = _ITEM_LINE.match(raw)
                if item is None:
                    continue  # a plain scalar continuing a multi-line value
                col, dash_col, key, value = indent + 2, indent, None, item.group("value") or ""
            closing = dash_col if dash_col is not None else col
            while open_items and (open_items[-1].dash_col or 0) >= closing:
                open_items.pop().item_end = number - 1
            while stack and (stack[-1].col > dash_col if dash_col is not None else stack[-1].col >= col):
                stack.pop().end = number - 1
            entry = _Entry(number, col, key, tuple(e.key or "" for e in stack), value, dot, dash_col,
                           block_scalar=bool(_BLOCK_SCALAR.match(value)))
            section.entries.append(entry)
            if dash_col is not None:
                open_items.append(entry)
            if key is not None:
                stack.append(entry)
                if key == "kind" and not stack[:-1] and "{{" not in value:
                    section.kind = _unquote(value)
            if entry.block_scalar:
                block_scalar_col = col
        finish(len(self.lines))


@dataclass(frozen=True)
class _Mapped:
    line: int
    col: int
    values_keys: tuple[tuple[str | int, ...], ...] = ()
    block_scalar: bool = False
    exact: bool = False  # the template line writes the value itself


def _matches(template_keys: tuple[str, ...], keys: tuple[str, ...]) -> bool:
    return len(template_keys) == len(keys) and all(t in (k, "*") for t, k in zip(template_keys, keys))


def _literal_matches(template_value: str, value: Any) -> bool:
    text = _unquote(template_value)
    rendered = str(value).lower() if isinstance(value, bool) else str(value)
    if "{{" not in text:
        return text == rendered
    pattern = "".join(".*?" if part.startswith("{{") else re.escape(part)
                      for part in re.split(r"(\{\{.*?\}\})", text))
    return re.fullmatch(pattern, rendered, re.DOTALL) is not None


@dataclass
class ValuesSource:
    """One place values come from: a values file (or the chart's ``values.yaml``), read with positions."""

    display: str
    doc: Any
    prefix: tuple[str, ...] = ()  # where a subchart's values sit in this file
    defaults: bool = False  # the chart's own values.yaml: a missing key points at its nearest block


@dataclass
class ValuesIndex:
    """Every values source of a chart render, highest precedence first, and the keys ``--helm-set`` sets."""

    sources: list[ValuesSource]
    set_keys: list[tuple[str, ...]] = field(default_factory=list)

    def is_set(self, key: tuple[str | int, ...]) -> bool:
        if any(tuple(key[: len(s)]) == s for s in self.set_keys):
            return True
        return any(span_of(s.doc, s.prefix + tuple(key))[1] == len(s.prefix) + len(key) for s in self.sources)

    def origin(self, key: tuple[str | int, ...]) -> tuple[Location, str] | None:
        dotted = ".".join(str(k) for k in key)
        if any(tuple(key[: len(s)]) == s for s in self.set_keys):
            return None  # set on the command line: no file to point at
        for source in self.sources:
            path = source.prefix + tuple(key)
            span, resolved = span_of(source.doc, path)
            if resolved == len(path):
                return (Location(source.display, span[0], span[1], span[0], 0, dotted),
                        f"values key `{dotted}` set in {source.display}")
            if source.defaults and resolved > len(source.prefix):
                return (Location(source.display, span[0], span[1], span[0], 0, dotted),
                        f"values key `{dotted}` is not set; its nearest block in {source.display}")
        return None


class HelmSourceMap:
    """Rendered paths of one template's output, mapped to that template's lines."""

    def __init__(self, display: str, outline: TemplateOutline, values: ValuesIndex | None) -> None:
        self.display = display
        self.outline = outline
        self.values = values
        self._memo: dict[tuple[int, Path], _Mapped] = {}

    def locate(self, obj: RenderedObject, path: Path, scalar_line: int | None) -> Location:
        mapped = self._resolve(obj, path)
        line = mapped.line
        if scalar_line is not None and mapped.exact and mapped.block_scalar:
            line += 1 + scalar_line  # the template writes the block literally, one line per line
        text = self.outline.lines[line - 1] if 0 < line <= len(self.outline.lines) else ""
        end = len(text) + 1 if line == mapped.line else 0
        return Location(self.display, line, mapped.col, line, end, format_path(_relative(obj, path)))

    def provenance(self, obj: RenderedObject, path: Path) -> list[tuple[Location, str]]:
        mapped = self._resolve(obj, path)
        if self.values is None:
            return []
        return [origin for key in mapped.values_keys if (origin := self.values.origin(key)) is not None]

    def _resolve(self, obj: RenderedObject, path: Path) -> _Mapped:
        key = (id(obj), path)
        if key not in self._memo:
            sections = [s for s in self.outline.sections if s.kind == obj.kind] or \
                [s for s in self.outline.sections if s.kind is None] or self.outline.sections
            node = get_path(obj.doc, obj.base)
            found = [self._resolve_in(s, node, _relative(obj, path)) for s in sections]
            self._memo[key] = max(found, key=lambda m: m[1])[0] if found else _Mapped(1, 1)
        return self._memo[key]

    def _resolve_in(self, section: _Section, node: Any, path: Path) -> tuple[_Mapped, int]:
        first = section.entries[0] if section.entries else None
        current: _Entry | None = None
        keys: tuple[str, ...] = ()
        lo, hi = section.start, section.end
        for step_index, step in enumerate(path):
            if isinstance(step, int):
                if not isinstance(node, list) or not 0 <= step < len(node):
                    break
                narrowed = self._item(section, keys, node, step, lo, hi)
                if isinstance(narrowed, _Insert):
                    return self._from_insert(narrowed, path[step_index:]), len(path)
                if narrowed is not None:
                    current, lo, hi = narrowed, narrowed.line, narrowed.item_end or narrowed.line
                node = node[step]
                continue
            if not isinstance(node, dict) or step not in node:
                break
            written = [e for e in section.entries if e.key in (step, "*") and lo <= e.line <= hi
                       and _matches(e.parents, keys)]
            if written:
                current = self._best(written, node[step], self.values)
                keys, lo, hi, node = keys + (step,), current.line, current.end or current.line, node[step]
                continue
            insert = self._insert(section, keys, lo, hi)
            if insert is not None:
                return self._from_insert(insert, path[step_index:]), len(path)
            break
        else:
            if current is not None:
                exact = current.key is not None or current.dash_col is not None
                values_keys = _values_paths(current.value, current.dot) if "{{" in current.value else ()
                return _Mapped(current.line, current.col + 1, values_keys, current.block_scalar, exact), len(path)
        if current is None:
            return (_Mapped(first.line, first.col + 1) if first else _Mapped(section.start, 1)), 0
        # A missing key: the block that should hold it, and, when a values block fills that block whole
        # (`{{- toYaml .Values.securityContext | nindent 12 }}`), the values key that would set it.
        filled_whole = not any(lo < e.line <= hi and _matches(e.parents, keys) for e in section.entries)
        insert = self._insert(section, keys, lo, hi) if filled_whole else None
        block = _values_path(insert.expression, insert.dot) if insert is not None else None
        missing = block + tuple(path[step_index:]) if block is not None else None
        return _Mapped(current.line, current.col + 1, (missing,) if missing is not None else ()), len(keys)

    @staticmethod
    def _best(entries: list[_Entry], value: Any, values: ValuesIndex | None) -> _Entry:
        """Of several lines writing the same key (if/else branches), the one writing this value: its literal
        text matches, and the values it reads are set."""
        if not isinstance(value, (dict, list)):
            literal = [e for e in entries if _literal_matches(e.value, value)]
            if len(literal) > 1 and values is not None:
                literal = [e for e in literal if all(values.is_set(k) for k in _values_paths(e.value, e.dot))] \
                    or literal
            if literal:
                return literal[0]
        exact = [e for e in entries if e.key != "*"]
        return (exact or entries)[0]

    @staticmethod
    def _insert(section: _Section, keys: tuple[str, ...], lo: int, hi: int) -> _Insert | None:
        return next((i for i in section.inserts if lo <= i.line <= hi and _matches(i.parents, keys)), None)

    def _item(self, section: _Section, keys: tuple[str, ...], items: list, index: int,
              lo: int, hi: int) -> _Entry | _Insert | None:
        written = [e for e in section.entries if e.dash_col is not None and lo <= e.line <= hi
                   and _matches(e.parents, keys)]
        item = items[index]
        name = item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str):
            named = [e for e in written if e.item_name is not None and _literal_matches(e.item_name, name)]
            if named:
                return named[0]
        if not isinstance(item, (dict, list)):
            literal = [e for e in written if e.key is None and _literal_matches(e.value, item)]
            if literal:
                return literal[0]
        if written and len(written) == len(items):
            return written[index]
        insert = self._insert(section, keys, lo, hi)
        if insert is not None and len(written) < len(items):
            return insert
        return written[0] if len(written) == 1 else None

    @staticmethod
    def _from_insert(insert: _Insert, rest: Path) -> _Mapped:
        base = _values_path(insert.expression, insert.dot)
        return _Mapped(insert.line, insert.col + 1, (base + tuple(rest),) if base is not None else ())


# --- Kustomize ---------------------------------------------------------------------------------------

_MERGE_KEYS = ("name", "containerPort", "mountPath", "devicePath", "ip", "topologyKey")


def _matching_item(item: Any, candidates: list, index: int) -> int | None:
    """The item of a source list that a built list item comes from: same merge key, or same scalar."""
    if isinstance(item, dict):
        for key in _MERGE_KEYS:
            if key in item:
                return next((i for i, c in enumerate(candidates) if isinstance(c, dict) and c.get(key) == item[key]),
                            None)
        return index if index < len(candidates) else None
    if isinstance(item, list):
        return index if index < len(candidates) else None
    return next((i for i, c in enumerate(candidates) if c == item), None)


def translate(built: Any, source: Any, path: Path) -> tuple[Path, Any]:
    """The longest prefix of ``path`` that exists in ``source``, with list indices of ``source``, and the
    value there."""
    out: list[str | int] = []
    for step in path:
        if isinstance(step, str):
            if not (isinstance(built, dict) and isinstance(source, dict) and step in built and step in source):
                break
            built, source = built[step], source[step]
        else:
            if not (isinstance(built, list) and isinstance(source, list) and 0 <= step < len(built)):
                break
            found = _matching_item(built[step], source, step)
            if found is None:
                break
            built, source, step = built[step], source[found], found
        out.append(step)
    return tuple(out), source


@dataclass
class KustomizeSourceMap:
    """A built object's sources: the resource as written (``origin``), the patches applied to it, and, for
    generated objects, the generator entry (``generated``)."""

    origin: K8sObject | None
    patches: list[K8sObject] = field(default_factory=list)  # in the order they apply
    generated: Location | None = None
    images: list[tuple[K8sObject, int, dict]] = field(default_factory=list)  # applicable `images:` entries
    namespace_from: Location | None = None  # the `namespace:` of the Kustomization that set the namespace

    def _best(self, obj: RenderedObject, path: Path) -> tuple[K8sObject | None, Path, bool]:
        rel = _relative(obj, path)
        built = get_path(obj.doc, obj.base)
        best: tuple[tuple, K8sObject | None, Path, bool] = ((-1,), None, (), False)
        for rank, source in enumerate(([self.origin] if self.origin else []) + self.patches):
            found, value = translate(built, source.data, rel)
            full = len(found) == len(rel)
            same = full and value == get_path(built, rel)
            # Deepest wins; among full matches the value's last writer; among partial ones the resource itself.
            score = (len(found), same, rank if full else -rank)
            if score > best[0]:
                best = (score, source, source.base + found, full)
        return best[1], best[2], best[3]

    def locate(self, obj: RenderedObject, path: Path, scalar_line: int | None) -> Location:
        relative = format_path(_relative(obj, path))
        source, source_path, full = self._best(obj, path)
        if self.namespace_from is not None and _relative(obj, path)[:2] == ("metadata", "namespace") and \
                (not full or get_path(source.data if source else None, ("metadata", "namespace")) != obj.namespace):
            return dataclasses.replace(self.namespace_from, path=relative)
        if source is None:
            where = self.generated or Location(obj.file, 1)
            return dataclasses.replace(where, path=relative)
        if scalar_line is not None and full:
            line = line_within_scalar(source.doc, source_path, scalar_line)
            return Location(source.file, line, 1, line, 0, relative)
        span, _ = span_of(source.doc, source_path)
        return Location(source.file, span[0], span[1], span[2], span[3], relative)

    def provenance(self, obj: RenderedObject, path: Path) -> list[tuple[Location, str]]:
        rel = _relative(obj, path)
        if not rel or rel[-1] != "image" or not self.images or self.origin is None:
            return []
        source, source_path, full = self._best(obj, path)
        written = get_path(source.doc, source_path) if source is not None and full else None
        if not isinstance(written, str):
            return []
        related = []
        for kustomization, index, entry in self.images:
            if entry.get("name") == image_repository(written):
                span, _ = span_of(kustomization.doc, ("images", index))
                related.append((Location(kustomization.file, span[0], span[1], span[2], span[3], f"images[{index}]"),
                                f"image rewritten to `{get_path(obj.doc, path)}` by `images:` in "
                                f"{kustomization.file}"))
        return related


def strip_build_annotations(doc: Any, keys: tuple[str, ...]) -> dict[str, str]:
    """Remove the annotations the build added for us and return them (rules must not see them)."""
    found: dict[str, str] = {}
    annotations = get_path(doc, ("metadata", "annotations"))
    if not isinstance(annotations, dict):
        return found
    for key in keys:
        if key in annotations:
            found[key] = str(annotations.pop(key))
            if isinstance(annotations, LDict):
                annotations.key_spans.pop(key, None)
                annotations.value_spans.pop(key, None)
    if not annotations:
        metadata = doc["metadata"]
        del metadata["annotations"]
    return found
