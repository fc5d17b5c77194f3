"""A small, position-carrying syntax tree for HCL (Terraform ``.tf``, ``.tfvars`` and ``.tf.json``).

The HCL loader builds it; the Terraform evaluator reads it. Every node carries a ``span``:
(line, column, end_line, end_column), 1-based, end column exclusive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

Span = tuple[int, int, int, int]
NO_SPAN: Span = (1, 1, 1, 1)


@dataclass(frozen=True, slots=True)
class Literal:
    value: str | int | float | bool | None
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class TemplateIf:
    condition: Expr
    then: tuple[TemplatePart, ...]
    otherwise: tuple[TemplatePart, ...]
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class TemplateFor:
    key_var: str | None
    value_var: str
    collection: Expr
    body: tuple[TemplatePart, ...]
    span: Span = NO_SPAN


# Literal text (escapes already processed, heredoc indentation already stripped), an
# interpolated expression, or a directive.
TemplatePart = Union[str, "Expr", TemplateIf, TemplateFor]


@dataclass(frozen=True, slots=True)
class Template:
    """A quoted string or heredoc with interpolations or directives. Plain strings are ``Literal``."""

    parts: tuple[TemplatePart, ...]
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Variable:
    """A root name: ``var``, ``local``, ``module``, ``data``, ``each``, ``count``, ``path``, a resource type,
    or a name bound by a ``for`` expression or ``dynamic`` block iterator."""

    name: str
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class GetAttr:
    target: Expr
    name: str
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Index:
    target: Expr
    key: Expr
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Splat:
    """``target[*].a.b`` or ``target.*.a.b``: each step is ("attr", name) or ("index", Expr)."""

    target: Expr
    steps: tuple[tuple[str, str | Expr], ...]
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # "jsonencode", or "provider::aws::arn_parse"
    args: tuple[Expr, ...]
    expand_last: bool = False  # f(x...)
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class TupleExpr:
    items: tuple[Expr, ...]
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class ObjectExpr:
    """``{ k = v }``: a bare identifier key is a ``Literal`` of its name; ``(expr)`` keys are expressions."""

    items: tuple[tuple[Expr, Expr], ...]
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Conditional:
    condition: Expr
    true: Expr
    false: Expr
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # + - * / % == != < <= > >= && ||
    left: Expr
    right: Expr
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # - !
    operand: Expr
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class ForExpr:
    """``[for k, v in coll : value if cond]`` or ``{for k, v in coll : key => value... if cond}``."""

    key_var: str | None
    value_var: str
    collection: Expr
    value: Expr
    key: Expr | None = None  # object form only
    condition: Expr | None = None
    group: bool = False  # the ``...`` grouping of the object form
    span: Span = NO_SPAN


Expr = Union[Literal, Template, Variable, GetAttr, Index, Splat, Call, TupleExpr, ObjectExpr, Conditional, Binary,
             Unary, ForExpr]


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    expr: Expr
    span: Span  # from the name to the end of the value
    name_span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Block:
    type: str  # resource, data, module, variable, locals, output, provider, terraform, or a nested block name
    labels: tuple[str, ...]
    body: Body
    span: Span  # the whole block, from its type to the closing brace


@dataclass(frozen=True, slots=True)
class Body:
    attributes: dict[str, Attribute] = field(default_factory=dict)  # in source order
    blocks: tuple[Block, ...] = ()

    def blocks_of(self, block_type: str) -> list[Block]:
        return [b for b in self.blocks if b.type == block_type]


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    line: int
    column: int
    message: str


@dataclass(frozen=True, slots=True)
class HclFile:
    body: Body
    problems: tuple[SyntaxProblem, ...] = ()  # what was recovered from; the rest of ``body`` is usable
