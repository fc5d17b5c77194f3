"""Symbolic operations on a YAML (or JSON) manifest, turned into minimal text edits.

Only what an operation is about changes. New keys go after the last line of the mapping that receives them,
with the indentation of their siblings (in a flow mapping `{a: 1}` they are appended as `, b: 2`); new list
items follow the last item with its dash's indentation; a replaced scalar keeps its quoting style. Nothing else
is re-emitted, so comments, key order, quoting and the indentation of every untouched line survive.

Operations are first merged per target (one fix may set several keys of one new `securityContext`), then
emitted as edits against the text the documents were loaded from.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from typing import Any

import yaml

from servegate.fix.model import AddItem, Operation, RemoveKey, ReplaceText, SetKey
from servegate.fix.text import Conflict, SourceText, TextEdit, Unsupported
from servegate.sources.located import LDict, LList, Path, Span, format_path

# Scalars written without quotes when they read back as the same string (commas only outside flow style).
_PLAIN = re.compile(r"[A-Za-z0-9_./$()=+@~-][A-Za-z0-9_./$()=+@~:,-]*")


@functools.lru_cache(maxsize=4096)
def _reads_back_as_itself(text: str) -> bool:
    """Whether ``text`` written plain is read back as the same string (not a number, boolean or null).

    Cached: fixes are planned for every finding of a scan, and they write the same few words again and again."""
    if not _PLAIN.fullmatch(text):
        return False
    try:
        return yaml.safe_load(text) == text
    except yaml.YAMLError:
        return False


def _equal(a: Any, b: Any) -> bool:
    """Equality that tells `true` from `1`, as YAML does."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _plain_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_copy(v) for v in value]
    return copy.copy(value)


def _merge(holder: dict, key: Any, value: Any) -> None:
    """Merge ``value`` into ``holder[key]``: mappings key by key, lists as a union; a different scalar conflicts."""
    if key not in holder:
        holder[key] = _plain_copy(value)
        return
    current = holder[key]
    if isinstance(current, dict) and isinstance(value, dict):
        for k, v in value.items():
            _merge(current, k, v)
    elif isinstance(current, list) and isinstance(value, list):
        current.extend(_plain_copy(v) for v in value if not any(_equal(v, c) for c in current))
    elif not _equal(current, value):
        raise Conflict(f"{key}: {current!r} and {value!r}")


def _nest(steps: Path, value: Any) -> Any:
    for step in reversed(steps):
        if isinstance(step, int):
            raise Unsupported("a list item under a key that does not exist")
        value = {step: value}
    return value


class YamlPatch:
    """The edits of one fix (or several merged) against one file."""

    def __init__(self, source: SourceText, json_style: bool = False) -> None:
        self.source = source
        self.json = json_style
        self._new: dict[int, tuple[LDict, dict, Any]] = {}  # mapping -> (mapping, new entries, document root)
        self._depth: dict[int, int] = {}  # node -> how deep it sits in its document, to order insertions
        self._replace: dict[tuple[int, Any], tuple[Any, Any, dict]] = {}  # (container, key) -> ..., {"v": value}
        self._append: dict[int, tuple[LList, list]] = {}
        self._remove: dict[tuple[int, Any], tuple[Any, Any]] = {}
        self._text: dict[tuple[int, Any], tuple[Any, Any, list[tuple[str, str]]]] = {}
        self._removed: set[int] = set()
        self._touched: set[int] = set()
        self._styles: dict[int, tuple[int, int]] = {}

    # --- operations ------------------------------------------------------------------------------------
    def add(self, root: Any, op: Operation) -> None:
        if isinstance(op, SetKey):
            self._set(root, op.path, op.value, op.replace)
        elif isinstance(op, AddItem):
            self._add_item(root, op.path, op.value)
        elif isinstance(op, RemoveKey):
            self._remove_at(root, op.path)
        elif isinstance(op, ReplaceText):
            self._replace_text_at(root, op.path, op.old, op.new)
        else:
            raise Unsupported(f"{type(op).__name__} is not a YAML operation")

    def _set(self, root: Any, path: Path, value: Any, replace: bool) -> None:
        if not path:
            raise Unsupported("the document itself cannot be replaced")
        node = root
        for index, step in enumerate(path):
            if id(node) in self._removed:
                raise Conflict(f"{format_path(path)} is inside something removed")
            last = index == len(path) - 1
            if isinstance(node, LDict) and not isinstance(step, int):
                pending = self._replace.get((id(node), step))
                if pending is not None:  # a null being replaced by this fix: build on the replacement
                    _merge(pending[2], "v", _nest(path[index + 1:], value))
                    return
                if step not in node:
                    self._new_entry(node, step, _nest(path[index + 1:], value), root, index)
                    return
                current = node[step]
                if last:
                    self._set_existing(root, node, step, current, value, replace, index + 1)
                    return
                if current is None:
                    self._replace_value(node, step, _nest(path[index + 1:], value))
                    return
                node = current
            elif isinstance(node, LList) and isinstance(step, int) and 0 <= step < len(node):
                if last:
                    self._set_existing(root, node, step, node[step], value, replace, index + 1)
                    return
                node = node[step]
            else:
                raise Unsupported(f"cannot reach {format_path(path)} through a scalar")

    def _set_existing(self, root: Any, container: Any, key: Any, current: Any, value: Any, replace: bool,
                      depth: int) -> None:
        if isinstance(current, LDict) and isinstance(value, dict):
            for k, v in value.items():
                self._set_in(root, current, k, v, replace, depth)
            return
        if current is not None and not replace:
            return
        if _equal(current, value):
            return
        self._replace_value(container, key, value)

    def _set_in(self, root: Any, mapping: LDict, key: Any, value: Any, replace: bool, depth: int) -> None:
        if key in mapping:
            self._set_existing(root, mapping, key, mapping[key], value, replace, depth + 1)
        else:
            self._new_entry(mapping, key, value, root, depth)

    def _new_entry(self, mapping: LDict, key: Any, value: Any, root: Any, depth: int) -> None:
        entries = self._new.setdefault(id(mapping), (mapping, {}, root))[1]
        _merge(entries, key, value)
        self._touched.add(id(mapping))
        self._depth[id(mapping)] = depth

    def _replace_value(self, container: Any, key: Any, value: Any) -> None:
        slot = (id(container), key)
        if slot in self._text or slot in self._remove:
            raise Conflict(f"{key!r} is both replaced and edited")
        if slot in self._replace:
            _merge(self._replace[slot][2], "v", value)
        else:
            self._replace[slot] = (container, key, {"v": _plain_copy(value)})
        self._touched.add(id(container))

    def _existing(self, root: Any, path: Path) -> tuple[bool, Any]:
        node = root
        for step in path:
            if isinstance(node, LDict) and not isinstance(step, int) and step in node:
                node = node[step]
            elif isinstance(node, LList) and isinstance(step, int) and 0 <= step < len(node):
                node = node[step]
            else:
                return False, None
        return True, node

    def _add_item(self, root: Any, path: Path, value: Any) -> None:
        found, current = self._existing(root, path)
        if found and isinstance(current, LList):
            if any(_equal(item, value) for item in current):
                return
            items = self._append.setdefault(id(current), (current, []))[1]
            if not any(_equal(item, value) for item in items):
                items.append(_plain_copy(value))
            self._touched.add(id(current))
            self._depth[id(current)] = len(path)
        elif found and current is not None:
            raise Unsupported(f"{format_path(path)} is not a list")
        else:
            self._set(root, path, [value], True)

    def _remove_at(self, root: Any, path: Path) -> None:
        found, container = self._existing(root, path[:-1])
        key = path[-1] if path else None
        if not found or not path:
            return
        if isinstance(container, LDict) and not isinstance(key, int) and key in container:
            value = container[key]
        elif isinstance(container, LList) and isinstance(key, int) and 0 <= key < len(container):
            value = container[key]
            if len(container) == 1 and not self._is_flow(container.span):
                self._remove_at(root, path[:-1])  # the last item of a block list: the key goes with it
                return
        else:
            return  # already gone
        slot = (id(container), key)
        if slot in self._replace or slot in self._text or id(value) in self._touched:
            raise Conflict(f"{format_path(path)} is both removed and edited")
        self._remove[slot] = (container, key)
        self._removed.add(id(value))
        self._touched.add(id(container))

    def _replace_text_at(self, root: Any, path: Path, old: str, new: str) -> None:
        found, container = self._existing(root, path[:-1])
        key = path[-1] if path else None
        found_value, value = self._existing(root, path)
        if not found or not found_value or not isinstance(value, str):
            raise Unsupported(f"{format_path(path)} is not a string")
        slot = (id(container), key)
        if slot in self._replace or slot in self._remove:
            raise Conflict(f"{format_path(path)} is both replaced and edited")
        pairs = self._text.setdefault(slot, (container, key, []))[2]
        if (old, new) not in pairs:
            pairs.append((old, new))
        self._touched.add(id(container))

    # --- emission --------------------------------------------------------------------------------------
    def edits(self) -> list[TextEdit]:
        """The edits by position; insertions at one position innermost node first, so nesting stays right
        (a container's new `volumeMounts` items before its new `securityContext` key, both at its end)."""
        out: list[tuple[TextEdit, int]] = []
        for mapping, entries, root in self._new.values():
            out.append((self._insert_entries(mapping, entries, root), self._depth[id(mapping)]))
        for container, key, holder in self._replace.values():
            out.append((self._emit_replacement(container, key, holder["v"]), 0))
        for items_list, items in self._append.values():
            out.append((self._emit_items(items_list, items), self._depth[id(items_list)]))
        for container, key in self._remove.values():
            out.append((self._emit_removal(container, key), 0))
        for container, key, pairs in self._text.values():
            out.extend((edit, 0) for edit in self._emit_text(container, key, pairs))
        return [edit for edit, _ in sorted(out, key=lambda item: (item[0][0], item[0][1], -item[1]))]

    def _start(self, span: Span) -> int:
        return self.source.offset(span[0], span[1])

    def _is_flow(self, span: Span) -> bool:
        return self.source.text[self._start(span):self._start(span) + 1] in ("{", "[")

    def _scalar_end(self, value: Any, span: Span) -> int:
        if span[3] == 0:
            return self.source.line_end(self._last_line(value, span))
        return self.source.offset(span[2], span[3])

    def _last_line(self, node: Any, span: Span) -> int:
        """The last line holding content of a node: trailing comments and blank lines belong to no node."""
        if isinstance(node, LDict) and node and not self._is_flow(span):
            key = next(reversed(node))
            return self._last_line(node[key], node.value_spans[key])
        if isinstance(node, LList) and node and not self._is_flow(span):
            return self._last_line(node[-1], node.item_spans[-1])
        line, _, end_line, end_column, style = span
        if end_column != 0:
            return end_line - 1 if end_column == 1 and end_line > line else end_line
        header = self.source.text[self._start(span):self.source.line_end(line)]
        keep = style in ("|", ">") and "+" in header.split("#", 1)[0]
        last = end_line
        content_indent = len(self.source.indentation(line + 1)) if style in ("|", ">") else 0
        while not keep and last > line:
            text = self.source.line_text(last)
            if text.strip() and not (text.lstrip().startswith("#") and len(self.source.indentation(last)) <
                                     content_indent):
                break
            last -= 1
        return last

    def _dash_offset(self, items_list: LList, index: int) -> int:
        """The offset of the dash of a block list's item, which must start its line."""
        start = self._start(items_list.item_spans[index])
        line_start = self.source.text.rfind("\n", 0, start) + 1
        before = self.source.text[line_start:start].rstrip(" \t")
        if not before.endswith("-") or before[:-1].strip(" \t-"):
            raise Unsupported("a block list whose items do not start their lines")
        return line_start + len(before) - 1

    def _dash_column(self, items_list: LList) -> int:
        offset = self._dash_offset(items_list, 0)
        return offset - (self.source.text.rfind("\n", 0, offset) + 1) + 1

    def _style(self, root: Any) -> tuple[int, int]:
        """(indentation step of nested mappings, offset of a block list's dash from its key) in a document."""
        cached = self._styles.get(id(root))
        if cached is not None:
            return cached
        step: int | None = None
        dash: int | None = None
        stack = [root]
        while stack and (step is None or dash is None):
            node = stack.pop()
            if isinstance(node, LDict):
                for key, value in node.items():
                    key_span = node.key_spans.get(key)
                    if key_span is None:
                        continue
                    if step is None and isinstance(value, LDict) and value and not self._is_flow(value.span):
                        child = value.key_spans[next(iter(value))]
                        if child[0] > key_span[0] and child[1] > key_span[1]:
                            step = child[1] - key_span[1]
                    if dash is None and isinstance(value, LList) and value and not self._is_flow(value.span):
                        try:
                            dash = max(self._dash_column(value) - key_span[1], 0)
                        except Unsupported:
                            pass
                    if isinstance(value, (LDict, LList)):
                        stack.append(value)
            elif isinstance(node, LList):
                stack.extend(item for item in node if isinstance(item, (LDict, LList)))
        found = (step or 2, dash if dash is not None else 0)
        self._styles[id(root)] = found
        return found

    def _new_line_text(self, line: int, body: str) -> TextEdit:
        at, missing_break = self.source.after_line(line)
        newline = self.source.newline
        body = body.replace("\n", newline)
        if missing_break:
            return at, at, newline + body[: -len(newline)]
        return at, at, body

    def _insert_entries(self, mapping: LDict, entries: dict, root: Any) -> TextEdit:
        start = self._start(mapping.span)
        if self._is_flow(mapping.span):
            pairs = ", ".join(f"{self._key(k)}: {self._flow(v)}" for k, v in entries.items())
            if not mapping:
                return start + 1, start + 1, pairs
            last = next(reversed(mapping))
            end = self._scalar_end(mapping[last], mapping.value_spans[last])
            return end, end, ", " + pairs
        if self.json:
            raise Unsupported("a JSON document with a block mapping")
        indent = mapping.key_spans[next(iter(mapping))][1] - 1
        body = self._block_entries(entries, indent, root)
        return self._new_line_text(self._last_line(mapping, mapping.span), body)

    def _block_entries(self, entries: dict, indent: int, root: Any) -> str:
        step, dash = self._style(root)
        pad = " " * indent
        out = []
        for key, value in entries.items():
            name = self._key(key, flow=False)
            if isinstance(value, dict) and value:
                out.append(f"{pad}{name}:\n" + self._block_entries(value, indent + step, root))
            elif isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
                items = "".join(f"{' ' * (indent + dash)}- {self._flow(item)}\n" for item in value)
                out.append(f"{pad}{name}:\n{items}")
            else:
                out.append(f"{pad}{name}: {self._flow(value) if isinstance(value, (dict, list)) else self._scalar(value, False)}\n")
        return "".join(out)

    def _emit_replacement(self, container: Any, key: Any, value: Any) -> TextEdit:
        span = container.value_spans[key] if isinstance(container, LDict) else container.item_spans[key]
        current = container[key]
        start = self._start(span)
        in_flow = self._is_flow(container.span)
        if isinstance(current, (LDict, LList)):
            if not self._is_flow(span):
                raise Unsupported("replacing a block collection")
            return start, self.source.offset(span[2], span[3]), self._flow(value)
        end = self._scalar_end(current, span)
        if isinstance(value, (dict, list)):
            text = self._flow(value)
        else:
            text = self._scalar(value, in_flow, span[4] if span[4] in ("'", '"') else "")
        if start == end and self.source.text[start - 1:start] == ":":
            text = " " + text  # `key:` with nothing after it
        return start, end, text

    def _emit_items(self, items_list: LList, items: list) -> TextEdit:
        if self._is_flow(items_list.span):
            rendered = ", ".join(self._flow(item) for item in items)
            if not items_list:
                start = self._start(items_list.span) + 1
                return start, start, rendered
            end = self._scalar_end(items_list[-1], items_list.item_spans[-1])
            return end, end, ", " + rendered
        if self.json:
            raise Unsupported("a JSON document with a block list")
        pad = " " * (self._dash_column(items_list) - 1)
        body = "".join(f"{pad}- {self._flow(item) if isinstance(item, (dict, list)) else self._scalar(item, False)}\n"
                       for item in items)
        return self._new_line_text(self._last_line(items_list, items_list.span), body)

    def _emit_removal(self, container: Any, key: Any) -> TextEdit:
        source = self.source
        if isinstance(container, LDict):
            keys = list(container)
            index = keys.index(key)
            start_span, value_span = container.key_spans[key], container.value_spans[key]
            neighbours = [(container.key_spans[k], container[k], container.value_spans[k]) for k in keys]
        else:
            index = key
            start_span = value_span = container.item_spans[key]
            neighbours = [(s, v, s) for s, v in zip(container.item_spans, container)]
        value = container[key]
        if self._is_flow(container.span):
            end = self._scalar_end(value, value_span)
            if len(neighbours) == 1:
                return self._start(start_span), end, ""
            if index > 0:
                previous = neighbours[index - 1]
                return self._scalar_end(previous[1], previous[2]), end, ""
            return self._start(start_span), self._start(neighbours[1][0]), ""
        if len(neighbours) == 1:
            raise Unsupported("removing the only key of a block mapping")
        first_line = start_span[0]
        start = self._dash_offset(container, index) if isinstance(container, LList) else self._start(start_span)
        if source.text[source.line_start(first_line):start].strip(" \t"):
            raise Unsupported("removing a key that shares its line with another")
        last = self._last_line(value, value_span)
        at, missing_break = source.after_line(last)
        if missing_break:  # the last line of a file without a final line break
            return source.line_end(first_line - 1) if first_line > 1 else 0, at, ""
        return source.line_start(first_line), at, ""

    def _emit_text(self, container: Any, key: Any, pairs: list[tuple[str, str]]) -> list[TextEdit]:
        span = container.value_spans[key] if isinstance(container, LDict) else container.item_spans[key]
        start, end = self._start(span), self._scalar_end(container[key], span)
        text = self.source.text
        out = []
        for old, new in pairs:
            found = text.find(old, start, end)
            if found < 0 or text.find(old, found + 1, end) >= 0:
                raise Unsupported(f"{old!r} does not occur exactly once in {key!r}")
            begin, finish = found, found + len(old)
            if not new:  # take the blank before the word with it, else the one after
                while begin > start and text[begin - 1] in " \t":
                    begin -= 1
                if begin == found and finish < end and text[finish] in " \t":
                    finish += 1
            out.append((begin, finish, new))
        return out

    # --- rendering -------------------------------------------------------------------------------------
    def _plain(self, text: str, flow: bool) -> bool:
        return not (flow and (":" in text or "," in text)) and _reads_back_as_itself(text)

    def _scalar(self, value: Any, flow: bool, style: str = "") -> str:
        if self.json:
            return json.dumps(value)
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return repr(value)
        text = str(value)
        if style == "'":
            return "'" + text.replace("'", "''") + "'"
        if style != '"' and self._plain(text, flow):
            return text
        return json.dumps(text, ensure_ascii=False)

    def _key(self, key: Any, flow: bool = True) -> str:
        return self._scalar(key, flow)

    def _flow(self, value: Any) -> str:
        if self.json:
            return json.dumps(value)
        if isinstance(value, dict):
            return "{" + ", ".join(f"{self._key(k)}: {self._flow(v)}" for k, v in value.items()) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(self._flow(v) for v in value) + "]"
        return self._scalar(value, True)
