"""Terraform configurations: root modules, variables and tfvars, locals, local module calls, and
resources expanded by ``count``/``for_each`` with Terraform's addresses.

Nothing is executed and nothing is fetched: remote modules and computed attributes are unknowns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from servegate.findings import InputError, Location
from servegate.model.terraform.derived import derived_attributes
from servegate.model.terraform.evaluator import FileAccess, ResourceObject, Scope, evaluate_safely, references
from servegate.model.terraform.values import EvalError, Unknown
from servegate.sources import hcl_ast as ast
from servegate.sources.located import format_path

META_ARGUMENTS = frozenset({"count", "for_each", "provider", "depends_on", "lifecycle"})
META_BLOCKS = frozenset({"lifecycle", "provisioner", "connection"})
MODULE_ARGUMENTS = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})
MAX_MODULE_DEPTH = 16


@dataclass(frozen=True, slots=True)
class TfFile:
    display: str  # relative to the scan root
    hcl: ast.HclFile


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a value was set: a tfvars line, a ``--var``, a module call argument, or a default."""

    file: str
    span: ast.Span
    description: str


@dataclass
class ModuleDir:
    """The .tf files of one folder."""

    directory: Path
    display: str
    files: list[TfFile] = field(default_factory=list)

    def blocks(self, block_type: str) -> Iterator[tuple[ast.Block, TfFile]]:
        for tf in self.files:
            for block in tf.hcl.body.blocks:
                if block.type == block_type:
                    yield block, tf


@dataclass(eq=False)
class TfResource:
    """One resource (or data source) instance, evaluated, with the source span of every attribute."""

    mode: str  # "managed" or "data"
    type: str
    name: str
    key: Any  # None, an int (count) or a str (for_each); Unknown when count/for_each is unknown
    module: ModuleInstance
    file: str
    block: ast.Block
    values: dict = field(default_factory=dict)
    spans: dict[tuple, ast.Span] = field(default_factory=dict)
    expressions: dict[tuple, ast.Expr] = field(default_factory=dict)

    @property
    def address(self) -> str:
        parent = self.module.address + "." if self.module.address else ""
        if self.mode == "module":  # a call to a remote module, judged by its inputs
            return f"{parent}module.{self.name}{instance_suffix(self.key)}"
        prefix = "data." if self.mode == "data" else ""
        return f"{parent}{prefix}{self.type}.{self.name}{instance_suffix(self.key)}"

    @property
    def ref(self) -> str:
        return self.address

    def get(self, *path: str | int, default: Any = None) -> Any:
        node: Any = self.values
        for step in path:
            if isinstance(node, dict) and not isinstance(step, int) and step in node:
                node = node[step]
            elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
                node = node[step]
            else:
                return default
        return node

    def span_of(self, path: tuple) -> ast.Span:
        """The span of the deepest part of ``path`` written in the source (else the whole block)."""
        for length in range(len(path), 0, -1):
            span = self.spans.get(tuple(path[:length]))
            if span is not None:
                return span
        return self.block.span

    def locate(self, path: tuple, scalar_line: int | None = None) -> Location:
        line, column, end_line, end_column = self.span_of(path)
        if scalar_line is not None:
            line, column, end_line, end_column = line + scalar_line, 1, line + scalar_line, 0
        return Location(self.file, line, column, end_line, end_column, format_path(path))

    def provenance(self, path: tuple) -> list[tuple[Location, str]]:
        """Where the value at ``path`` came from when it was set outside this block: the variables it
        reads (up to the root's tfvars or --var), and the module calls that instantiate this resource."""
        out: list[tuple[Location, str]] = []
        written = next((tuple(path[:n]) for n in range(len(path), 0, -1) if tuple(path[:n]) in self.expressions), None)
        seen: set[tuple[str, str]] = set()
        pending = sorted(self.references_of(written), reverse=True) if written else []  # popped in name order
        while pending:
            root, steps = pending.pop()
            if not steps or (root, steps[0]) in seen:
                continue
            seen.add((root, steps[0]))
            if root == "var":
                for origin in self.module.origin_chain(steps[0]):
                    out.append((_origin_location(origin), origin.description))
            elif root == "local":
                pending.extend(sorted(self.module.local_references(steps[0]), reverse=True))
        module: ModuleInstance | None = self.module
        while module is not None and module.call is not None:
            block, file = module.call
            out.append((Location(file, block.span[0], block.span[1], block.span[2], block.span[3]),
                        f"{module.address} instantiates this module"))
            module = module.parent
        return out

    def references_of(self, path: tuple) -> set[tuple[str, tuple[str, ...]]]:
        expr = self.expressions.get(tuple(path))
        return references(expr) if expr is not None else set()


def _origin_location(origin: Origin) -> Location:
    line, column, end_line, end_column = origin.span
    return Location(origin.file, line, column, end_line, end_column)


def instance_suffix(key: Any) -> str:
    if key is None:
        return ""
    if isinstance(key, Unknown):
        return "[?]"
    if isinstance(key, int):
        return f"[{key}]"
    return f'["{key}"]'


class ModuleInstance:
    """A module evaluated with its inputs: the root module, or one instance of a module call."""

    def __init__(self, project: Project, module_dir: ModuleDir, address: str = "",
                 inputs: dict[str, tuple[Any, Origin]] | None = None, parent: ModuleInstance | None = None,
                 call: tuple[ast.Block, str] | None = None, depth: int = 0, key: Any = None) -> None:
        self.project = project
        self.key = key  # the count index or for_each key of this module instance
        self.dir = module_dir
        self.address = address
        self.inputs = inputs or {}
        self.parent = parent
        self.call = call  # the module block and its file in the parent
        self.depth = depth
        self._variables: dict[str, tuple[Any, Origin | None]] = {}
        self._locals: dict[str, Any] = {}
        self._locals_in_progress: set[str] = set()
        self._groups: dict[tuple[str, str, str], list[TfResource]] = {}
        self._groups_in_progress: set[tuple[str, str, str]] = set()
        self._children: dict[str, list[ModuleInstance] | Unknown] = {}
        self._declared = {(mode, b.labels[0], b.labels[1]): (b, tf)
                          for mode, kind in (("managed", "resource"), ("data", "data"))
                          for b, tf in module_dir.blocks(kind) if len(b.labels) == 2}
        self._variable_blocks = {b.labels[0]: (b, tf) for b, tf in module_dir.blocks("variable") if b.labels}
        self._local_attrs = {name: (attr, tf) for b, tf in module_dir.blocks("locals")
                             for name, attr in b.body.attributes.items()}
        self._module_blocks = {b.labels[0]: (b, tf) for b, tf in module_dir.blocks("module") if b.labels}
        self._output_blocks = {b.labels[0]: (b, tf) for b, tf in module_dir.blocks("output") if b.labels}
        self.scope = Scope(self._resolve, {}, module_dir.display or ".",
                           FileAccess(module_dir.directory, project.root) if project.root else None)

    # -- names -------------------------------------------------------------------------------
    def variable(self, name: str) -> tuple[Any, Origin | None]:
        if name not in self._variables:
            self._variables[name] = self._variable_value(name)
        return self._variables[name]

    def _variable_value(self, name: str) -> tuple[Any, Origin | None]:
        if name in self.inputs:
            return self.inputs[name]
        if self.parent is None:
            given = self.project.root_value(self.dir, name)
            if given is not None:
                return given
        declared = self._variable_blocks.get(name)
        if declared is None:
            raise EvalError(f"reference to undeclared input variable {name!r}")
        block, tf = declared
        default = block.body.attributes.get("default")
        if default is None:
            return Unknown(f"var.{name} has no value (no default, not set in tfvars or module call)"), None
        value = evaluate_safely(default.expr, Scope(self._resolve_nothing, {}, self.scope.directory))
        return value, Origin(tf.display, default.span, f"default of variable {name!r}")

    def local(self, name: str) -> Any:
        if name in self._locals:
            return self._locals[name]
        found = self._local_attrs.get(name)
        if found is None:
            raise EvalError(f"reference to undeclared local value {name!r}")
        if name in self._locals_in_progress:
            return Unknown(f"local.{name} refers to itself")
        self._locals_in_progress.add(name)
        try:
            value = evaluate_safely(found[0].expr, self.scope)
        finally:
            self._locals_in_progress.discard(name)
        self._locals[name] = value
        return value

    @staticmethod
    def _resolve_nothing(root: str, steps: list[str], scope: Scope) -> tuple[Any, int]:
        raise EvalError(f"variables may not be used here ({root})")

    def _resolve(self, root: str, steps: list[str], scope: Scope) -> tuple[Any, int]:
        if root == "var" and steps:
            return self.variable(steps[0])[0], 1
        if root == "local" and steps:
            return self.local(steps[0]), 1
        if root == "path" and steps:
            where = {"module": self.dir.display or ".", "root": ".", "cwd": "."}
            return where.get(steps[0], Unknown(f"path.{steps[0]}")), 1
        if root == "terraform" and steps:
            return ("default" if steps[0] == "workspace" else Unknown(f"terraform.{steps[0]}")), 1
        if root == "module" and steps:
            return self.module_output_object(steps[0]), 1
        if root == "data" and len(steps) >= 2:
            return self.group_value("data", steps[0], steps[1]), 2
        if root in ("each", "count", "self"):
            raise EvalError(f"{root} is not available here")
        if steps and (("managed", root, steps[0]) in self._declared):
            return self.group_value("managed", root, steps[0]), 1
        if steps and "_" in root:
            raise EvalError(f"reference to undeclared resource {root}.{steps[0]}")
        raise EvalError(f"unknown name {root!r}")

    # -- resources ---------------------------------------------------------------------------
    def group(self, mode: str, type_: str, name: str) -> list[TfResource]:
        key = (mode, type_, name)
        if key in self._groups:
            return self._groups[key]
        if key in self._groups_in_progress:
            raise EvalError(f"cycle through {type_}.{name}")
        declared = self._declared.get(key)
        if declared is None:
            raise EvalError(f"reference to undeclared resource {type_}.{name}")
        self._groups_in_progress.add(key)
        try:
            block, tf = declared
            instances = [self._instance(mode, block, tf, k, bindings) for k, bindings in self._expand(block)]
        finally:
            self._groups_in_progress.discard(key)
        self._groups[key] = instances
        return instances

    def group_value(self, mode: str, type_: str, name: str) -> Any:
        instances = self.group(mode, type_, name)
        block = self._declared[(mode, type_, name)][0]
        objects = [ResourceObject(r.values, r.address, derived_attributes(r.type, r.values)) for r in instances]
        if "for_each" in block.body.attributes:
            if instances and isinstance(instances[0].key, Unknown):
                return instances[0].key
            return {r.key: o for r, o in zip(instances, objects)}
        if "count" in block.body.attributes:
            if instances and isinstance(instances[0].key, Unknown):
                return instances[0].key
            return objects
        return objects[0] if objects else Unknown(f"{type_}.{name} has no instance")

    def _expand(self, block: ast.Block) -> list[tuple[Any, dict[str, Any]]]:
        """(instance key, extra names) for each instance, as count/for_each decide."""
        attrs = block.body.attributes
        if "count" in attrs:
            count = evaluate_safely(attrs["count"].expr, self.scope)
            if isinstance(count, bool) or not isinstance(count, (int, float)):
                unknown = count if isinstance(count, Unknown) else Unknown("count is not a number")
                return [(unknown, {"count": {"index": unknown}})]
            return [(i, {"count": {"index": i}}) for i in range(int(count))]
        if "for_each" in attrs:
            collection = evaluate_safely(attrs["for_each"].expr, self.scope)
            if isinstance(collection, dict):
                return [(k, {"each": {"key": k, "value": v}}) for k, v in sorted(collection.items())]
            if isinstance(collection, list) and all(isinstance(v, str) for v in collection):
                return [(v, {"each": {"key": v, "value": v}}) for v in sorted(set(collection))]
            unknown = collection if isinstance(collection, Unknown) else Unknown("for_each is not a map or set of strings")
            return [(unknown, {"each": {"key": unknown, "value": unknown}})]
        return [(None, {})]

    def _instance(self, mode: str, block: ast.Block, tf: TfFile, key: Any, bindings: dict) -> TfResource:
        resource = TfResource(mode, block.labels[0], block.labels[1], key, self, tf.display, block)
        scope = self.scope.child(**bindings)
        try:
            evaluate_body(block.body, scope, (), resource, top_level=True)
        except Exception as exc:  # noqa: BLE001 - one resource must not blank the configuration; say so
            self.project.errors.append(InputError(
                tf.display, block.span[0], f"internal error evaluating {resource.address}: {type(exc).__name__}: {exc}"))
        if mode == "data":
            from servegate.model.terraform.iam import complete_data_source

            complete_data_source(resource)
        return resource

    def resources(self) -> Iterator[TfResource]:
        for mode, type_, name in self._declared:
            yield from self.group(mode, type_, name)
        yield from self.remote_module_calls()

    def remote_module_calls(self) -> Iterator[TfResource]:
        """Calls to modules that are not fetched, as pseudo-resources of type ``module:<source>`` whose
        values are the evaluated inputs: rules that know a registry module judge it by them."""
        for name, (block, tf) in self._module_blocks.items():
            source_attr = block.body.attributes.get("source")
            source = evaluate_safely(source_attr.expr, self.scope) if source_attr else None
            if not isinstance(source, str) or source.startswith(("./", "../")):
                continue
            for key, bindings in self._expand(block):
                call = TfResource("module", f"module:{source.split('?', 1)[0]}", name, key, self, tf.display, block)
                evaluate_body(block.body, self.scope.child(**bindings), (), call, top_level=True)
                call.values.pop("source", None)
                yield call

    # -- modules -----------------------------------------------------------------------------
    def children(self, name: str) -> list[ModuleInstance] | Unknown:
        if name not in self._children:
            self._children[name] = self._call_module(name)
        return self._children[name]

    def _call_module(self, name: str) -> list[ModuleInstance] | Unknown:
        found = self._module_blocks.get(name)
        if found is None:
            raise EvalError(f"reference to undeclared module {name!r}")
        block, tf = found
        source_attr = block.body.attributes.get("source")
        source = evaluate_safely(source_attr.expr, self.scope) if source_attr else None
        if not isinstance(source, str):
            return Unknown(f"module {name}: source is not a known string")
        if not source.startswith(("./", "../")):
            return Unknown(f"module {name} comes from {source!r}, a remote source that is not fetched")
        if self.depth >= MAX_MODULE_DEPTH:
            return Unknown(f"module {name}: nesting deeper than {MAX_MODULE_DEPTH}")
        child_dir = self.project.module_dir((self.dir.directory / source).resolve())
        if child_dir is None:
            return Unknown(f"module {name}: no .tf files found at {source!r}")
        instances = []
        for key, bindings in self._expand(block):
            scope = self.scope.child(**bindings)
            inputs = {arg: (evaluate_safely(attr.expr, scope),
                            Origin(tf.display, attr.span, f"module {name!r} sets {arg}"))
                      for arg, attr in block.body.attributes.items() if arg not in MODULE_ARGUMENTS}
            address = f"{self.address + '.' if self.address else ''}module.{name}{instance_suffix(key)}"
            instances.append(ModuleInstance(self.project, child_dir, address, inputs, self, (block, tf.display),
                                            self.depth + 1, key))
        return instances

    def module_output_object(self, name: str) -> Any:
        children = self.children(name)
        if isinstance(children, Unknown):
            return children
        block = self._module_blocks[name][0]
        outputs = [child.outputs() for child in children]
        if "for_each" in block.body.attributes:
            if children and isinstance(children[0].key, Unknown):
                return children[0].key
            return {child.key: output for child, output in zip(children, outputs)}
        if "count" in block.body.attributes:
            return outputs
        return outputs[0] if outputs else Unknown(f"module {name} has no instance")

    def outputs(self) -> dict[str, Any]:
        values = {}
        for name, (block, _) in self._output_blocks.items():
            attr = block.body.attributes.get("value")
            values[name] = evaluate_safely(attr.expr, self.scope) if attr else None
        return values

    def descendants(self) -> Iterator[ModuleInstance]:
        yield self
        for name in self._module_blocks:
            children = self.children(name)
            if not isinstance(children, Unknown):
                for child in children:
                    yield from child.descendants()

    def local_references(self, name: str) -> set[tuple[str, tuple[str, ...]]]:
        found = self._local_attrs.get(name)
        return references(found[0].expr) if found else set()

    def origin_chain(self, variable: str) -> list[Origin]:
        """How ``var.<variable>`` got its value, from this module up to the root's tfvars."""
        chain: list[Origin] = []
        module: ModuleInstance | None = self
        name = variable
        while module is not None:
            value, origin = module.variable(name)
            if origin is None:
                break
            chain.append(origin)
            if module.parent is None or name not in module.inputs:
                break
            call_block = module.call[0] if module.call else None
            attr = call_block.body.attributes.get(name) if call_block else None
            refs = [steps[0] for root, steps in references(attr.expr) if root == "var" and steps] if attr else []
            if not refs:
                break
            module, name = module.parent, refs[0]
        return chain


def evaluate_body(body: ast.Body, scope: Scope, prefix: tuple, resource: TfResource, top_level: bool = False,
                  target: dict | None = None) -> None:
    """Evaluate attributes and nested blocks into ``target`` (plan-JSON shape: blocks are lists)."""
    values = resource.values if target is None else target
    for name, attr in body.attributes.items():
        if top_level and name in META_ARGUMENTS:
            continue
        values[name] = evaluate_safely(attr.expr, scope)
        resource.spans[prefix + (name,)] = attr.span
        resource.expressions[prefix + (name,)] = attr.expr
        _record_item_spans(attr.expr, prefix + (name,), resource)
    for block in body.blocks:
        if top_level and block.type in META_BLOCKS:
            continue
        if block.type == "dynamic" and block.labels:
            _expand_dynamic(block, scope, prefix, resource, values)
            continue
        items = values.setdefault(block.type, [])
        if not isinstance(items, list):
            continue
        index = len(items)
        item: dict = {}
        resource.spans[prefix + (block.type, index)] = block.span
        evaluate_body(block.body, scope, prefix + (block.type, index), resource, target=item)
        items.append(item)


def _record_item_spans(expr: ast.Expr, path: tuple, resource: TfResource, depth: int = 0) -> None:
    """Spans of the items of literal lists and objects, so a finding on ``rules[1].cidr`` points there."""
    if depth > 8:
        return
    if isinstance(expr, ast.TupleExpr):
        for index, item in enumerate(expr.items):
            resource.spans[path + (index,)] = item.span
            _record_item_spans(item, path + (index,), resource, depth + 1)
    elif isinstance(expr, ast.ObjectExpr):
        for key, value in expr.items:
            if isinstance(key, ast.Literal) and isinstance(key.value, str):
                resource.spans[path + (key.value,)] = (key.span[0], key.span[1], value.span[2], value.span[3])
                resource.expressions[path + (key.value,)] = value
                _record_item_spans(value, path + (key.value,), resource, depth + 1)


def _expand_dynamic(block: ast.Block, scope: Scope, prefix: tuple, resource: TfResource, values: dict) -> None:
    label = block.labels[0]
    attrs = block.body.attributes
    iterator_attr = attrs.get("iterator")
    iterator = label
    if iterator_attr is not None and isinstance(iterator_attr.expr, ast.Variable):
        iterator = iterator_attr.expr.name
    content = next((b for b in block.body.blocks if b.type == "content"), None)
    if content is None or "for_each" not in attrs:
        return
    collection = evaluate_safely(attrs["for_each"].expr, scope)
    if isinstance(collection, Unknown):
        pairs: list[tuple[Any, Any]] = [(collection, collection)]
    elif isinstance(collection, dict):
        pairs = sorted(collection.items())
    elif isinstance(collection, list):
        pairs = list(enumerate(collection))
    else:
        pairs = []
    items = values.setdefault(label, [])
    for key, value in pairs:
        index = len(items)
        item: dict = {}
        resource.spans[prefix + (label, index)] = block.span
        evaluate_body(content.body, scope.child(**{iterator: {"key": key, "value": value}}),
                      prefix + (label, index), resource, target=item)
        items.append(item)


class Project:
    """Every Terraform folder of a scan, and the root modules among them."""

    def __init__(self, module_dirs: dict[Path, ModuleDir], root_values: dict[Path, dict[str, tuple[Any, Origin]]],
                 load_dir: Callable[[Path], ModuleDir | None] | None = None, root: Path | None = None):
        self.root = root  # files under it may be read by file() and templatefile()
        self.errors: list[InputError] = []
        self._dirs = module_dirs
        self._load_dir = load_dir  # reads a module folder the scan did not include (``../modules/x``)
        self._root_values = root_values
        called: set[Path] = set()
        for module_dir in module_dirs.values():
            for block, _ in module_dir.blocks("module"):
                source = block.body.attributes.get("source")
                if source is not None and isinstance(source.expr, ast.Literal) and isinstance(source.expr.value, str) \
                        and source.expr.value.startswith(("./", "../")):
                    called.add((module_dir.directory / source.expr.value).resolve())
        self.roots = [ModuleInstance(self, d) for path, d in sorted(module_dirs.items()) if path not in called]

    def module_dir(self, directory: Path) -> ModuleDir | None:
        if directory not in self._dirs and self._load_dir is not None:
            loaded = self._load_dir(directory)
            if loaded is not None:
                self._dirs[directory] = loaded
        return self._dirs.get(directory)

    def root_value(self, module_dir: ModuleDir, name: str) -> tuple[Any, Origin] | None:
        return self._root_values.get(module_dir.directory, {}).get(name)

    def resources(self) -> Iterator[TfResource]:
        for root in self.roots:
            for module in root.descendants():
                yield from module.resources()
