"""A line-preserving rewrite of the Rego v0 rule heads Conftest policies are full of, into Rego v1.

OPA 1.x parses Rego v1 only, and most Conftest policies in the wild are v0: ``deny[msg] { ... }``. The rewrite
touches nothing but rule heads that open a body, at the top level of the file, on the head's own line:

* ``name[key] {``               -> ``name contains key if {``   (a partial set: deny, warn, violation...)
* ``name {``, ``name(args) {``, ``name = value {``, ``name[key] = value {``, ``else = value {``
                                -> the same head with ``if`` before the body

Nothing else changes, so line numbers in OPA's messages still point into the user's file. A v0 policy that
needs more (a removed built-in such as ``re_match``, a head spread over several lines) still fails, with OPA's
message and the advice to convert it for good with ``opa fmt --v0-v1``.
"""

from __future__ import annotations

import re

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NOT_HEADS = frozenset({"package", "import", "default", "not", "some", "every", "with", "as", "contains", "if"})
_OPENERS, _CLOSERS = "{[(", "}])"


def looks_like_v0(message: str) -> bool:
    """OPA's parse errors that mean "this is Rego v0"."""
    return "keyword is required" in message


def rewrite(source: str) -> tuple[str, list[int]]:
    """The source with v0 rule heads rewritten, and the (1-based) numbers of the lines changed."""
    lines = source.split("\n")
    changed: list[int] = []
    depth = 0
    in_raw = False
    for number, line in enumerate(lines):
        start_raw = in_raw
        depth, in_raw, top_start = _scan(line, depth, in_raw)
        if start_raw or top_start is None:
            continue
        new = _rewrite_head(line, top_start)
        if new is not None:
            lines[number] = new
            changed.append(number + 1)
    return "\n".join(lines), changed


def _scan(line: str, depth: int, in_raw: bool) -> tuple[int, bool, int | None]:
    """Bracket depth and raw-string state after ``line``, and where on it the top level starts (None: never)."""
    top_start = 0 if depth == 0 and not in_raw else None
    i = 0
    while i < len(line):
        ch = line[i]
        if in_raw:
            if ch == "`":
                in_raw = False
        elif ch == "`":
            in_raw = True
        elif ch == '"':
            i = _string_end(line, i)
        elif ch == "#":
            break
        elif ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth -= 1
            if depth == 0 and top_start is None:
                top_start = i + 1  # "} else = x {" starts a head after the brace
        i += 1
    return depth, in_raw, top_start


def _string_end(line: str, start: int) -> int:
    i = start + 1
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        if line[i] == '"':
            return i
        i += 1
    return len(line)


def _rewrite_head(line: str, start: int) -> str | None:
    code, comment = _split_comment(line)
    text = code[start:]
    stripped = text.lstrip()
    match = _IDENT.match(stripped)
    if match is None or match.group() in _NOT_HEADS:
        return None
    offset = start + len(text) - len(stripped)
    name = match.group()
    i = offset + match.end()
    arguments = key = ""
    if i < len(code) and code[i] == "(":
        end = _matching(code, i)
        if end is None:
            return None
        arguments, i = code[i:end + 1], end + 1
    if i < len(code) and code[i] == "[":
        end = _matching(code, i)
        if end is None:
            return None
        key, i = code[i + 1:end], end + 1
    rest = code[i:]
    body = _body_brace(rest)
    if body is None:
        return None
    between = rest[:body]
    if re.search(r"\b(if|contains)\b", between):
        return None  # already Rego v1
    head_value = between.strip()
    if head_value and not head_value.startswith(("=", ":=")):
        return None
    if key and not head_value and name != "else":
        head = f"{name} contains {key.strip()} if "
    else:
        head = f"{name}{arguments}{'[' + key + ']' if key else ''}{(' ' + head_value) if head_value else ''} if "
    return code[:offset] + head + rest[body:] + comment


def _split_comment(line: str) -> tuple[str, str]:
    i = 0
    while i < len(line):
        if line[i] == '"':
            i = _string_end(line, i)
        elif line[i] == "#":
            return line[:i], line[i:]
        i += 1
    return line, ""


def _matching(code: str, start: int) -> int | None:
    depth = 0
    i = start
    while i < len(code):
        ch = code[i]
        if ch == '"':
            i = _string_end(code, i)
        elif ch == "`":
            i = code.find("`", i + 1)
            if i < 0:
                return None
        elif ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _body_brace(rest: str) -> int | None:
    """Where the body's ``{`` is in what follows a head's name, arguments and key; None when there is no body.

    ``{`` first: the body. ``= value`` or ``:= value`` first: the last top-level ``{`` group, when something other
    than ``=`` stands before it (``x = {"a": 1}`` is a value; ``x = {"a": 1} { true }`` has a body).
    """
    stripped = rest.rstrip()
    lead = stripped.lstrip()
    if lead.startswith("{"):
        return len(stripped) - len(lead)
    if not lead.startswith(("=", ":=")):
        return None
    last = None
    i = 0
    while i < len(stripped):
        ch = stripped[i]
        if ch == '"':
            i = _string_end(stripped, i)
        elif ch == "`":
            i = stripped.find("`", i + 1)
            if i < 0:
                return None  # a raw string runs on: not a head
        elif ch in _OPENERS:
            end = _matching(stripped, i)
            if ch == "{":
                last = i
            if end is None:
                break
            i = end
        i += 1
    if last is None or stripped[:last].strip() in ("=", ":="):
        return None
    return last
