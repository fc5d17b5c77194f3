"""Terraform source (``.tf``, ``.tfvars``, ``.tf.json``, ``.tfvars.json``) to the syntax tree of ``hcl_ast``.

Native syntax is parsed with tree-sitter (``tree_sitter_hcl``); JSON syntax with a small position-tracking
scanner, its strings parsed as templates by the same tree-sitter grammar. Neither function raises: what cannot
be parsed is reported as ``SyntaxProblem``s and everything else is kept.

Semantics follow HashiCorp's ``hclsyntax`` where the tree shows them:

* templates: literal text is taken from the source between interpolations and directives, escapes are decoded
  (quoted strings: ``\\n \\r \\t \\" \\\\ \\uNNNN \\UNNNNNNNN``; everywhere: ``$${`` -> ``${`` and ``%%{`` -> ``%{``),
  strip markers (``${~``, ``~}``, ``%{~``, ``~}``) trim the adjacent literal token (in heredocs a token is one
  line), ``<<-`` heredocs then lose the smallest indentation of their non-blank lines. A template of literal text
  only is a ``Literal``; one holding a single interpolation and nothing else is that expression itself.
* ``-`` applied to a number literal is folded into a negative ``Literal``, as ``hclsyntax`` does.
* the attribute-only splat ``a.*.b.0`` takes ``.name`` and ``.N`` steps only; a following ``[i]`` indexes the
  splat's result. The full splat ``a[*]...`` takes every following traversal step.
* number literals with an exponent (``1e3``), which tree-sitter-hcl 1.2 does not know, are recognised by a
  repair pass and parsed correctly.

Error recovery: tree-sitter recovers inside a construct but a stray ``}`` or an unexpected token can swallow the
rest of a file. When a file has errors it is therefore re-parsed one top-level construct at a time (a construct
starts at a line beginning with a name in column 1, outside heredocs); a construct that still fails is retried
with the line of its first error blanked out, and if that does not help, what tree-sitter recovered is kept.
Problems are reported at most once per line.
"""

from __future__ import annotations

import re
import sys
import threading
from bisect import bisect_right
from contextlib import contextmanager
from json import JSONDecodeError
from json.decoder import scanstring
from typing import Any

from servegate.collector import collector_paused
from servegate.sources.hcl_ast import (
    Attribute,
    Binary,
    Block,
    Body,
    Call,
    Conditional,
    Expr,
    ForExpr,
    GetAttr,
    HclFile,
    Index,
    Literal,
    ObjectExpr,
    Span,
    Splat,
    SyntaxProblem,
    Template,
    TemplateFor,
    TemplateIf,
    TupleExpr,
    Unary,
    Variable,
)

__all__ = ["MAX_DEPTH", "parse_hcl", "parse_hcl_json"]

MAX_DEPTH = 200  # nesting of blocks, expressions and template directives
MAX_PROBLEMS = 50  # per file; later ones are cascades of the first
_SALVAGE_ATTEMPTS = 3  # lines blanked, one at a time, to salvage a construct

_local = threading.local()


def _parser() -> Any:
    """One tree-sitter parser per thread (a Parser is not safe to share), created on first use."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        import tree_sitter_hcl
        from tree_sitter import Language, Parser

        parser = Parser(Language(tree_sitter_hcl.language()))
        _local.parser = parser
    return parser


_FRAMES_PER_LEVEL = 8  # Python frames one level of HCL nesting takes at most (expression -> template -> ...)


@contextmanager
def _deep_stack() -> Any:
    """Room for MAX_DEPTH levels of nesting on top of the caller's stack. Python 3.11 calls between Python
    functions do not consume C stack, and the depth limit bounds what does."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(old + MAX_DEPTH * _FRAMES_PER_LEVEL)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


# ---------------------------------------------------------------------------------------------------------------
# Public API


def parse_hcl(text: str) -> HclFile:
    """Parse native-syntax HCL: a ``.tf`` file, or a ``.tfvars`` file (a body of attributes)."""
    problems: list[SyntaxProblem] = []
    try:
        with collector_paused(), _deep_stack():  # the trees built here hold no cycles
            body = _parse_native(text.encode("utf-8", "surrogatepass"), problems)
    except RecursionError:
        body = Body()
        problems.append(SyntaxProblem(1, 1, "nesting too deep"))
    return HclFile(body, tuple(_dedupe(problems)))


def parse_hcl_json(text: str, *, tfvars: bool | None = None) -> HclFile:
    """Parse Terraform's JSON syntax: ``.tf.json`` (``tfvars=False``) or ``.tfvars.json`` (``tfvars=True``).

    With ``tfvars=None`` the root decides: it is a configuration when one of its keys is a top-level block type
    (``resource``, ``variable``, ``terraform``...), else a variables file. Pass the flag when the file name is known.

    A variables file is a body of attributes, one per root key. A configuration maps as the Terraform JSON
    configuration syntax says:

    * the root object's keys are block types. ``resource``, ``data`` and ``ephemeral`` nest a type then a name
      (two labels); ``module``, ``variable``, ``output``, ``provider`` and ``check`` nest a name (one label);
      ``locals`` holds attributes; other types (``terraform``, ``moved``, ``import``, ``removed``...) take no
      label. Wherever a block object is expected, an array of objects stands for several blocks.
    * the nested-block rule (JSON cannot tell a nested block from an object-valued attribute without the
      provider schema, so a fixed rule decides): in a block body a key becomes nested ``Block``s when

      - its name is a well-known nested block of that body: ``lifecycle``, ``connection``, ``content``,
        ``precondition``, ``postcondition`` (no label), ``provisioner`` and ``dynamic`` (one label) in
        ``resource``/``data``/``ephemeral`` bodies and in their nested blocks; ``validation`` in ``variable``;
        ``precondition`` in ``output``; ``required_providers``, ``cloud`` and ``backend`` (one label) in
        ``terraform``; ``assert`` in ``check``;
      - or, in ``resource``/``data``/``ephemeral`` bodies and their nested blocks, its value is a non-empty
        ARRAY OF OBJECTS: one nested block per object (``"ingress": [{...}, {...}]``).

      Every other key is an attribute: an object value is an ``ObjectExpr`` (maps such as ``tags``), an array a
      ``TupleExpr``. Keys named ``//`` in a body are comments and skipped.
    * every string is a template (``${...}`` and ``%{...}``; ``$${`` is an escaped ``${`` and ``%%{`` an escaped
      ``%{``), object keys inside expressions too. Numbers, booleans and null are literals.
    * except the meta-arguments whose strings Terraform reads as native expressions, which are parsed as such so
      that both syntaxes give the same tree: ``depends_on`` (resource, data, module, output, check), ``provider``
      (resource, data, import), ``ignore_changes`` and ``replace_triggered_by`` (lifecycle), the values of a
      module's ``providers``, a variable's ``type``, ``from``/``to`` of ``moved``, ``from`` of ``removed`` and
      ``to`` of ``import``: ``"depends_on": ["aws_iam_role.r"]`` is a ``TupleExpr`` of a ``GetAttr``.

    Spans: an attribute runs from its quoted key to the end of its value (``name_span`` is the quoted key); a
    block from the key of its last label (or of its type when it has none) to the end of its body object; an
    expression covers its JSON value (quotes included), and an expression inside a string template covers its
    own characters inside the string.
    """
    with collector_paused(), _deep_stack():  # the trees built here hold no cycles
        return _parse_json(text, tfvars)


# ---------------------------------------------------------------------------------------------------------------
# Native syntax: parsing with recovery


def _parse_native(src: bytes, problems: list[SyntaxProblem]) -> Body:
    parser = _parser()
    tree = parser.parse(src)
    numbers: dict[int, int | float] = {}
    if tree.root_node.has_error:
        patched, numbers = _patch_exponents(src, tree.root_node)
        if numbers:
            src = patched
            tree = parser.parse(src)
    if not tree.root_node.has_error:
        return _Builder(src, problems, numbers).file(tree.root_node)

    recovery = _Recovery(problems, numbers)
    starts = _top_level_starts(src, _intact_ranges(tree.root_node))
    if len(starts) <= 1 or len(starts) > _MAX_CHUNKS:
        return recovery.chunk(src, 0, 0, tree)
    attributes: dict[str, Attribute] = {}
    blocks: list[Block] = []
    row = 0
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(src)
        chunk = src[start:end]
        body = recovery.chunk(chunk, row, start)
        row += chunk.count(b"\n")
        for name, attribute in body.attributes.items():
            if name in attributes:
                problems.append(SyntaxProblem(attribute.span[0], attribute.span[1], f'duplicate attribute "{name}"'))
            else:
                attributes[name] = attribute
        blocks.extend(body.blocks)
    return Body(attributes, tuple(blocks))


_MAX_CHUNKS = 5000  # more top-level constructs than any real file: recover the whole tree at once
_SALVAGE_BUDGET = 25  # constructs per file that may be re-parsed with lines blanked
_SALVAGE_MAX_BYTES = 64 * 1024  # larger constructs are not re-parsed: tree-sitter's recovery is what we get


class _Recovery:
    """Parses the top-level constructs of a file with errors, within a budget for garbage input."""

    def __init__(self, problems: list[SyntaxProblem], numbers: dict[int, int | float]) -> None:
        self.problems = problems
        self.numbers = numbers
        self.salvage_left = _SALVAGE_BUDGET

    def chunk(self, chunk: bytes, row_off: int, byte_base: int, tree: Any = None) -> Body:
        """One construct: clean, or salvaged by blanking the line of its first error, or as recovered.

        When blanking lines makes the construct parse, the problems reported are the errors that led to blanking
        them; otherwise every error of the first parse (later ones are often cascades, but they are all real).
        """
        parser = _parser()
        problems = self.problems
        if tree is None:
            tree = parser.parse(chunk)
        builder = _Builder(chunk, problems, self.numbers, row_off, byte_base)
        root = tree.root_node
        if not root.has_error:
            return builder.file(root)
        if len(problems) >= MAX_PROBLEMS:  # garbage: keep what parsed, stop explaining
            return builder.file(root)
        if self.salvage_left <= 0 or len(chunk) > _SALVAGE_MAX_BYTES or \
                all(n.is_missing and n.type in _BENIGN_MISSING for n in _problem_nodes(root)):
            problems.extend(_problems(root, builder))
            return builder.file(root)
        self.salvage_left -= 1
        lines = chunk.split(b"\n")
        blanked: set[int] = set()
        triggers: list[SyntaxProblem] = []
        attempt = root
        attempt_src = chunk
        for _ in range(_SALVAGE_ATTEMPTS):
            first = _first_problem(attempt)
            if first is None:
                break
            at_row, at_column = _problem_point(first, attempt_src.split(b"\n") if blanked else lines)
            if at_row in blanked or at_row >= len(lines) or not lines[at_row].strip():
                break
            line, column = builder.pos(at_row, at_column)
            triggers.append(SyntaxProblem(line, column, _problem_message(first, attempt_src)))
            blanked.add(at_row)
            attempt_src = _blank_lines(chunk, lines, blanked)
            attempt = parser.parse(attempt_src).root_node
            if not attempt.has_error:
                problems.extend(triggers)
                return _Builder(attempt_src, problems, self.numbers, row_off, byte_base).file(attempt)
        problems.extend(_problems(root, builder))
        return builder.file(root)


def _blank_lines(chunk: bytes, lines: list[bytes], blanked: set[int]) -> bytes:
    """``chunk`` with the ``blanked`` lines replaced by spaces (offsets and columns stay put)."""
    if not blanked:
        return chunk
    return b"\n".join(b" " * len(line) if i in blanked else line for i, line in enumerate(lines))


def _first_problem(root: Any) -> Any:
    """The first ERROR or MISSING node in source order, or None."""
    node = root
    while True:
        for child in node.children:
            if child.is_error or child.is_missing:
                return child
            if child.has_error:
                node = child
                break
        else:
            return node if node.is_error or node.is_missing else None


_TOP_LEVEL_START = re.compile(rb"^[A-Za-z_]", re.M)
_HEREDOC_OPENER = re.compile(rb"<<-?([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?$", re.M)


def _intact_ranges(root: Any) -> list[tuple[int, int]]:
    """Byte ranges of the top-level blocks and attributes tree-sitter parsed without error."""
    for child in root.children:
        if child.type == "body":
            return [(c.start_byte, c.end_byte) for c in child.children
                    if c.type in ("block", "attribute") and not c.has_error]
    return []


def _top_level_starts(src: bytes, intact: list[tuple[int, int]]) -> list[int]:
    """Byte offsets of the lines that start a top-level construct: a name in column 1, not inside a heredoc nor
    inside a construct that parsed without error (``intact``, sorted)."""
    skip: list[tuple[int, int]] = []
    pos = 0
    while True:
        opener = _HEREDOC_OPENER.search(src, pos)
        if opener is None:
            break
        closer = re.compile(rb"^[ \t]*" + re.escape(opener.group(1)) + rb"[ \t]*\r?$", re.M).search(src, opener.end())
        end = closer.end() if closer else len(src)
        skip.append((opener.end(), end))
        pos = end
    skip.extend((start + 1, end) for start, end in intact)
    skip.sort()
    starts = [0]
    k = 0
    for match in _TOP_LEVEL_START.finditer(src):
        at = match.start()
        while k < len(skip) and skip[k][1] <= at:
            k += 1
        if any(begin <= at < end for begin, end in skip[k:k + 4]) or not at:
            continue
        starts.append(at)
    return starts


_EXPONENT = re.compile(rb"(?<![\w.])[0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]+(?![\w.])")


def _patch_exponents(src: bytes, root: Any) -> tuple[bytes, dict[int, int | float]]:
    """Replace number literals with an exponent by digits of the same length; remember their values."""
    numbers: dict[int, int | float] = {}
    if b"e" not in src and b"E" not in src:
        return src, numbers
    out = bytearray(src)
    for match in _EXPONENT.finditer(src):
        start, end = match.span()
        node = root.descendant_for_byte_range(start, start + 1)
        if node is None or node.type != "numeric_lit":
            continue
        numbers[start] = _number(match.group().decode("ascii"))
        out[start:end] = b"0" * (end - start)
    return bytes(out), numbers


def _number(text: str) -> int | float:
    if text.isdigit():
        return int(text)
    try:
        value = float(text)
    except ValueError:
        return 0
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


# ---------------------------------------------------------------------------------------------------------------
# Problems


_MISSING_MESSAGES = {
    "quoted_template_end": "missing closing quote",
    "template_interpolation_end": 'missing "}" to close "${"',
    "template_directive_end": 'missing "}" to close "%{"',
    "block_end": 'missing "}"',
    "object_end": 'missing "}"',
    "tuple_end": 'missing "]"',
}
# Tokens tree-sitter inserts to recover well (the rest of the tree is right); other missing tokens (a heredoc
# opener, a closing quote) make it read the rest of the construct as text.
_BENIGN_MISSING = frozenset(("]", ")", "}", "=", ":", ",", "identifier", "tuple_end", "object_end", "block_end",
                             "template_interpolation_end", "template_directive_end"))
_NEXT_TOKEN = re.compile(r"\s*(\w+|\S)")


def _problem_point(node: Any, lines: list[bytes]) -> tuple[int, int]:
    """Where to report a problem node: tree-sitter puts a missing token before the next token, which for people
    belongs at the end of the previous line when only whitespace separates them."""
    name = _dangling_name(node)
    if name is not None:
        return name.end_point[0], name.end_point[1]
    row, column = node.start_point
    escape = _bad_escape(node, lines)
    if escape is not None:
        return row, escape.start()
    if node.is_missing and row < len(lines) and not lines[row][:column].strip():
        previous = row - 1
        while previous >= 0 and not lines[previous].strip():
            previous -= 1
        if previous >= 0:
            return previous, len(lines[previous].rstrip())
    return row, column


def _problem_nodes(root: Any) -> list[Any]:
    """The ERROR and MISSING nodes, outermost only, in source order."""
    out: list[Any] = []
    stack = [root]
    while stack and len(out) < MAX_PROBLEMS:
        node = stack.pop()
        if node.is_error or node.is_missing:
            out.append(node)
        elif node.has_error:
            stack.extend(reversed(node.children))
    return out


def _problems(root: Any, builder: _Builder) -> list[SyntaxProblem]:
    src = builder.src
    lines = src.split(b"\n")
    return [SyntaxProblem(*builder.pos(*_problem_point(node, lines)), _problem_message(node, src))
            for node in _problem_nodes(root)]


def _dangling_name(node: Any) -> Any:
    """The name of an attribute when ``node`` is an error between it and a ``=`` on a later line: a stray word."""
    if not node.is_error:
        return None
    parent = node.parent
    previous = node.prev_sibling
    if parent is None or parent.type != "attribute" or previous is None or previous.type != "identifier":
        return None
    return previous if previous.end_point[0] < node.start_point[0] else None


_STRING_PARENTS = frozenset(("string_lit", "quoted_template", "template_literal"))
_BAD_ESCAPE = re.compile(rb'\\(?:[nrt"\\]|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8})|(\\.?)|"')


def _bad_escape(node: Any, lines: list[bytes]) -> Any:
    """The invalid escape sequence of the quoted string an error node sits in (tree-sitter stops at it)."""
    parent = node.parent
    if not node.is_error or parent is None or parent.type not in _STRING_PARENTS:
        return None
    row, column = node.start_point
    if row >= len(lines):
        return None
    for match in _BAD_ESCAPE.finditer(lines[row], column):
        if match.group(1):
            return match
        if match.group() == b'"':
            return None
    return None


def _problem_message(node: Any, src: bytes) -> str:
    name = _dangling_name(node)
    if name is not None:
        return f'expected "=" after "{src[name.start_byte:name.end_byte].decode("utf-8", "replace")}"'
    if node.is_error and node.parent is not None and node.parent.type in _STRING_PARENTS:
        escape = _bad_escape(node, src.split(b"\n"))
        if escape is not None:
            return f'invalid escape sequence "{escape.group(1).decode("utf-8", "replace")}"'
    kind = node.type
    if node.is_missing:
        if kind in _MISSING_MESSAGES:
            return _MISSING_MESSAGES[kind]
        if kind and not any(ch.isalnum() or ch == "_" for ch in kind):
            if kind == "<<":  # the scanner's guess at a heredoc: really an unexpected token
                return _unexpected(src, node.start_byte)
            return f'missing "{kind}"'
        if kind == "heredoc_identifier":
            return "unterminated heredoc"
        if kind == "identifier":
            parent = node.parent
            return "expected an expression" if parent is not None and parent.type == "variable_expr" else "missing name"
        return f"missing {kind.replace('_', ' ')}"
    leaf = node
    while leaf.child_count:
        leaf = leaf.children[0]
    if leaf.end_byte > leaf.start_byte:
        return _unexpected(src, leaf.start_byte)
    return _unexpected(src, node.start_byte)


def _unexpected(src: bytes, at: int) -> str:
    match = _NEXT_TOKEN.match(src[at:at + 120].decode("utf-8", "ignore"))
    if match is None:
        return "unexpected end of input"
    token = match.group(1)
    if len(token) > 30:
        token = token[:27] + "..."
    return f'unexpected "{token}"'


def _dedupe(problems: list[SyntaxProblem]) -> list[SyntaxProblem]:
    seen: set[int] = set()
    out: list[SyntaxProblem] = []
    for problem in sorted(problems, key=lambda p: (p.line, p.column)):
        if problem.line not in seen:
            seen.add(problem.line)
            out.append(problem)
    return out[:MAX_PROBLEMS]


# ---------------------------------------------------------------------------------------------------------------
# Native syntax: tree to AST

_BINARY_OPS = frozenset(("+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||"))
_DIRECTIVE_TOKENS = frozenset(
    ("template_if_intro", "template_else_intro", "template_if_end", "template_for_start", "template_for_end")
)
_QUOTED_ESCAPE = re.compile(r"\\(?:([nrt\"\\])|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.?))|\$\$\{|%%\{", re.S)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_TEMPLATE_ESCAPE = re.compile(r"\$\$\{|%%\{")


class _Builder:
    """Turns one tree-sitter tree over ``src`` into AST nodes. Rows are shifted by ``row_off`` (a chunk of a file)."""

    def __init__(self, src: bytes, problems: list[SyntaxProblem], numbers: dict[int, int | float] | None = None,
                 row_off: int = 0, byte_base: int = 0) -> None:
        self.src = src
        self.problems = problems
        self.numbers = numbers or {}
        self.row_off = row_off
        self.byte_base = byte_base
        self.fast = src.isascii()
        self._lines: list[bytes] | None = None
        self._too_deep_reported = False

    # -- positions ---------------------------------------------------------------------------------------------

    def pos(self, row: int, bcol: int) -> tuple[int, int]:
        """1-based line and character column of a tree-sitter point (whose column counts bytes)."""
        if self.fast:
            return row + self.row_off + 1, bcol + 1
        if self._lines is None:
            self._lines = self.src.split(b"\n")
        line = self._lines[row] if row < len(self._lines) else b""
        if bcol and not line.isascii():
            return row + self.row_off + 1, len(line[:bcol].decode("utf-8", "replace")) + 1
        return row + self.row_off + 1, bcol + 1

    def span(self, node: Any) -> Span:
        s = node.start_point
        e = node.end_point
        if self.fast:
            r = self.row_off + 1
            return (s[0] + r, s[1] + 1, e[0] + r, e[1] + 1)
        return self.pos(s[0], s[1]) + self.pos(e[0], e[1])

    def span2(self, first: Any, last: Any) -> Span:
        s = first.start_point
        e = last.end_point
        if self.fast:
            r = self.row_off + 1
            return (s[0] + r, s[1] + 1, e[0] + r, e[1] + 1)
        return self.pos(s[0], s[1]) + self.pos(e[0], e[1])

    def text(self, node: Any) -> str:
        return self.src[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def too_deep(self, node: Any) -> Literal:
        if not self._too_deep_reported:
            self._too_deep_reported = True
            line, column = self.pos(*node.start_point)
            self.problems.append(SyntaxProblem(line, column, f"nesting too deep (more than {MAX_DEPTH} levels)"))
        return Literal(None, self.span(node))

    def problem(self, node: Any, message: str) -> None:
        line, column = self.pos(*node.start_point)
        self.problems.append(SyntaxProblem(line, column, message))

    # -- structure ---------------------------------------------------------------------------------------------

    def file(self, root: Any) -> Body:
        for child in root.children:
            if child.type == "body":
                return self.body(child, 0)
        return Body()

    def body(self, node: Any, depth: int) -> Body:
        attributes: dict[str, Attribute] = {}
        blocks: list[Block] = []
        for child in node.children:
            kind = child.type
            if kind == "attribute":
                attribute = self.attribute(child, depth)
                if attribute is None:
                    continue
                if attribute.name in attributes:
                    self.problem(child, f'duplicate attribute "{attribute.name}"')
                else:
                    attributes[attribute.name] = attribute
            elif kind == "block":
                if depth >= MAX_DEPTH:
                    self.too_deep(child)
                    continue
                block = self.block(child, depth + 1)
                if block is not None:
                    blocks.append(block)
        return Body(attributes, tuple(blocks))

    def attribute(self, node: Any, depth: int) -> Attribute | None:
        name_node = expr_node = None
        for child in node.children:
            kind = child.type
            if kind == "identifier" and name_node is None:
                name_node = child
            elif kind == "expression":
                expr_node = child
        if name_node is None or expr_node is None or expr_node.end_byte == expr_node.start_byte:
            return None  # no value, only tree-sitter's stand-in for one
        return Attribute(self.text(name_node), self.expr(expr_node, depth + 1), self.span(node), self.span(name_node))

    def block(self, node: Any, depth: int) -> Block | None:
        block_type: str | None = None
        labels: list[str] = []
        body = Body()
        for child in node.children:
            kind = child.type
            if kind == "identifier":
                if block_type is None:
                    block_type = self.text(child)
                else:
                    labels.append(self.text(child))
            elif kind == "string_lit":
                labels.append(self.string_lit_value(child))
            elif kind == "body":
                body = self.body(child, depth)
        if block_type is None:
            return None
        return Block(block_type, tuple(labels), body, self.span(node))

    # -- expressions -------------------------------------------------------------------------------------------

    def expr(self, node: Any, depth: int) -> Expr:
        """An ``expression`` node: a conditional, or a term with its traversal steps."""
        if depth > MAX_DEPTH:
            return self.too_deep(node)
        kids = [c for c in node.children if c.type != "comment"]
        if len(kids) == 1:
            kid = kids[0]
            if kid.type == "conditional":
                return self.conditional(kid, depth)
            return self.primary(kid, depth)
        return self.term(kids, depth, node)

    def term(self, kids: list[Any], depth: int, owner: Any) -> Expr:
        """A primary expression (or ``( expression )``) followed by ``get_attr``/``index``/``splat`` steps."""
        if not kids:
            return Literal(None, self.span(owner))
        if depth > MAX_DEPTH:
            return self.too_deep(kids[0])
        first = kids[0]
        if first.type == "(":
            inner = kids[1] if len(kids) > 1 else None
            expr: Expr = self.expr(inner, depth + 1) if inner is not None and inner.type == "expression" else \
                Literal(None, self.span(first))
            i = 3 if len(kids) > 2 and kids[2].type == ")" else 2
        else:
            expr = self.primary(first, depth)
            i = 1
        n = len(kids)
        if depth + n - i > MAX_DEPTH:  # each step nests the tree one level deeper
            return self.too_deep(kids[i])
        while i < n:
            step = kids[i]
            kind = step.type
            if kind == "get_attr":
                expr = GetAttr(expr, self.get_attr_name(step), self.span2(first, step))
            elif kind == "index":
                expr = Index(expr, self.index_key(step, depth), self.span2(first, step))
            elif kind == "splat":
                expr = self.splat(expr, first, step, depth)
            i += 1
        return expr

    def primary(self, node: Any, depth: int) -> Expr:
        kind = node.type
        if kind == "variable_expr":
            if node.has_error:  # a missing name: tree-sitter's stand-in for an absent expression
                return Literal(None, self.span(node))
            return Variable(self.text(node), self.span(node))
        if kind == "literal_value":
            return self.literal(node)
        if kind == "template_expr":
            for child in node.children:
                if child.type == "quoted_template":
                    return self.template(child, depth, heredoc=False)
                if child.type == "heredoc_template":
                    return self.template(child, depth, heredoc=True)
            return Literal(None, self.span(node))
        if kind == "function_call":
            return self.call(node, depth)
        if kind == "collection_value":
            for child in node.children:
                if child.type == "tuple":
                    return self.tuple_expr(child, depth)
                if child.type == "object":
                    return self.object_expr(child, depth)
            return Literal(None, self.span(node))
        if kind == "operation":
            for child in node.children:
                if child.type == "binary_operation":
                    return self.binary(child, depth)
                if child.type == "unary_operation":
                    return self.unary(child, depth)
            return Literal(None, self.span(node))
        if kind == "for_expr":
            for child in node.children:
                if child.type in ("for_tuple_expr", "for_object_expr"):
                    return self.for_expr(child, depth)
            return Literal(None, self.span(node))
        if kind == "expression":
            return self.expr(node, depth + 1)
        if kind == "conditional":
            return self.conditional(node, depth)
        return Literal(None, self.span(node))  # an ERROR node or a shape from a broken file: reported elsewhere

    def literal(self, node: Any) -> Literal:
        span = self.span(node)
        for child in node.children:
            kind = child.type
            if kind == "numeric_lit":
                if self.numbers:
                    value = self.numbers.get(self.byte_base + child.start_byte)
                    if value is not None:
                        return Literal(value, span)
                return Literal(_number(self.text(child)), span)
            if kind == "bool_lit":
                return Literal(self.text(child) == "true", span)
            if kind == "null_lit":
                return Literal(None, span)
            if kind == "string_lit":
                return Literal(self.string_lit_value(child), span)
        return Literal(None, span)

    def string_lit_value(self, node: Any) -> str:
        """The decoded text of a quoted string without interpolations (a label, a literal)."""
        kids = node.children
        start = kids[0].end_byte if kids and kids[0].type == "quoted_template_start" else node.start_byte
        end = kids[-1].start_byte if len(kids) > 1 and kids[-1].type == "quoted_template_end" else node.end_byte
        raw = self.src[start:end].decode("utf-8", "replace")
        return self.decode_quoted(raw, node) if ("\\" in raw or "{" in raw) else raw

    def decode_quoted(self, raw: str, node: Any) -> str:
        bad: list[str] = []

        def replace(match: re.Match[str]) -> str:
            whole = match.group()
            if whole == "$${":
                return "${"
            if whole == "%%{":
                return "%{"
            simple, u4, u8, other = match.groups()
            if simple is not None:
                return _SIMPLE_ESCAPES[simple]
            code = int(u4 or u8 or "0", 16) if (u4 or u8) else -1
            if code >= 0:
                if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
                    return "\ufffd"
                return chr(code)
            bad.append(whole)
            return whole

        value = _QUOTED_ESCAPE.sub(replace, raw)
        if bad:
            self.problem(node, f'invalid escape sequence "{bad[0]}"')
        return value

    def get_attr_name(self, node: Any) -> str:
        for child in node.children:
            if child.type == "identifier":
                return self.text(child)
        return ""

    def index_key(self, node: Any, depth: int) -> Expr:
        for child in node.children:
            if child.type == "new_index":
                for part in child.children:
                    if part.type == "expression":
                        return self.expr(part, depth + 1)
                return Literal(None, self.span(child))
            if child.type == "legacy_index":
                digits = self.text(child).lstrip(".").strip()
                return Literal(int(digits) if digits.isdigit() else digits, self.span(child))
        return Literal(None, self.span(node))

    def splat(self, target: Expr, first: Any, node: Any, depth: int) -> Expr:
        inner = node.children[0] if node.children else node
        attr_only = inner.type == "attr_splat"
        steps: list[tuple[str, str | Expr]] = []
        last = inner.children[0] if inner.children else inner
        after: list[Any] = []
        for child in inner.children[1:]:
            kind = child.type
            if after:
                after.append(child)
            elif kind == "get_attr":
                steps.append(("attr", self.get_attr_name(child)))
                last = child
            elif kind == "index":
                if attr_only and any(c.type == "new_index" for c in child.children):
                    after.append(child)  # hclsyntax ends an attribute-only splat at the first [i]
                else:
                    steps.append(("index", self.index_key(child, depth)))
                    last = child
        expr: Expr = Splat(target, tuple(steps), self.span2(first, last))
        for child in after:
            if child.type == "get_attr":
                expr = GetAttr(expr, self.get_attr_name(child), self.span2(first, child))
            elif child.type == "index":
                expr = Index(expr, self.index_key(child, depth), self.span2(first, child))
        return expr

    def call(self, node: Any, depth: int) -> Call:
        name = ""
        args: list[Expr] = []
        expand = False
        for child in node.children:
            kind = child.type
            if kind == "identifier" and not name:
                name = self.text(child)
            elif kind == "function_arguments":
                for arg in child.children:
                    if arg.type == "expression":
                        args.append(self.expr(arg, depth + 1))
                    elif arg.type == "ellipsis":
                        expand = True
        return Call(name, tuple(args), expand, self.span(node))

    def tuple_expr(self, node: Any, depth: int) -> TupleExpr:
        items = tuple(self.expr(c, depth + 1) for c in node.children if c.type == "expression")
        return TupleExpr(items, self.span(node))

    def object_expr(self, node: Any, depth: int) -> ObjectExpr:
        items: list[tuple[Expr, Expr]] = []
        for elem in node.children:
            if elem.type != "object_elem":
                continue
            parts = [c for c in elem.children if c.type == "expression"]
            if len(parts) != 2:
                continue
            key_node, value_node = parts
            key_kids = [c for c in key_node.children if c.type != "comment"]
            if len(key_kids) == 1 and key_kids[0].type == "variable_expr":
                key: Expr = Literal(self.text(key_kids[0]), self.span(key_kids[0]))
            else:
                key = self.expr(key_node, depth + 1)
            items.append((key, self.expr(value_node, depth + 1)))
        return ObjectExpr(tuple(items), self.span(node))

    def conditional(self, node: Any, depth: int) -> Expr:
        """``c ? t : f``. tree-sitter-hcl groups ``a ? b : c ? d : e`` as ``(a ? b : c) ? d : e``; HCL's
        conditional is right-associative (a condition cannot be a bare conditional), so the chain is regrouped
        as ``a ? b : (c ? d : e)``."""
        parts = [c for c in node.children if c.type == "expression"]
        if len(parts) != 3:
            return Literal(None, self.span(node))
        condition, true, false = parts
        otherwise = self.expr(false, depth + 1)
        while True:
            inner = _bare_conditional(condition)
            if inner is None:
                break
            inner_parts = [c for c in inner.children if c.type == "expression"]
            if len(inner_parts) != 3:
                break
            depth += 1
            if depth > MAX_DEPTH:
                return self.too_deep(inner)
            otherwise = Conditional(self.expr(inner_parts[2], depth + 1), self.expr(true, depth + 1), otherwise,
                                    self.span2(inner_parts[2], node))
            condition, true = inner_parts[0], inner_parts[1]
        return Conditional(self.expr(condition, depth + 1), self.expr(true, depth + 1), otherwise, self.span(node))

    def binary(self, node: Any, depth: int) -> Expr:
        kids = [c for c in node.children if c.type != "comment"]
        for i in range(1, len(kids)):
            kid = kids[i]
            if not kid.is_named and kid.type in _BINARY_OPS:
                left = self.term(kids[:i], depth + 1, node)
                right = self.term(kids[i + 1:], depth + 1, node)
                return Binary(kid.type, left, right, self.span(node))
        return Literal(None, self.span(node))

    def unary(self, node: Any, depth: int) -> Expr:
        kids = [c for c in node.children if c.type != "comment"]
        if not kids:
            return Literal(None, self.span(node))
        op = kids[0].type
        operand = self.term(kids[1:], depth + 1, node)
        span = self.span(node)
        if op == "-" and isinstance(operand, Literal) and isinstance(operand.value, (int, float)) \
                and not isinstance(operand.value, bool):
            return Literal(-operand.value, span)
        return Unary(op, operand, span)

    def for_expr(self, node: Any, depth: int) -> Expr:
        object_form = node.type == "for_object_expr"
        names: list[str] = []
        collection: Expr | None = None
        exprs: list[Expr] = []
        condition: Expr | None = None
        group = False
        for child in node.children:
            kind = child.type
            if kind == "for_intro":
                for part in child.children:
                    if part.type == "identifier":
                        names.append(self.text(part))
                    elif part.type == "expression":
                        collection = self.expr(part, depth + 1)
            elif kind == "expression":
                exprs.append(self.expr(child, depth + 1))
            elif kind == "ellipsis":
                group = True
            elif kind == "for_cond":
                for part in child.children:
                    if part.type == "expression":
                        condition = self.expr(part, depth + 1)
        span = self.span(node)
        if not names or collection is None or len(exprs) != (2 if object_form else 1):
            return Literal(None, span)
        key_var, value_var = (names[0], names[1]) if len(names) > 1 else (None, names[0])
        if object_form:
            return ForExpr(key_var, value_var, collection, exprs[1], exprs[0], condition, group, span)
        return ForExpr(key_var, value_var, collection, exprs[0], None, condition, False, span)

    # -- templates ---------------------------------------------------------------------------------------------

    def template(self, node: Any, depth: int, heredoc: bool, content: tuple[int, int] | None = None,
                 flush: bool | None = None, quoted: bool | None = None) -> Expr:
        """A quoted template or a heredoc (``content`` overrides the byte range of its text: JSON strings)."""
        src = self.src
        kids = node.children
        if content is not None:
            start, end = content
        elif heredoc:
            identifiers = [c for c in kids if c.type == "heredoc_identifier"]
            opener = identifiers[0] if identifiers else kids[0]
            newline = src.find(b"\n", opener.end_byte, node.end_byte)
            start = newline + 1 if newline >= 0 else node.end_byte
            if len(identifiers) > 1 and not identifiers[-1].is_missing:
                end = src.rfind(b"\n", start, identifiers[-1].start_byte) + 1 or start
            else:
                end = node.end_byte
            end = max(start, end)
            if flush is None:
                flush = any(c.type == "heredoc_start" and self.text(c).strip() == "<<-" for c in kids)
        else:
            start = kids[0].end_byte if kids and kids[0].type == "quoted_template_start" else node.start_byte
            last = kids[-1] if kids else None
            end = last.start_byte if last is not None and last.type == "quoted_template_end" and len(kids) > 1 \
                else node.end_byte
        if quoted is None:
            quoted = not heredoc

        tokens: list[Any] = []
        self.template_tokens(kids, tokens, depth)
        # A flat sequence of literal strings (one per line in heredocs) and template tokens, as hclsyntax has it.
        seq: list[Any] = []
        lits: set[int] = set()  # indexes of literal items in seq
        pos = start
        for token in tokens:
            if token.start_byte < pos or token.end_byte > end:
                continue
            self.add_literal(src[pos:token.start_byte], seq, lits, quoted, heredoc, node)
            seq.append(token)
            pos = token.end_byte
        self.add_literal(src[pos:end], seq, lits, quoted, heredoc, node)

        # Strip markers trim the adjacent literal token.
        trim_next = False
        for i, item in enumerate(seq):
            if i in lits:
                if trim_next:
                    seq[i] = item.lstrip()
                trim_next = False
                continue
            left, right = _strip_markers(item)
            if left and i > 0 and i - 1 in lits:
                seq[i - 1] = seq[i - 1].rstrip()
            trim_next = right
        if flush:
            _flush_heredoc(seq, lits)
        if len(seq) == 1 and 0 not in lits and seq[0].type == "template_interpolation":
            return self.interpolation(seq[0], depth)  # "${x}": the value itself, unconverted
        return self.template_tree(seq, lits, node, depth)

    def template_tokens(self, kids: list[Any], out: list[Any], depth: int) -> None:
        for child in kids:
            kind = child.type
            if kind == "template_interpolation" or kind in _DIRECTIVE_TOKENS:
                out.append(child)
            elif kind == "template_directive":
                self.template_tokens(child.children, out, depth)
            elif kind in ("template_if", "template_for"):
                if depth > MAX_DEPTH:
                    self.too_deep(child)
                    continue
                self.template_tokens(child.children, out, depth + 1)

    def add_literal(self, raw: bytes, seq: list[Any], lits: set[int], quoted: bool, heredoc: bool, node: Any) -> None:
        if not raw:
            return
        text = raw.decode("utf-8", "replace")
        if quoted:
            if "\\" in text or "{" in text:
                text = self.decode_quoted(text, node)
        elif "{" in text:
            text = _TEMPLATE_ESCAPE.sub(lambda m: m.group()[1:], text)
        if heredoc and "\n" in text:  # one token per line, as hclsyntax's scanner has it
            lines = text.split("\n")
            pieces = [line + "\n" for line in lines[:-1]]
            if lines[-1]:
                pieces.append(lines[-1])
        else:
            pieces = [text]
        for piece in pieces:
            lits.add(len(seq))
            seq.append(piece)

    def interpolation(self, node: Any, depth: int) -> Expr:
        for child in node.children:
            if child.type == "expression":
                return self.expr(child, depth + 1)
        return Literal(None, self.span(node))

    def template_tree(self, seq: list[Any], lits: set[int], node: Any, depth: int) -> Expr:
        # frames: [kind, token, first list, second list or None, extra]
        root: list[Any] = []
        stack: list[list[Any]] = []
        current = root
        for i, item in enumerate(seq):
            if i in lits:
                if item:
                    if current and isinstance(current[-1], str):
                        current[-1] += item
                    else:
                        current.append(item)
                continue
            kind = item.type
            if kind == "template_interpolation":
                current.append(self.interpolation(item, depth))
            elif kind == "template_if_intro":
                condition: Expr = Literal(None, self.span(item))
                for child in item.children:
                    if child.type == "expression":
                        condition = self.expr(child, depth + 1)
                frame = ["if", item, [], None, condition]
                stack.append(frame)
                current = frame[2]
            elif kind == "template_for_start":
                names: list[str] = []
                collection: Expr = Literal(None, self.span(item))
                for child in item.children:
                    if child.type == "identifier":
                        names.append(self.text(child))
                    elif child.type == "expression":
                        collection = self.expr(child, depth + 1)
                frame = ["for", item, [], None, (names, collection)]
                stack.append(frame)
                current = frame[2]
            elif kind == "template_else_intro":
                if stack and stack[-1][0] == "if" and stack[-1][3] is None:
                    stack[-1][3] = []
                    current = stack[-1][3]
                else:
                    self.problem(item, 'unexpected "else" directive')
            elif kind in ("template_if_end", "template_for_end"):
                wanted = "if" if kind == "template_if_end" else "for"
                if not stack or stack[-1][0] != wanted:
                    self.problem(item, f'unexpected "end{wanted}" directive')
                    continue
                frame = stack.pop()
                current = stack[-1][3] if stack and stack[-1][3] is not None else (stack[-1][2] if stack else root)
                current.append(self.directive(frame, item))
        while stack:  # unbalanced: tree-sitter reported it; keep what is there
            frame = stack.pop()
            self.problem(frame[1], f'missing "end{frame[0]}" directive')
            current = stack[-1][3] if stack and stack[-1][3] is not None else (stack[-1][2] if stack else root)
            current.append(self.directive(frame, frame[1]))
        span = self.span(node)
        if all(isinstance(part, str) for part in root):
            return Literal("".join(root), span)
        return Template(tuple(root), span)

    def directive(self, frame: list[Any], end: Any) -> TemplateIf | TemplateFor:
        span = self.span2(frame[1], end)
        if frame[0] == "if":
            return TemplateIf(frame[4], tuple(frame[2]), tuple(frame[3] or ()), span)
        names, collection = frame[4]
        key_var, value_var = (names[0], names[1]) if len(names) > 1 else (None, names[0] if names else "")
        return TemplateFor(key_var, value_var, collection, tuple(frame[2]), span)


def _bare_conditional(node: Any) -> Any:
    """The conditional an ``expression`` node consists of, without parentheses; else None."""
    kids = [c for c in node.children if c.type != "comment"]
    return kids[0] if len(kids) == 1 and kids[0].type == "conditional" else None


def _strip_markers(token: Any) -> tuple[bool, bool]:
    kids = token.children
    n = len(kids)
    left = n > 2 and kids[1].type == "strip_marker"
    right = n > 2 and kids[n - 2].type == "strip_marker" and (n - 2 != 1 or not left)
    return left, right


def _flush_heredoc(seq: list[Any], lits: set[int]) -> None:
    """``<<-``: remove the smallest indentation of the non-blank lines from every line (hclsyntax's rule)."""
    least: int | None = None
    adjust: list[int] = []
    newline = True
    for i, item in enumerate(seq):
        is_lit = i in lits
        if newline:
            newline = False
            spaces = 0
            if is_lit:
                trimmed = item.lstrip()
                if not trimmed and item.endswith("\n"):
                    spaces = -1  # a blank line does not count
                else:
                    spaces = len(item) - len(trimmed)
                    adjust.append(i)
            if spaces >= 0 and (least is None or spaces < least):
                least = spaces
        if is_lit and item.endswith("\n"):
            newline = True
    if least:
        for i in adjust:
            seq[i] = seq[i][least:]


# ---------------------------------------------------------------------------------------------------------------
# JSON syntax

_LABELS = {"resource": 2, "data": 2, "ephemeral": 2, "module": 1, "variable": 1, "output": 1, "provider": 1,
           "check": 1}
_RESOURCE_NESTED = {"lifecycle": 0, "provisioner": 1, "connection": 0, "dynamic": 1, "content": 0,
                    "precondition": 0, "postcondition": 0}
_NESTED = {
    "resource": _RESOURCE_NESTED,
    "data": _RESOURCE_NESTED,
    "ephemeral": _RESOURCE_NESTED,
    "variable": {"validation": 0},
    "output": {"precondition": 0},
    "terraform": {"required_providers": 0, "backend": 1, "cloud": 0},
    "check": {"assert": 0},
}
_RESOURCE_LIKE = frozenset(("resource", "data", "ephemeral"))
# Meta-arguments whose JSON strings hold native expressions (references, type constraints), not templates:
# (block type, attribute) -> "one" string, a "list" of strings (or one), or a "map" whose values are strings.
_EXPRESSION_STRINGS = {
    **{(kind, "depends_on"): "list" for kind in ("resource", "data", "ephemeral", "module", "output", "check")},
    **{(kind, "provider"): "one" for kind in ("resource", "data", "ephemeral", "import")},
    ("lifecycle", "ignore_changes"): "list",
    ("lifecycle", "replace_triggered_by"): "list",
    ("module", "providers"): "map",
    ("variable", "type"): "one",
    ("moved", "from"): "one",
    ("moved", "to"): "one",
    ("removed", "from"): "one",
    ("import", "to"): "one",
}
_TOP_LEVEL_TYPES = frozenset(("terraform", "resource", "data", "ephemeral", "module", "variable", "output", "provider",
                              "locals", "moved", "import", "removed", "check"))
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")


class _JsonError(Exception):
    def __init__(self, pos: int, message: str) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message
        self.partial: _J | None = None


class _J:
    """A JSON value with its character range: kind is obj (value: [(key, key_start, key_end, _J)]), arr
    (value: [_J]), str, num or lit (value: the Python value)."""

    __slots__ = ("kind", "start", "end", "value")

    def __init__(self, kind: str, start: int, end: int, value: Any) -> None:
        self.kind = kind
        self.start = start
        self.end = end
        self.value = value


class _JsonScanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)

    def ws(self, pos: int) -> int:
        return _WHITESPACE.match(self.text, pos).end()  # type: ignore[union-attr]

    def value(self, pos: int, depth: int) -> tuple[_J, int]:
        text = self.text
        if pos >= self.n:
            raise _JsonError(pos, "unexpected end of JSON input")
        ch = text[pos]
        if ch == '"':
            return self.string(pos)
        if ch == "{":
            return self.object(pos, depth)
        if ch == "[":
            return self.array(pos, depth)
        if ch == "-" or ch.isdigit():
            match = _JSON_NUMBER.match(text, pos)
            if match is None:
                raise _JsonError(pos, "invalid number")
            number: int | float
            if match.group(1) or match.group(2):
                number = float(match.group())
                if number.is_integer() and abs(number) < 2**53:
                    number = int(number)
            else:
                number = int(match.group())
            return _J("num", pos, match.end(), number), match.end()
        for word, literal in (("true", True), ("false", False), ("null", None)):
            if text.startswith(word, pos):
                return _J("lit", pos, pos + len(word), literal), pos + len(word)
        raise _JsonError(pos, f"unexpected {text[pos]!r} in JSON")

    def string(self, pos: int) -> tuple[_J, int]:
        try:
            value, end = scanstring(self.text, pos + 1, True)
        except JSONDecodeError as exc:
            raise _JsonError(exc.pos, f"invalid JSON string: {exc.msg}") from None
        return _J("str", pos, end, value), end

    def object(self, pos: int, depth: int) -> tuple[_J, int]:
        if depth >= MAX_DEPTH:
            raise _JsonError(pos, f"nesting too deep (more than {MAX_DEPTH} levels)")
        node = _J("obj", pos, pos + 1, [])
        members = node.value
        text = self.text
        pos = self.ws(pos + 1)
        key: tuple[str, int, int] | None = None
        try:
            if pos < self.n and text[pos] == "}":
                node.end = pos + 1
                return node, pos + 1
            while True:
                if pos >= self.n or text[pos] != '"':
                    raise _JsonError(pos, "expected a quoted property name in JSON object")
                key_node, after = self.string(pos)
                key = (key_node.value, pos, after)
                pos = self.ws(after)
                if pos >= self.n or text[pos] != ":":
                    raise _JsonError(pos, 'expected ":" after a property name in JSON object')
                pos = self.ws(pos + 1)
                child, pos = self.value(pos, depth + 1)
                members.append((key[0], key[1], key[2], child))
                key = None
                pos = self.ws(pos)
                if pos < self.n and text[pos] == ",":
                    pos = self.ws(pos + 1)
                    continue
                if pos < self.n and text[pos] == "}":
                    node.end = pos + 1
                    return node, pos + 1
                raise _JsonError(pos, 'expected "," or "}" in JSON object')
        except _JsonError as exc:
            if key is not None and exc.partial is not None:
                members.append((key[0], key[1], key[2], exc.partial))
            node.end = min(exc.pos, self.n)
            exc.partial = node
            raise

    def array(self, pos: int, depth: int) -> tuple[_J, int]:
        if depth >= MAX_DEPTH:
            raise _JsonError(pos, f"nesting too deep (more than {MAX_DEPTH} levels)")
        node = _J("arr", pos, pos + 1, [])
        items = node.value
        text = self.text
        pos = self.ws(pos + 1)
        try:
            if pos < self.n and text[pos] == "]":
                node.end = pos + 1
                return node, pos + 1
            while True:
                child, pos = self.value(pos, depth + 1)
                items.append(child)
                pos = self.ws(pos)
                if pos < self.n and text[pos] == ",":
                    pos = self.ws(pos + 1)
                    continue
                if pos < self.n and text[pos] == "]":
                    node.end = pos + 1
                    return node, pos + 1
                raise _JsonError(pos, 'expected "," or "]" in JSON array')
        except _JsonError as exc:
            if exc.partial is not None:
                items.append(exc.partial)
            node.end = min(exc.pos, self.n)
            exc.partial = node
            raise


def _parse_json(text: str, tfvars: bool | None) -> HclFile:
    problems: list[SyntaxProblem] = []
    converter = _JsonConverter(text, problems)
    scanner = _JsonScanner(text)
    root: _J | None = None
    try:
        pos = scanner.ws(1 if text.startswith("\ufeff") else 0)
        root, pos = scanner.value(pos, 0)
        pos = scanner.ws(pos)
        if pos < len(text):
            converter.problem(pos, "unexpected data after the JSON value")
    except _JsonError as exc:
        converter.problem(exc.pos, exc.message)
        root = exc.partial
    except RecursionError:
        return HclFile(Body(), (SyntaxProblem(1, 1, "nesting too deep"),))
    if root is None:
        return HclFile(Body(), tuple(_dedupe(problems)))
    if root.kind != "obj":
        converter.problem(root.start, "the root of a Terraform JSON file must be an object")
        return HclFile(Body(), tuple(_dedupe(problems)))
    try:
        if tfvars is None:
            tfvars = not any(key in _TOP_LEVEL_TYPES for key, _, _, _ in root.value)
        body = converter.body(root, "", "") if tfvars else converter.config_file(root)
    except RecursionError:
        body = Body()
        problems.append(SyntaxProblem(1, 1, "nesting too deep"))
    return HclFile(body, tuple(_dedupe(problems)))


class _JsonConverter:
    def __init__(self, text: str, problems: list[SyntaxProblem]) -> None:
        self.text = text
        self.problems = problems
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def pos(self, offset: int) -> tuple[int, int]:
        index = bisect_right(self.line_starts, offset) - 1
        return index + 1, offset - self.line_starts[index] + 1

    def span(self, start: int, end: int) -> Span:
        return self.pos(start) + self.pos(end)

    def problem(self, offset: int, message: str) -> None:
        line, column = self.pos(min(offset, len(self.text)))
        self.problems.append(SyntaxProblem(line, column, message))

    # -- structure ---------------------------------------------------------------------------------------------

    def config_file(self, root: _J) -> Body:
        blocks: list[Block] = []
        for key, key_start, _key_end, value in root.value:
            if key == "//":
                continue
            if key == "locals":
                for obj in self.objects(value, key_start, "locals"):
                    blocks.append(Block("locals", (), self.body(obj, "", "locals"), self.span(key_start, obj.end)))
                continue
            self.blocks(key, value, _LABELS.get(key, 0), (), key_start, key, blocks)
        return Body({}, tuple(blocks))

    def objects(self, value: _J, key_start: int, what: str) -> list[_J]:
        if value.kind == "obj":
            return [value]
        if value.kind == "arr":
            out = []
            for item in value.value:
                if item.kind == "obj":
                    out.append(item)
                else:
                    self.problem(item.start, f'expected an object for "{what}"')
            return out
        self.problem(value.start, f'expected an object for "{what}"')
        return []

    def blocks(self, block_type: str, value: _J, labels_left: int, labels: tuple[str, ...], key_start: int,
               context: str, out: list[Block], depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            self.problem(value.start, f"nesting too deep (more than {MAX_DEPTH} levels)")
            return
        for obj in self.objects(value, key_start, block_type):
            start = obj.start if value.kind == "arr" else key_start  # an array item: its own object
            if labels_left == 0:
                body = self.body(obj, context, block_type, depth + 1)
                out.append(Block(block_type, labels, body, self.span(start, obj.end)))
                continue
            for label, label_start, _label_end, sub in obj.value:
                if label == "//":
                    continue
                self.blocks(block_type, sub, labels_left - 1, labels + (label,), label_start, context, out, depth + 1)

    def body(self, obj: _J, context: str, block_type: str, depth: int = 0) -> Body:
        """``context`` is the top-level block type the body belongs to, ``block_type`` its own."""
        nested = _NESTED.get(context, {})
        resource_like = context in _RESOURCE_LIKE
        attributes: dict[str, Attribute] = {}
        blocks: list[Block] = []
        for key, key_start, key_end, value in obj.value:
            if key == "//":
                continue
            labels = nested.get(key)
            if labels is not None and value.kind in ("obj", "arr"):
                self.blocks(key, value, labels, (), key_start, context, blocks, depth + 1)
                continue
            if resource_like and value.kind == "arr" and value.value and all(i.kind == "obj" for i in value.value):
                self.blocks(key, value, 0, (), key_start, context, blocks, depth + 1)
                continue
            if key in attributes:
                self.problem(key_start, f'duplicate attribute "{key}"')
                continue
            mode = _EXPRESSION_STRINGS.get((block_type, key))
            expr = self.expr(value, depth + 1) if mode is None else self.expression_strings(value, mode, depth + 1)
            attributes[key] = Attribute(key, expr, self.span(key_start, value.end), self.span(key_start, key_end))
        return Body(attributes, tuple(blocks))

    def expression_strings(self, value: _J, mode: str, depth: int) -> Expr:
        """A meta-argument whose strings hold native expressions (``depends_on``, ``provider``, ``type``...)."""
        if value.kind == "str":
            return self.native(value, depth)
        if mode == "list" and value.kind == "arr":
            items = tuple(self.native(i, depth + 1) if i.kind == "str" else self.expr(i, depth + 1)
                          for i in value.value)
            return TupleExpr(items, self.span(value.start, value.end))
        if mode == "map" and value.kind == "obj":
            pairs = tuple((Literal(k, self.span(ks, ke)), self.native(v, depth + 1) if v.kind == "str"
                           else self.expr(v, depth + 1)) for k, ks, ke, v in value.value)
            return ObjectExpr(pairs, self.span(value.start, value.end))
        return self.expr(value, depth)

    def native(self, node: _J, depth: int) -> Expr:
        """A JSON string holding a native-syntax expression (``"aws_iam_role.r"``, ``"list(string)"``)."""
        text: str = node.value
        if not text.strip() or "\n" in text:
            return self.template(node)
        synthesized = f"x = {text}\n".encode("utf-8", "surrogatepass")
        tree = _parser().parse(synthesized)
        builder = _JsonStringBuilder(synthesized, self, node, text, first_row=0, first_col=4)
        if tree.root_node.has_error:
            self.problems.extend(_problems(tree.root_node, builder))
        expression = _find(tree.root_node, "expression")
        if expression is None:
            return self.template(node)
        return builder.expr(expression, depth)

    # -- expressions -------------------------------------------------------------------------------------------

    def expr(self, node: _J, depth: int) -> Expr:
        if depth > MAX_DEPTH:
            self.problem(node.start, f"nesting too deep (more than {MAX_DEPTH} levels)")
            return Literal(None, self.span(node.start, node.end))
        kind = node.kind
        if kind == "str":
            return self.template(node)
        if kind in ("num", "lit"):
            return Literal(node.value, self.span(node.start, node.end))
        if kind == "arr":
            return TupleExpr(tuple(self.expr(i, depth + 1) for i in node.value), self.span(node.start, node.end))
        items = []
        for key, key_start, key_end, value in node.value:
            key_expr = self.template(_J("str", key_start, key_end, key))
            items.append((key_expr, self.expr(value, depth + 1)))
        return ObjectExpr(tuple(items), self.span(node.start, node.end))

    def template(self, node: _J) -> Expr:
        value: str = node.value
        span = self.span(node.start, node.end)
        if "${" not in value and "%{" not in value:
            return Literal(value, span)
        marker = "EOT"
        while marker in value:
            marker += "_"
        synthesized = f"x = <<{marker}\n{value}\n{marker}\n".encode("utf-8", "surrogatepass")
        tree = _parser().parse(synthesized)
        builder = _JsonStringBuilder(synthesized, self, node, value)
        found = _problems(tree.root_node, builder) if tree.root_node.has_error else []
        self.problems.extend(found)
        heredoc = _find(tree.root_node, "heredoc_template")
        if heredoc is None:
            return Literal(value, span)
        start = len(f"x = <<{marker}\n".encode("utf-8", "surrogatepass"))
        end = start + len(value.encode("utf-8", "surrogatepass"))
        result = builder.template(heredoc, 0, heredoc=True, content=(start, end), flush=False, quoted=False)
        if isinstance(result, Literal):  # the whole string, quotes included
            return Literal(result.value, span)
        if isinstance(result, Template):
            return Template(result.parts, span)
        return result


def _find(root: Any, kind: str) -> Any:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == kind:
            return node
        stack.extend(reversed(node.children))
    return None


class _JsonStringBuilder(_Builder):
    """Builds expressions from a JSON string's value embedded in synthesized HCL (at row ``first_row``, byte
    column ``first_col``); positions map back into the JSON text, through the string's escapes."""

    def __init__(self, synthesized: bytes, converter: _JsonConverter, node: _J, value: str, first_row: int = 1,
                 first_col: int = 0) -> None:
        super().__init__(synthesized, converter.problems)
        self.fast = False
        self.first_row = first_row
        self.first_col = first_col
        self.converter = converter
        self.lines = value.split("\n")
        self.line_offsets = [0]
        for line in self.lines[:-1]:
            self.line_offsets.append(self.line_offsets[-1] + len(line) + 1)
        self.length = len(value)
        raw_start = node.start + 1
        raw = converter.text[raw_start:node.end - 1]
        self.raw_start = raw_start
        self.raw_end = node.end - 1
        self.offsets = _decoded_offsets(raw) if "\\" in raw else None

    def pos(self, row: int, bcol: int) -> tuple[int, int]:
        index = row - self.first_row
        if index < 0:
            offset = 0
        elif index >= len(self.lines):
            offset = self.length
        else:
            line = self.lines[index]
            if index == 0:
                bcol = max(0, bcol - self.first_col)
            column = bcol if line.isascii() else len(line.encode("utf-8", "surrogatepass")[:bcol].decode("utf-8",
                                                                                                         "replace"))
            offset = min(self.line_offsets[index] + column, self.length)
        if self.offsets is not None:
            source = self.raw_start + self.offsets[offset]
        else:
            source = self.raw_start + offset
        return self.converter.pos(min(source, self.raw_end))


def _decoded_offsets(raw: str) -> list[int]:
    """For each character of the decoded JSON string, the offset of its source in ``raw``; plus the end."""
    offsets: list[int] = []
    i = 0
    n = len(raw)
    while i < n:
        offsets.append(i)
        if raw[i] == "\\" and i + 1 < n:
            if raw[i + 1] == "u":
                code = int(raw[i + 2:i + 6], 16) if re.fullmatch(r"[0-9A-Fa-f]{4}", raw[i + 2:i + 6]) else 0
                if 0xD800 <= code <= 0xDBFF and raw[i + 6:i + 8] == "\\u":
                    low = raw[i + 8:i + 12]
                    if re.fullmatch(r"[0-9A-Fa-f]{4}", low) and 0xDC00 <= int(low, 16) <= 0xDFFF:
                        i += 12
                        continue
                i += 6
            else:
                i += 2
        else:
            i += 1
    offsets.append(n)
    return offsets


def parse_template(text: str) -> Expr | None:
    """A template file's text (for ``templatefile``) as an expression, or None when it does not parse."""
    marker = "SERVEGATE_TEMPLATE_END"
    while marker in text:
        marker += "_"
    body = text if text.endswith("\n") else text + "\n"
    parsed = parse_hcl(f"t = <<{marker}\n{body}{marker}\n")
    attribute = parsed.body.attributes.get("t")
    return attribute.expr if attribute is not None and not parsed.problems else None
