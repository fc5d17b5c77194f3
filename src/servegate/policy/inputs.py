"""What a policy sees as ``input``: each scanned document in the shape Conftest would give it, plus where it came
from, so a result can be turned back into a file, a line and a resource.

* parsers, chosen by file name as Conftest does (``--parser`` forces one): ``.yaml``/``.yml`` -> ``yaml``,
  ``.tf``/``.tfvars`` -> ``hcl2`` (see ``hcl2json.py``), ``.json`` (``.tf.json`` and plans included) -> ``json``.
* a YAML stream gives one input per document; a document (or JSON file) whose root is an array gives one input per
  item, as in Conftest. Empty YAML documents are left out (Conftest evaluates them with an undefined input).
* ``--combine``: a single input, ``[{"path": FILE, "contents": DOCUMENT}, ...]`` sorted by path.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable

from servegate.discover import SourceFile
from servegate.findings import Location
from servegate.model.k8s import objects_in
from servegate.sources.located import LDict, format_path, span_of
from servegate.sources.yaml_loader import load_documents, load_json_documents

@dataclass(frozen=True)
class Document:
    """One configuration document under test."""

    file: str
    parser: str
    contents: Any  # plain JSON values, what OPA receives
    located: Any  # the same tree as LDict/LList with spans, for turning paths into lines

    @property
    def ref(self) -> str:
        """The resource a finding names when it does not point into one (a Kubernetes object's Kind/ns/name)."""
        if isinstance(self.located, LDict) and self.located.get("kind") != "List":
            for obj in objects_in(self.file, self.located):
                return obj.ref
        return ""

    def locate(self, path: tuple[str | int, ...], message: str = "") -> tuple[Location, str]:
        """The location of ``path`` (missing steps resolve to the block that should hold them), and the resource."""
        path = normalise(self.contents, path) if path else self.default_path(message)
        span, _ = span_of(self.located, path)
        location = Location(self.file, span[0], span[1], span[2], span[3], format_path(path))
        return location, terraform_address(path) if self.parser == "hcl2" else self.ref

    def default_path(self, message: str) -> tuple[str | int, ...]:
        """Where a result without a path points: a Kubernetes object's ``metadata`` (else ``kind``); the Terraform
        block whose address, or whose name alone, the message mentions (when exactly one does); else the start."""
        contents = self.contents
        if self.parser == "hcl2":
            blocks = list(terraform_blocks(contents))
            for mentions in (lambda b: _mentions(message, b[1]), lambda b: _mentions(message, b[0][-2])):
                named = [path for path, address in blocks if mentions((path, address))]
                if len(named) == 1:
                    return named[0]
            return ()
        if isinstance(contents, dict):
            for key in ("metadata", "kind"):
                if key in contents:
                    return (key,)
        return ()


def documents(sources: Iterable[tuple[SourceFile, str]], parser: str | None = None) -> list[Document]:
    """The documents of the scanned files, in file order (unparseable parts are reported by the loaders)."""
    out: list[Document] = []
    for source, text in sources:
        chosen = parser or parser_for(source.display)
        for contents, located in _parse(chosen, text):
            out.append(Document(source.display, chosen, contents, located))
    return out


def combined(docs: list[Document]) -> list[dict[str, Any]]:
    """Conftest's ``--combine`` input: every document, with its path, sorted by path (stable within a file)."""
    return [{"path": d.file, "contents": d.contents} for d in sorted(docs, key=lambda d: d.file)]


def parser_for(name: str) -> str:
    lower = name.lower()
    if lower.endswith((".tf", ".tfvars")):
        return "hcl2"
    if lower.endswith(".json"):
        return "json"
    return "yaml"


def _parse(parser: str, text: str) -> list[tuple[Any, Any]]:
    """(contents, located tree) of each document."""
    if parser == "hcl2":
        from servegate.policy.hcl2json import convert  # tree-sitter only when Terraform is tested
        from servegate.sources.hcl_loader import parse_hcl

        located = convert(parse_hcl(text).body, text)
        return [(plain(located), located)]
    if parser == "json":  # JSON's own numbers and strings; the YAML parser only gives the positions
        try:
            roots = [(json.loads(text), d.data) for d in load_json_documents(text)[0][:1]]
        except ValueError:
            return []
    else:
        roots = [(plain(d.data), d.data) for d in load_documents(text)[0]]
    out: list[tuple[Any, Any]] = []
    for contents, located in roots:
        if isinstance(contents, list) and isinstance(located, list) and len(contents) == len(located):
            out.extend(zip(contents, located))  # Conftest tests each item of a root array on its own
        elif contents is not None:
            out.append((contents, located))
    return out


def plain(node: Any) -> Any:
    """JSON values from a located tree: keys as strings (YAML ``true:`` -> ``"true"``), other scalars as text."""
    if isinstance(node, dict):
        return {_key(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if node is None or isinstance(node, (str, bool, int)):
        return node
    if isinstance(node, float):
        return node if node == node and node not in (float("inf"), float("-inf")) else str(node)
    return str(node)


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


def normalise(contents: Any, path: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """``path`` made exact against ``contents``: a name applied to a list of blocks (hcl2 bodies are lists)
    steps into the first block that has it, so ``resource.aws_s3_bucket.b.acl`` finds ``b[0].acl``."""
    out: list[str | int] = []
    node = contents
    for step in path:
        if isinstance(node, list) and not isinstance(step, int) and node and all(isinstance(i, dict) for i in node):
            index = next((i for i, item in enumerate(node) if step in item), 0)
            out.append(index)
            node = node[index]
        out.append(step)
        if isinstance(node, dict) and isinstance(step, str):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and -len(node) <= step < len(node):
            node = node[step]
        else:
            node = None
    return tuple(out)


_STEP = re.compile(r'\.?([^.\[\]"]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')


def parse_path(value: Any) -> tuple[str | int, ...] | None:
    """A path a policy returned: a list of keys and indexes, or text such as ``spec.containers[0].image``."""
    if isinstance(value, list) and all(isinstance(s, (str, int)) and not isinstance(s, bool) for s in value):
        return tuple(value)
    if isinstance(value, str) and value:
        steps: list[str | int] = []
        position = 0
        for match in _STEP.finditer(value):
            if match.start() != position:
                return None
            name, index, quoted = match.groups()
            steps.append(int(index) if index is not None else json.loads(f'"{quoted}"') if quoted is not None
                         else int(name) if name.isdigit() else name)
            position = match.end()
        return tuple(steps) if position == len(value) else None
    return None


def terraform_blocks(contents: Any) -> Iterable[tuple[tuple[str | int, ...], str]]:
    """(path, address) of each resource, data source and module block of an hcl2 document."""
    if not isinstance(contents, dict):
        return
    for block_type, depth in (("resource", 2), ("data", 2), ("module", 1)):
        labels = contents.get(block_type)
        for path in _label_paths(labels, depth):
            for index in range(len(_get(labels, path) or ())):
                yield (block_type, *path, index), terraform_address((block_type, *path))


def _label_paths(node: Any, depth: int) -> Iterable[tuple[str, ...]]:
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if depth == 1:
            if isinstance(value, list):
                yield (key,)
        else:
            yield from ((key, *rest) for rest in _label_paths(value, depth - 1))


def _get(node: Any, path: tuple[str, ...]) -> Any:
    for step in path:
        node = node.get(step) if isinstance(node, dict) else None
    return node


def terraform_address(path: tuple[str | int, ...]) -> str:
    """``aws_s3_bucket.b`` for a path into ``resource.aws_s3_bucket.b``; ``data.x.y``, ``module.m``; else ""."""
    names = [str(step) for step in path if not isinstance(step, int)]
    if len(names) >= 3 and names[0] == "resource":
        return f"{names[1]}.{names[2]}"
    if len(names) >= 3 and names[0] == "data":
        return f"data.{names[1]}.{names[2]}"
    if len(names) >= 2 and names[0] == "module":
        return f"module.{names[1]}"
    return ""


def _mentions(message: str, name: Any) -> bool:
    return bool(re.search(rf"(?<![\w.-]){re.escape(str(name))}(?![\w-])", message))

