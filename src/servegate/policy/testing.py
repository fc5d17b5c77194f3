"""Rego unit tests, run as ``opa test`` runs them: every rule named ``test_*`` in every loaded package passes when
it is defined and true, fails when it is undefined or false, and errors when evaluating it fails (a built-in
error, a conflict, or the time limit). ``todo_test_*`` rules are skipped.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from servegate.policy.engine import DEFAULT_TIMEOUT, Engine, PolicyEngineError
from servegate.policy.loader import Loaded, load

PASS, FAIL, ERROR, SKIP = "PASS", "FAIL", "ERROR", "SKIPPED"


@dataclass(frozen=True)
class TestResult:
    file: str
    package: str
    name: str
    outcome: str
    seconds: float
    detail: str = ""
    prints: tuple[str, ...] = ()

    @property
    def query(self) -> str:
        return f"data.{self.package}.{self.name}"


def run_tests(paths: list[Path], data: list[Path] = (), pattern: str = "", timeout: float = DEFAULT_TIMEOUT,
              report: Callable[[TestResult], None] | None = None) -> tuple[Loaded, list[TestResult]]:
    """Load the policies under ``paths`` and run their tests whose ``data.<package>.<name>`` matches ``pattern``."""
    wanted = re.compile(pattern) if pattern else None
    results: list[TestResult] = []
    with Engine(timeout) as engine:
        loaded = load(engine, list(paths), list(data))
        for module in loaded.modules:
            names = dict.fromkeys(h.name for h in module.heads if h.name.startswith(("test_", "todo_test_")))
            for name in names:
                if wanted and not wanted.search(f"data.{module.package}.{name}"):
                    continue
                result = _run(engine, module.file, module.package, name)
                results.append(result)
                if report is not None:
                    report(result)
    return loaded, results


def _run(engine: Engine, file: str, package: str, name: str) -> TestResult:
    if name.startswith("todo_"):
        return TestResult(file, package, name, SKIP, 0.0)
    started = time.perf_counter()
    ref = "data" + "".join(f'["{part}"]' for part in (*package.split("."), name))
    try:
        bindings, prints = engine.query(f"{ref} == true")
    except PolicyEngineError as exc:
        return TestResult(file, package, name, ERROR, time.perf_counter() - started, str(exc))
    outcome = PASS if bindings else FAIL
    return TestResult(file, package, name, outcome, time.perf_counter() - started, prints=tuple(prints))
