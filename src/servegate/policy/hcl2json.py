"""Terraform native syntax in the JSON shape Conftest's ``hcl2`` parser gives policies, with a span everywhere.

Conftest converts HCL with tmccombs/hcl2json (v0.6.7 since Conftest's April 2025 release; earlier releases used
a single object for a block written once). The shape, from hcl2json's own tests:

* a block's labels nest as object keys and its body is always a list, one item per block:
  ``resource "aws_s3_bucket" "b" {...}`` -> ``{"resource": {"aws_s3_bucket": {"b": [{...}]}}}``;
  ``versioning { ... }`` inside it -> ``"versioning": [{...}]``; ``locals {}`` -> ``"locals": [{...}]``.
* literals are JSON values, ``-10`` is a number, ``[]`` an empty list, an object a JSON object (a key written as a
  name or a traversal is its source text, a quoted key its value).
* a string is its text; interpolations and directives stay in it as written (``"${var.name}-models"``,
  ``%{if c}x%{else}y%{endif}``, ``%{for x in xs}...%{endfor}``); a string that is a single interpolation is that
  expression; heredocs are their text (``<<-`` heredocs without their common indentation).
* any other expression (a reference, a call, an operator, a ``for`` expression...) is ``"${<its source text>}"``:
  ``bucket = aws_s3_bucket.b.id`` -> ``"${aws_s3_bucket.b.id}"``.

The result is built from ``LDict``/``LList`` (``sources.located``), so a path a policy returns resolves to a span:
a block's labels and list item span the whole block, an attribute its name and value.
"""

from __future__ import annotations

from typing import Any

from servegate.sources.hcl_ast import (
    Attribute,
    Block,
    Body,
    Conditional,
    Expr,
    GetAttr,
    Index,
    Literal,
    ObjectExpr,
    Splat,
    Template,
    TemplateFor,
    TemplateIf,
    TupleExpr,
    Unary,
    Variable,
)
from servegate.sources.located import LDict, LList, Span


class Converter:
    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")

    def source(self, span: tuple[int, int, int, int]) -> str:
        line, column, end_line, end_column = span
        if line == end_line:
            return self.lines[line - 1][column - 1:end_column - 1]
        parts = [self.lines[line - 1][column - 1:]] + self.lines[line:end_line - 1]
        parts.append(self.lines[end_line - 1][:end_column - 1])
        return "\n".join(parts)

    def body(self, body: Body, span: Span) -> LDict:
        out = LDict(span=span)
        for name, attribute in body.attributes.items():
            self.attribute(out, name, attribute)
        for block in body.blocks:
            self.block(out, block)
        return out

    def attribute(self, out: LDict, name: str, attribute: Attribute) -> None:
        out[name] = self.expr(attribute.expr)
        out.key_spans[name] = _span(attribute.name_span)
        out.value_spans[name] = _span(attribute.expr.span)

    def block(self, out: LDict, block: Block) -> None:
        span = _span(block.span)
        key = block.type
        for label in block.labels:
            inner = out.get(key)
            if not isinstance(inner, LDict):
                inner = LDict(span=span)
                out[key] = inner
                out.key_spans[key] = out.value_spans[key] = span
            out, key = inner, label
        items = out.get(key)
        if not isinstance(items, LList):
            items = LList(span=span)
            out[key] = items
            out.key_spans[key] = out.value_spans[key] = span
        items.append(self.body(block.body, span))
        items.item_spans.append(span)

    def expr(self, expr: Expr) -> Any:
        if isinstance(expr, Literal):
            return expr.value
        if isinstance(expr, Unary) and isinstance(expr.operand, Literal):
            value = expr.operand.value
            if expr.op == "-" and isinstance(value, (int, float)) and not isinstance(value, bool):
                return -value
            if expr.op == "!" and isinstance(value, bool):
                return not value
        if isinstance(expr, Template):
            return "".join(self.string_part(part) for part in expr.parts)
        if isinstance(expr, TupleExpr):
            items = LList(span=_span(expr.span))
            for item in expr.items:
                items.append(self.expr(item))
                items.item_spans.append(_span(item.span))
            return items
        if isinstance(expr, ObjectExpr):
            obj = LDict(span=_span(expr.span))
            for key_expr, value in expr.items:
                key = self.key(key_expr)
                obj[key] = self.expr(value)
                obj.key_spans[key] = _span(key_expr.span)
                obj.value_spans[key] = _span(value.span)
            return obj
        return self.wrap(expr)

    def wrap(self, expr: Expr) -> str:
        return "${" + self.source(expr.span) + "}"

    def key(self, expr: Expr) -> str:
        """A name or traversal written as the key is its text; ``"${local.k}"`` (an interpolation) stays one."""
        if isinstance(expr, (Variable, GetAttr, Index, Splat)) and not self._interpolated(expr.span):
            return self.source(expr.span)
        return self.string_part(expr)

    def _interpolated(self, span: tuple[int, int, int, int]) -> bool:
        line = self.lines[span[0] - 1]
        return line[:span[1] - 1].rstrip().endswith("${")

    def string_part(self, part: Any) -> str:
        if isinstance(part, str):
            return part
        if isinstance(part, Literal):
            value = part.value
            if isinstance(value, bool):
                return "true" if value else "false"
            return "" if value is None else str(value)
        if isinstance(part, Template):
            return "".join(self.string_part(p) for p in part.parts)
        if isinstance(part, TemplateIf):
            return self._if(self.source(part.condition.span), "".join(map(self.string_part, part.then)),
                            "".join(map(self.string_part, part.otherwise)))
        if isinstance(part, Conditional):  # hcl2json renders an interpolated conditional as a directive too
            return self._if(self.source(part.condition.span), self.string_part(part.true),
                            self.string_part(part.false))
        if isinstance(part, TemplateFor):
            names = f"{part.key_var}, {part.value_var}" if part.key_var else part.value_var
            body = "".join(self.string_part(p) for p in part.body)
            return f"%{{for {names} in {self.source(part.collection.span)}}}{body}%{{endfor}}"
        return self.wrap(part)

    @staticmethod
    def _if(condition: str, then: str, otherwise: str) -> str:
        return f"%{{if {condition}}}{then}" + (f"%{{else}}{otherwise}" if otherwise else "") + "%{endif}"


def _span(span: tuple[int, int, int, int]) -> Span:
    return (*span, "")


def convert(body: Body, text: str) -> LDict:
    """The Conftest ``hcl2`` document of a parsed file (``text`` is its source, for expressions kept as text)."""
    lines = text.count("\n") + 1
    return Converter(text).body(body, (1, 1, lines, 0, ""))

