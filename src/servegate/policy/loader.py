"""Find and read policies: ``.rego`` modules and data documents, as Conftest and OPA lay them out.

* ``--policy PATH``: every ``.rego`` file under PATH (tests included: they hold no deny rules), and every
  ``.json``/``.yaml``/``.yml`` file under PATH as a data document.
* ``--data PATH``: data documents only, as Conftest's ``--data`` loads them: each file merged at the root of
  ``data`` (``registries.yaml`` holding ``servegate: {registries: ...}`` is ``data.servegate.registries``).

Each module is parsed by OPA itself (so syntax errors carry OPA's exact message, file and line), checked for
built-ins servegate refuses to run (``safety.py``), read for its ``# METADATA`` annotations, then every module is
compiled together. Policies in Rego v0 syntax are rewritten (``v0.py``) with a warning.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from servegate.policy import v0
from servegate.policy.engine import Engine, PolicyEngineError
from servegate.policy.safety import refused_builtins

DATA_SUFFIXES = (".json", ".yaml", ".yml")
FAILURE = re.compile(r"^(deny|violation)(_[a-zA-Z0-9]+)*$")  # Conftest's own patterns
WARNING = re.compile(r"^warn(_[a-zA-Z0-9]+)*$")
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__"})


class PolicyLoadError(Exception):
    """A policy that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Annotation:
    """One ``# METADATA`` block: the YAML it holds, and what it is attached to."""

    file: str
    line: int
    scope: str  # rule, document, package or subpackages
    target: str  # the rule name (rule and document scopes), "" for packages
    fields: dict[str, Any]


@dataclass(frozen=True)
class RuleHead:
    name: str  # "" for a rule whose head is a longer reference (deny.x, deny[msg])
    ref: tuple[str, ...]  # the head's reference, variables shown as "[var]"
    boolean: bool  # ``deny if {...}``: a value, not a set of messages
    function: bool  # ``deny_all(x) := ...``: never queried as a rule


@dataclass(frozen=True)
class Module:
    file: str
    source: str  # as compiled (after a v0 rewrite)
    package: str  # without ``data.``: "main", "servegate.network.public_endpoint"
    heads: tuple[RuleHead, ...]
    annotations: tuple[Annotation, ...]
    rewritten: bool = False  # from Rego v0, by ``v0.rewrite``


@dataclass
class Loaded:
    modules: list[Module] = field(default_factory=list)
    data: list[Any] = field(default_factory=list)
    warnings: list[tuple[str, int, str]] = field(default_factory=list)  # (file, line, message)

    @property
    def packages(self) -> list[str]:
        return sorted({m.package for m in self.modules})


def display(path: Path) -> str:
    """How a policy file is named in messages: relative to the working directory when it is below it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def policy_files(paths: list[Path], suffixes: tuple[str, ...]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise PolicyLoadError(f"{path}: no such file or directory")
        if path.is_file():
            found.append(path)
            continue
        for folder, dirnames, filenames in os.walk(path):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not d.startswith("."))
            found.extend(Path(folder) / name for name in sorted(filenames) if name.endswith(suffixes))
    return found


def load(engine: Engine, policy_paths: list[Path], data_paths: list[Path] = ()) -> Loaded:
    """Every module parsed, checked and compiled in ``engine``, with the data documents merged in."""
    loaded = Loaded()
    rego_files = [p for p in policy_files(list(policy_paths), (".rego",)) if p.suffix == ".rego"]
    if not rego_files:
        raise PolicyLoadError(f"no .rego files in {', '.join(str(p) for p in policy_paths)}")
    for path in rego_files:
        loaded.modules.append(_module(engine, path, loaded.warnings))
    data_files = [p for p in policy_files(list(policy_paths), DATA_SUFFIXES) if p.suffix in DATA_SUFFIXES]
    data_files += policy_files(list(data_paths), DATA_SUFFIXES)
    loaded.data = [_data_document(path) for path in dict.fromkeys(data_files)]
    try:
        engine.load([(m.file, m.source) for m in loaded.modules], loaded.data)
    except PolicyEngineError as exc:
        raise PolicyLoadError(_compile_message(str(exc), loaded.modules)) from None
    return loaded


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyLoadError(f"{display(path)}: cannot read: {exc}") from None


def _module(engine: Engine, path: Path, warnings: list[tuple[str, int, str]]) -> Module:
    name, source = display(path), _read(path)
    original = source
    try:
        ast = engine.parse(name, source)
    except PolicyEngineError as exc:
        message = _strip_builtin_prefix(str(exc))
        if not v0.looks_like_v0(message):
            raise PolicyLoadError(message) from None
        rewritten, lines = v0.rewrite(source)
        try:
            ast = engine.parse(name, rewritten)
        except PolicyEngineError as again:
            raise PolicyLoadError(f"{_strip_builtin_prefix(str(again))}\n{name} is written in Rego v0, which OPA 1.x "
                                  f"no longer reads; convert it with `opa fmt --v0-v1 -w {name}`") from None
        source = rewritten
        warnings.append((name, lines[0], f"Rego v0 syntax, which OPA 1.x rejects: servegate rewrote {len(lines)} "
                                         f"rule head(s) to v1 for this run (`deny[msg] {{` -> `deny contains msg if {{`, "
                                         f"`if` before other bodies); convert the file with "
                                         f"`opa fmt --v0-v1 -w {name}`"))
    for builtin in refused_builtins(ast):
        raise PolicyLoadError(f"{name}:{_line_of(source, builtin)}: {builtin} is not allowed in servegate policies "
                              f"(policies must not reach the network or the environment of the scan)")
    package = ".".join(str(term["value"]) for term in ast["package"]["path"][1:])
    heads = tuple(_head(rule["head"]) for rule in ast.get("rules", ()))
    for head in heads:
        if not head.name and head.ref and (FAILURE.match(head.ref[0]) or WARNING.match(head.ref[0])) and \
                len(head.ref) > 1 and head.boolean:
            line = _line_of(source, head.ref[0] + "[")
            raise PolicyLoadError(f"{name}:{line}: rule {head.ref[0]} uses `if` without `contains` "
                                  f"(`{head.ref[0]}[msg] if` builds an object, not a set of messages): "
                                  f"write `{head.ref[0]} contains msg if`")
        if head.boolean and (FAILURE.match(head.name) or WARNING.match(head.name)):
            warnings.append((name, _line_of(source, head.name), f"rule {head.name} is a boolean, not a set of "
                             f"messages: Conftest and servegate report nothing for it; write "
                             f"`{head.name} contains msg if`"))
    return Module(name, source, package, heads, tuple(_annotations(name, source)), rewritten=source is not original)


def _head(head: dict[str, Any]) -> RuleHead:
    terms = head.get("ref", ())
    ref = tuple(str(t["value"]) if i == 0 or t["type"] == "string" else "[var]" for i, t in enumerate(terms))
    value = head.get("value")
    boolean = isinstance(value, dict) and value.get("type") == "boolean" and value.get("value") is True
    return RuleHead(head.get("name", ""), ref, boolean and "args" not in head, "args" in head)


def _annotations(file: str, source: str) -> list[Annotation]:
    """The ``# METADATA`` blocks of a module and the statement that follows each (OPA's attachment rule)."""
    lines = source.split("\n")
    found: list[Annotation] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != "# METADATA":
            i += 1
            continue
        start = i + 1
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].lstrip().startswith("#"):
            body.append(lines[i].lstrip()[1:])
            i += 1
        try:
            fields = yaml.safe_load("\n".join(body)) or {}
        except yaml.YAMLError as exc:
            raise PolicyLoadError(f"{file}:{start}: invalid METADATA block: {exc}") from None
        if not isinstance(fields, dict):
            raise PolicyLoadError(f"{file}:{start}: a METADATA block must be a YAML mapping")
        following = lines[i].strip() if i < len(lines) else ""
        if following.startswith("package "):
            target, default_scope = "", "package"
        else:
            match = re.match(r"(?:default\s+)?([A-Za-z_][A-Za-z0-9_]*)", following)
            target, default_scope = (match.group(1) if match else ""), "rule"
        found.append(Annotation(file, start, str(fields.get("scope", default_scope)), target, fields))
    return found


def _data_document(path: Path) -> Any:
    text, name = _read(path), display(path)
    try:
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise PolicyLoadError(f"{name}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise PolicyLoadError(f"{name}:{mark.line + 1 if mark else 1}: invalid YAML: {exc}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise PolicyLoadError(f"{name}: a data document must be an object (it is merged at the root of `data`)")
    return json.loads(json.dumps(document, default=str))  # dates and such as OPA's YAML loader gives them: strings


def _line_of(source: str, needle: str) -> int:
    """The first line where ``needle`` appears outside a comment (1 when it does not)."""
    for number, line in enumerate(source.split("\n"), start=1):
        if needle in line.split("#", 1)[0]:
            return number
    return 1


def _strip_builtin_prefix(message: str) -> str:
    """OPA reports parse errors found through rego.parse_module with that call's prefix; keep OPA's own words."""
    marker = "rego.parse_module: "
    if marker in message:
        message = message.split(marker, 1)[1]
    return re.sub(r"^\d+ errors? occurred:\s*", "", message)


def _compile_message(message: str, modules: list[Module]) -> str:
    """OPA's compile errors without the engine's preamble, with advice when a rewritten v0 module is involved."""
    message = re.sub(r"^(prepare_error: )?(bundle activation failed: )?(\d+ errors? occurred:\s*)?", "", message)
    rewritten = [m.file for m in modules if m.rewritten and f"{m.file}:" in message]
    if rewritten:
        message += (f"\n{', '.join(rewritten)} {'is' if len(rewritten) == 1 else 'are'} written in Rego v0, which OPA "
                    f"1.x no longer reads; convert with `opa fmt --v0-v1 -w FILE`")
    return message
