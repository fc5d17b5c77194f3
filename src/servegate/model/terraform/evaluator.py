"""Expression evaluation over the HCL syntax tree, with Terraform's semantics and explicit unknowns."""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from servegate.model.terraform.values import EvalError, Unknown, first_unknown, is_known, normalise_number, type_name
from servegate.sources import hcl_ast as ast

# Resolves a root name (var, local, module, data, a resource type, ...) followed by the attribute
# steps that select it; returns the value and how many steps it consumed.
Resolver = Callable[[str, list[str], "Scope"], tuple[Any, int]]


@dataclass(frozen=True)
class FileAccess:
    """Reading files for file()/templatefile(): relative to the module, never outside the scan root."""

    module_dir: Path
    root: Path

    def read(self, name: str) -> str | None:
        path = (self.module_dir / name).resolve()
        if not path.is_relative_to(self.root) or not path.is_file() or path.stat().st_size > 1_000_000:
            return None
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None


@dataclass
class Scope:
    """Names visible to an expression: module-level names through ``resolve``, plus local bindings
    (``each``, ``count``, ``for`` variables, ``dynamic`` iterators, ``self``)."""

    resolve: Resolver
    bindings: dict[str, Any] = field(default_factory=dict)
    directory: str = "."  # the module's folder, for path.module
    files: FileAccess | None = None

    def child(self, **names: Any) -> Scope:
        return Scope(self.resolve, {**self.bindings, **names}, self.directory, self.files)


def evaluate(expr: ast.Expr, scope: Scope) -> Any:
    """The value of ``expr``; raises EvalError for what Terraform would reject."""
    handler = _HANDLERS.get(type(expr))
    if handler is None:
        raise EvalError(f"unsupported expression {type(expr).__name__}")
    return handler(expr, scope)


def evaluate_safely(expr: ast.Expr, scope: Scope) -> Any:
    """Like ``evaluate``, but an error becomes an Unknown carrying the message."""
    try:
        return evaluate(expr, scope)
    except EvalError as exc:
        return Unknown(f"cannot evaluate: {exc}")
    except RecursionError:
        return Unknown("expression nested too deeply")


def _literal(expr: ast.Literal, scope: Scope) -> Any:
    return expr.value


def render_template_parts(parts: tuple[ast.TemplatePart, ...], scope: Scope) -> Any:
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, ast.TemplateIf):
            condition = evaluate(part.condition, scope)
            if isinstance(condition, Unknown):
                return condition
            chosen = part.then if _truth(condition) else part.otherwise
            text = render_template_parts(chosen, scope)
            if isinstance(text, Unknown):
                return text
            out.append(text)
        elif isinstance(part, ast.TemplateFor):
            collection = evaluate(part.collection, scope)
            if not is_known(collection):
                return Unknown("template loops over an unknown collection")
            for key, value in _pairs(collection):
                bound = {part.value_var: value}
                if part.key_var:
                    bound[part.key_var] = key
                text = render_template_parts(part.body, scope.child(**bound))
                if isinstance(text, Unknown):
                    return text
                out.append(text)
        else:
            value = evaluate(part, scope)
            if not is_known(value):
                return value if isinstance(value, Unknown) else Unknown("template interpolates an unknown value")
            out.append(to_string(value))
    return "".join(out)


def _template(expr: ast.Template, scope: Scope) -> Any:
    return render_template_parts(expr.parts, scope)


def _traversal(expr: ast.Expr) -> tuple[str, list[str]] | None:
    """``a.b.c`` as ("a", ["b", "c"]) when the expression is a plain attribute chain."""
    steps: list[str] = []
    while isinstance(expr, ast.GetAttr):
        steps.append(expr.name)
        expr = expr.target
    if isinstance(expr, ast.Variable):
        return expr.name, steps[::-1]
    return None


# HCL has no True/False; Terraform rejects them as references. Read them as the boolean the author
# meant rather than as an unknown that would turn every check on the attribute into a guess.
_CAPITALISED_BOOLEANS = {"True": True, "False": False}


def _variable(expr: ast.Variable, scope: Scope) -> Any:
    if expr.name in scope.bindings:
        return scope.bindings[expr.name]
    if expr.name in _CAPITALISED_BOOLEANS:
        return _CAPITALISED_BOOLEANS[expr.name]
    value, _ = scope.resolve(expr.name, [], scope)
    return value


def _get_attr(expr: ast.GetAttr, scope: Scope) -> Any:
    chain = _traversal(expr)
    if chain is not None and chain[0] not in scope.bindings:
        root, steps = chain
        value, used = scope.resolve(root, steps, scope)
        for step in steps[used:]:
            value = get_attribute(value, step)
        return value
    return get_attribute(evaluate(expr.target, scope), expr.name)


class ResourceObject(dict):
    """A resource instance's configured attributes; the others are computed, hence unknown."""

    __slots__ = ("address", "derived")

    def __init__(self, values: dict, address: str, derived: dict | None = None) -> None:
        super().__init__(values)
        self.address = address
        self.derived = derived or {}


def get_attribute(value: Any, name: str) -> Any:
    if isinstance(value, Unknown):
        return Unknown(value.reason, f"{value.ref}.{name}" if value.ref else "")
    if isinstance(value, dict):
        if name in value:
            return value[name]
        if isinstance(value, ResourceObject):
            if name in value.derived:
                return value.derived[name]
            return Unknown(f"known after apply: {value.address}.{name}", f"{value.address}.{name}")
        raise EvalError(f"this object does not have an attribute named {name!r}")
    if value is None:
        raise EvalError(f"attempt to get attribute {name!r} from a null value")
    raise EvalError(f"cannot get attribute {name!r} of a {type_name(value)}")


def index_value(value: Any, key: Any) -> Any:
    unknown = first_unknown(value, key)
    if unknown is not None:
        return unknown
    if isinstance(value, list):
        if isinstance(key, str) and key.lstrip("-").isdigit():
            key = int(key)
        if not isinstance(key, (int, float)) or isinstance(key, bool):
            raise EvalError(f"a list index must be a number, not {type_name(key)}")
        if not 0 <= int(key) < len(value):
            raise EvalError(f"index {int(key)} out of range for a list of {len(value)} elements")
        return value[int(key)]
    if isinstance(value, dict):
        key = to_string(key) if not isinstance(key, str) else key
        if key not in value:
            raise EvalError(f"the given key {key!r} does not identify an element in this collection")
        return value[key]
    raise EvalError(f"cannot index a {type_name(value)}")


def _index(expr: ast.Index, scope: Scope) -> Any:
    return index_value(evaluate(expr.target, scope), evaluate(expr.key, scope))


def _splat(expr: ast.Splat, scope: Scope) -> Any:
    target = evaluate(expr.target, scope)
    if isinstance(target, Unknown):
        return target
    if target is None:
        return []
    items = target if isinstance(target, list) else [target]  # a single value splats as a one-item list
    out = []
    for item in items:
        for kind, step in expr.steps:
            item = get_attribute(item, step) if kind == "attr" else index_value(item, evaluate(step, scope))
        out.append(item)
    return out


def _call(expr: ast.Call, scope: Scope) -> Any:
    name = expr.name.rpartition("::")[2] if expr.name.startswith("provider::") else expr.name
    if name == "try":
        for arg in expr.args:
            try:
                value = evaluate(arg, scope)
            except EvalError:
                continue
            return value
        raise EvalError("no expression given to try() succeeded")
    if name == "can":
        if len(expr.args) != 1:
            raise EvalError("can() takes exactly one argument")
        try:
            value = evaluate(expr.args[0], scope)
        except EvalError:
            return False
        return True if is_known(value) else Unknown("can() of an unknown value")
    if expr.name.startswith("provider::"):
        return Unknown(f"provider-defined function {expr.name} is not evaluated")
    args = [evaluate(arg, scope) for arg in expr.args]
    if expr.expand_last and args:
        last = args.pop()
        if isinstance(last, Unknown):
            return last
        if not isinstance(last, list):
            raise EvalError("the final argument of an expanded call must be a list")
        args.extend(last)
    if name in _FILE_FUNCTIONS:
        return _file_function(name, args, scope)
    from servegate.model.terraform.functions import call

    return call(name, args)


_FILE_FUNCTIONS = frozenset({"file", "filebase64", "fileexists", "fileset", "templatefile", "filemd5", "filesha256",
                             "filesha1", "filesha512", "filebase64sha256", "filebase64sha512", "abspath"})


def _file_function(name: str, args: list[Any], scope: Scope) -> Any:
    """file(), fileexists(), filebase64() and templatefile() on files inside the scan; else unknown."""
    if not args or not isinstance(args[0], str) or scope.files is None or name not in _READABLE:
        unknown = first_unknown(*args)
        return unknown if unknown is not None else Unknown(f"{name}() is not evaluated")
    text = scope.files.read(args[0])
    if name == "fileexists":
        return text is not None
    if text is None:
        return Unknown(f"{name}({args[0]!r}): not a readable file inside the scan")
    if name == "file":
        return text
    if name == "filebase64":
        return base64.b64encode(text.encode()).decode()
    variables = args[1] if len(args) > 1 else {}
    if not isinstance(variables, dict):
        return Unknown("templatefile() variables are not known")
    from servegate.sources.hcl_loader import parse_template

    template = parse_template(text)
    if template is None:
        return Unknown(f"templatefile({args[0]!r}): the template does not parse")
    return evaluate(template, Scope(scope.resolve, dict(variables), scope.directory, scope.files))


_READABLE = frozenset({"file", "fileexists", "filebase64", "templatefile"})


def _tuple(expr: ast.TupleExpr, scope: Scope) -> Any:
    # One element Terraform would reject leaves the others known: judge what can be judged.
    return [evaluate_safely(item, scope) for item in expr.items]


def _object(expr: ast.ObjectExpr, scope: Scope) -> Any:
    out: dict[str, Any] = {}
    for key_expr, value_expr in expr.items:
        key = evaluate(key_expr, scope)
        if isinstance(key, Unknown):
            return Unknown("object key is unknown")
        out[to_string(key)] = evaluate_safely(value_expr, scope)
    return out


def _conditional(expr: ast.Conditional, scope: Scope) -> Any:
    condition = evaluate(expr.condition, scope)
    if isinstance(condition, Unknown):
        # Both branches may be the same known value (a common "x ? a : a" after refactoring).
        true, false = evaluate_safely(expr.true, scope), evaluate_safely(expr.false, scope)
        return true if is_known(true) and true == false else Unknown(f"condition is unknown ({condition.reason})")
    return evaluate(expr.true if _truth(condition) else expr.false, scope)


def _truth(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value == "true":
        return True
    if value == "false":
        return False
    raise EvalError(f"a condition must be a bool, not {type_name(value)}")


def _number(value: Any) -> float | int:
    if isinstance(value, bool):
        raise EvalError("a number is required, not a bool")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return normalise_number(float(value))
        except ValueError:
            pass
    raise EvalError(f"a number is required, not {type_name(value)}")


def _binary(expr: ast.Binary, scope: Scope) -> Any:
    op = expr.op
    if op in ("&&", "||"):
        left = evaluate(expr.left, scope)
        if not isinstance(left, Unknown) and _truth(left) == (op == "||"):
            return op == "||"
        right = evaluate(expr.right, scope)
        unknown = first_unknown(left, right)
        if unknown is not None:
            return unknown
        return _truth(right)
    left, right = evaluate(expr.left, scope), evaluate(expr.right, scope)
    if op in ("==", "!="):
        if (left is None and isinstance(right, (dict, list))) or (right is None and isinstance(left, (dict, list))):
            return op == "!="  # an object or list is not null, whatever its leaves
        if not is_known(left) or not is_known(right):
            return Unknown("comparison with an unknown value")
        equal = _loosely_equal(left, right)
        return equal if op == "==" else not equal
    unknown = first_unknown(left, right)
    if unknown is not None:
        return unknown
    a, b = _number(left), _number(right)
    if op == "+":
        return normalise_number(a + b)
    if op == "-":
        return normalise_number(a - b)
    if op == "*":
        return normalise_number(a * b)
    if op == "/":
        if b == 0:
            return math.inf if a > 0 else -math.inf if a < 0 else Unknown("0/0")
        return normalise_number(a / b)
    if op == "%":
        if b == 0:
            raise EvalError("modulo by zero")
        return normalise_number(math.fmod(a, b))
    comparisons = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}
    if op in comparisons:
        return comparisons[op]
    raise EvalError(f"unsupported operator {op}")


def _loosely_equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return float(left) == float(right)
    return left == right


def _unary(expr: ast.Unary, scope: Scope) -> Any:
    value = evaluate(expr.operand, scope)
    if isinstance(value, Unknown):
        return value
    if expr.op == "!":
        return not _truth(value)
    return normalise_number(-_number(value))


def _pairs(collection: Any) -> list[tuple[Any, Any]]:
    if isinstance(collection, dict):
        return sorted(collection.items(), key=lambda kv: kv[0])
    if isinstance(collection, list):
        return list(enumerate(collection))
    if collection is None:
        raise EvalError("cannot iterate over a null value")
    raise EvalError(f"cannot iterate over a {type_name(collection)}")


def _for(expr: ast.ForExpr, scope: Scope) -> Any:
    collection = evaluate(expr.collection, scope)
    if not isinstance(collection, (list, dict)) and isinstance(collection, Unknown):
        return Unknown(f"for expression over an unknown collection ({collection.reason})")
    results_list: list[Any] = []
    results_map: dict[str, Any] = {}
    for key, value in _pairs(collection):
        bound = {expr.value_var: value}
        if expr.key_var:
            bound[expr.key_var] = key
        inner = scope.child(**bound)
        if expr.condition is not None:
            keep = evaluate(expr.condition, inner)
            if isinstance(keep, Unknown):
                return Unknown("for expression filter is unknown")
            if not _truth(keep):
                continue
        item = evaluate(expr.value, inner)
        if expr.key is None:
            results_list.append(item)
            continue
        item_key = evaluate(expr.key, inner)
        if isinstance(item_key, Unknown):
            return Unknown("for expression key is unknown")
        item_key = to_string(item_key)
        if expr.group:
            results_map.setdefault(item_key, []).append(item)
        elif item_key in results_map:
            raise EvalError(f"duplicate object key {item_key!r} in for expression (use ... to group)")
        else:
            results_map[item_key] = item
    return results_list if expr.key is None else results_map


def to_string(value: Any) -> str:
    """Terraform's automatic conversion of primitives to string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(normalise_number(value))
    if isinstance(value, str):
        return value
    if value is None:
        raise EvalError("cannot use a null value in a string")
    raise EvalError(f"cannot convert a {type_name(value)} to a string")


_HANDLERS: dict[type, Callable[[Any, Scope], Any]] = {
    ast.Literal: _literal,
    ast.Template: _template,
    ast.Variable: _variable,
    ast.GetAttr: _get_attr,
    ast.Index: _index,
    ast.Splat: _splat,
    ast.Call: _call,
    ast.TupleExpr: _tuple,
    ast.ObjectExpr: _object,
    ast.Conditional: _conditional,
    ast.Binary: _binary,
    ast.Unary: _unary,
    ast.ForExpr: _for,
}


def _reference_chain(expr: Any) -> tuple[str, list[str], list[Any]] | None:
    """``a.b[0].c`` as ("a", ["b", "c"], [index expressions]): attribute steps, indexes stepped over."""
    steps: list[str] = []
    keys: list[Any] = []
    while isinstance(expr, (ast.GetAttr, ast.Index)):
        if isinstance(expr, ast.GetAttr):
            steps.append(expr.name)
        else:
            keys.append(expr.key)
        expr = expr.target
    if isinstance(expr, ast.Variable):
        return expr.name, steps[::-1], keys
    return None


def references(expr: Any) -> set[tuple[str, tuple[str, ...]]]:
    """Every traversal an expression makes: (root name, attribute steps), e.g. ("aws_s3_bucket", ("m", "id"));
    indexes are stepped over (``x.y[0].identity`` reads ("x", ("y", "identity")))."""
    found: set[tuple[str, tuple[str, ...]]] = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.GetAttr, ast.Variable, ast.Index)):
            chain = _reference_chain(node)
            if chain is not None:
                found.add((chain[0], tuple(chain[1])))
                stack.extend(chain[2])  # index expressions hold references too
                continue
        if isinstance(node, (str, int, float, bool)) or node is None:
            continue
        if isinstance(node, tuple):
            stack.extend(node)
            continue
        for name in getattr(node, "__slots__", ()):
            if name != "span":
                stack.append(getattr(node, name))
    return found
