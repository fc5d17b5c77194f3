"""Custom policies in Rego, evaluated by real OPA with Conftest's conventions, reported as servegate findings.

``load_policies(PolicyOptions(...))`` reads and compiles the policies (``loader``), builds a ``Rule`` for each
deny/violation/warn rule (``rules``) and keeps an OPA worker process ready (``engine``). ``PolicySet.evaluate``
runs them over the scanned files in the shape Conftest gives them (``inputs``) and maps the results to findings
(``results``), which then go through the same suppressions, baselines and reports as built-in findings.
``testing`` runs Rego unit tests, as ``opa test`` does.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from servegate.findings import Finding, InputError
from servegate.policy.engine import DEFAULT_TIMEOUT, Engine, InProcessEngine, PolicyEngineError, PolicyTimeout
from servegate.policy.loader import Loaded, PolicyLoadError, load
from servegate.policy.rules import PolicyRule, build_rules

if TYPE_CHECKING:
    from servegate.discover import SourceFile
    from servegate.policy.inputs import Document

__all__ = ["PolicyLoadError", "PolicyOptions", "PolicySet", "load_policies"]


@dataclass(frozen=True)
class PolicyOptions:
    policies: tuple[Path, ...]
    data: tuple[Path, ...] = ()
    namespaces: tuple[str, ...] = ("main",)
    all_namespaces: bool = False
    combine: bool = False
    parser: str | None = None  # yaml, json or hcl2 for every file; None: by file name
    timeout: float = DEFAULT_TIMEOUT  # seconds per input
    select: tuple[str, ...] = ()  # rule id prefixes, as --select and --ignore
    ignore: tuple[str, ...] = ()
    in_process: bool = False  # OPA in this process (see engine.InProcessEngine), not in a worker process


@dataclass
class PolicySet:
    options: PolicyOptions
    engine: Engine
    loaded: Loaded
    rules: tuple[PolicyRule, ...]  # the rules --select and --ignore leave
    warnings: list[InputError] = field(default_factory=list)
    known_ids: set[str] = field(default_factory=set)  # every policy rule id, selected or not

    def __enter__(self) -> PolicySet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.close()

    def evaluate(self, sources: list[tuple[SourceFile, str]]) -> tuple[list[Finding], list[InputError]]:
        """Every rule over every document of the files (or over all of them at once with ``combine``)."""
        from servegate.policy.inputs import documents

        if not self.rules:
            return [], []
        return self.evaluate_documents(documents(sources, self.options.parser))

    def evaluate_documents(self, docs: list[Document]) -> tuple[list[Finding], list[InputError]]:
        from servegate.policy.inputs import combined
        from servegate.policy.results import ResultError, finding, results

        if not self.rules:
            return [], []
        if self.options.combine:
            docs.sort(key=lambda d: d.file)
            batches = [(docs, combined(docs))] if docs else []
        else:
            batches = [([d], d.contents) for d in docs]
        query, exception_of = self._query
        findings: dict[tuple, Finding] = {}
        errors: list[InputError] = []
        for batch, value in batches:
            where = "<combined>" if self.options.combine else batch[0].file
            try:
                bindings, _ = self.engine.query(query, value, has_input=True)
                answer = bindings[0] if bindings else {}
                exempted = {namespace: {name for group in answer.get(f"e{index}", ()) for names in group
                                        if isinstance(names, list) for name in names}
                            for namespace, index in exception_of.items()}
                for i, rule in enumerate(self.rules):
                    is_exempt = rule.exception_name in exempted.get(rule.namespace, ())
                    for value_of_rule in answer.get(f"r{i}", ()):
                        for result in results(value_of_rule, rule):
                            found = finding(rule, result, batch, self.options.combine, is_exempt)
                            findings.setdefault((found.rule_id, found.location, found.resource, found.message), found)
            except PolicyTimeout as exc:
                errors.append(InputError(where, 0, f"{exc} (policies over this input)"))
            except (PolicyEngineError, ResultError) as exc:
                errors.append(InputError(where, 0, f"policy evaluation failed: {exc}"))
        return sorted(findings.values(), key=Finding.sort_key), errors

    @functools.cached_property
    def _query(self) -> tuple[str, dict[str, int]]:
        """One query for every rule (an undefined rule gives an empty list) and each namespace's exceptions."""
        parts = [f"r{i} := [v | v := {_ref(rule.namespace, rule.rule)}]" for i, rule in enumerate(self.rules)]
        exception_of: dict[str, int] = {}
        for module in self.loaded.modules:
            if module.package in {r.namespace for r in self.rules} and \
                    any(h.name == "exception" for h in module.heads) and module.package not in exception_of:
                exception_of[module.package] = len(exception_of)
                parts.append(f"e{exception_of[module.package]} := [v | v := {_ref(module.package, 'exception')}]")
        return "; ".join(parts), exception_of


def _ref(namespace: str, name: str) -> str:
    return "data" + "".join(f"[{json.dumps(part)}]" for part in (*namespace.split("."), name))


def load_policies(options: PolicyOptions) -> PolicySet:
    """Policies read, checked and compiled; raises ``PolicyLoadError`` (message names file and line) or
    ``BindingsMissing`` (OPA's bindings are not installed)."""
    engine = (InProcessEngine if options.in_process else Engine)(options.timeout)
    try:
        loaded = load(engine, list(options.policies), list(options.data))
        namespaces = loaded.packages if options.all_namespaces else list(dict.fromkeys(options.namespaces))
        every_rule = build_rules(loaded, namespaces)
    except BaseException:
        engine.close()
        raise
    warnings = [InputError(file, line, message) for file, line, message in loaded.warnings]
    if not options.all_namespaces:
        empty = [n for n in namespaces if not any(r.namespace == n for r in every_rule)]
        warnings += [InputError(str(options.policies[0]), 0, f"no deny, violation or warn rule in namespace "
                                                            f"`{n}` (packages loaded: {', '.join(loaded.packages)}; "
                                                            f"use --namespace or --all-namespaces)") for n in empty]
    rules = tuple(r for r in every_rule if _selected(r.id, options.select, options.ignore))
    return PolicySet(options, engine, loaded, rules, warnings, {r.id for r in every_rule})


def _selected(rule_id: str, select: tuple[str, ...], ignore: tuple[str, ...]) -> bool:
    select, ignore = tuple(s.upper() for s in select), tuple(s.upper() for s in ignore)
    return (not select or rule_id.startswith(select)) and not (ignore and rule_id.startswith(ignore))
