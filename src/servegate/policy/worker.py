"""OPA itself: ``OpaSession`` answers requests, and ``python -m servegate.policy.worker`` is the process that
serves them, one JSON request per line on standard input, one JSON answer per line on standard output.

OPA runs in-process through ``opa_bindings``, a Go c-shared library: it cannot be interrupted from Python and it
does not survive ``fork``. Keeping it in a child process started fresh (never forked from a live Go runtime) lets
the scanner stop an evaluation that runs too long by killing this process, and keeps a crash of the Go runtime
from taking the scan down with it. (The admission webhook, which forks nothing and bounds each request itself,
holds a session in its own process: see ``engine.InProcessEngine``.)

Requests (``op`` and its arguments) and answers:

* ``parse`` ``name``, ``source``: ``{"ast": <module as rego.parse_module gives it>}``
* ``load`` ``modules`` ([name, source] pairs), ``data`` (documents merged at the root): ``{"ok": true}`` once
  every module compiled
* ``query`` ``query``, ``input``: ``{"bindings": [...], "prints": [...]}``

Any failure answers ``{"error": "<OPA's message>"}``; OPA's messages name the policy file and line.
"""

from __future__ import annotations

import json
import sys
from typing import Any


class OpaSession:
    """One parser engine and one policy engine; ``answer`` takes a request and gives its answer."""

    def __init__(self) -> None:
        from opa_bindings import OpaEngine

        self._new_engine = OpaEngine
        self.parser = OpaEngine()  # never holds user policies: parsing one file cannot fail because of another
        self.prints: list[str] = []
        self.engine = self._engine()

    def _engine(self) -> Any:
        engine = self._new_engine()
        engine.print_handler = lambda message, location: self.prints.append(f"{location}: {message}")
        return engine

    def close(self) -> None:
        self.parser.close()
        self.engine.close()

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        from opa_bindings import OpaError

        try:
            return self._answer(request)
        except OpaError as exc:
            return {"error": exc.message, "code": exc.code}
        except Exception as exc:  # noqa: BLE001 - the caller reports it; the session must keep answering
            return {"error": f"{type(exc).__name__}: {exc}"}

    def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "parse":
            found = self.parser.eval_query("module := rego.parse_module(input.name, input.source)",
                                           {"name": request["name"], "source": request["source"]})
            return {"ast": found[0]["module"]}
        if op == "load":
            self.engine.close()
            self.engine = self._engine()
            for name, source in request["modules"]:
                self.engine.add_policy(name, source)
            for document in request["data"]:
                self.engine.add_data(document)
            self.engine.eval_query("true")  # compiles every module now, so errors surface at load time
            return {"ok": True}
        if op == "query":
            self.prints.clear()
            bindings = self.engine.eval_query(request["query"], request.get("input"))
            return {"bindings": bindings, "prints": list(self.prints)}
        return {"error": f"unknown request {op!r}"}


def main() -> int:
    session = OpaSession()
    for line in sys.stdin:
        try:
            reply = session.answer(json.loads(line))
        except ValueError as exc:
            reply = {"error": f"the request is not JSON: {exc}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
