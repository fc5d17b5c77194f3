"""The process that runs OPA: ``python -m servegate.policy.worker``, one JSON request per line on standard input,
one JSON answer per line on standard output.

OPA runs in-process through ``opa_bindings``, a Go c-shared library: it cannot be interrupted from Python and it
does not survive ``fork``. Keeping it in a child process started fresh (never forked from a live Go runtime) lets
the scanner stop an evaluation that runs too long by killing this process, and keeps a crash of the Go runtime
from taking the scan down with it.

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


def main() -> int:
    from opa_bindings import OpaEngine, OpaError

    parser = OpaEngine()  # never holds user policies: parsing one file cannot fail because of another
    engine = OpaEngine()
    prints: list[str] = []
    engine.print_handler = lambda message, location: prints.append(f"{location}: {message}")

    def answer(request: dict[str, Any]) -> dict[str, Any]:
        nonlocal engine
        op = request.get("op")
        if op == "parse":
            found = parser.eval_query("module := rego.parse_module(input.name, input.source)",
                                      {"name": request["name"], "source": request["source"]})
            return {"ast": found[0]["module"]}
        if op == "load":
            engine.close()
            engine = OpaEngine()
            engine.print_handler = lambda message, location: prints.append(f"{location}: {message}")
            for name, source in request["modules"]:
                engine.add_policy(name, source)
            for document in request["data"]:
                engine.add_data(document)
            engine.eval_query("true")  # compiles every module now, so errors surface at load time
            return {"ok": True}
        if op == "query":
            prints.clear()
            bindings = engine.eval_query(request["query"], request.get("input"))
            return {"bindings": bindings, "prints": list(prints)}
        return {"error": f"unknown request {op!r}"}

    for line in sys.stdin:
        try:
            reply = answer(json.loads(line))
        except OpaError as exc:
            reply = {"error": exc.message, "code": exc.code}
        except Exception as exc:  # noqa: BLE001 - the parent reports it; this process must keep answering
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
