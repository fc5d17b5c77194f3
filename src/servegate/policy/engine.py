"""The scanner's side of the OPA worker (``worker.py``): start it, send requests, bound every answer in time.

OPA comes from the optional extra ``opa-golib-python-bindings`` (import name ``opa_bindings``). It is looked up
only when policies are used, and its absence is an error that says how to install it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from typing import Any

INSTALL_HINT = ("custom Rego policies need OPA's Python bindings, which are not installed: run "
                "`pip install --ignore-requires-python --no-deps 'opa-golib-python-bindings>=0.4.4'` "
                "(or install servegate's `policy` extra)")
DEFAULT_TIMEOUT = 10.0  # seconds for one request: one input against every policy, or one Rego unit test
STARTUP_TIMEOUT = 30.0


class PolicyEngineError(Exception):
    """OPA refused a request (a compile or evaluation error, whose message names the policy file and line)."""


class PolicyTimeout(PolicyEngineError):
    """A request took longer than its limit; the worker was stopped."""


class BindingsMissing(PolicyEngineError):
    pass


def require_bindings() -> None:
    if importlib.util.find_spec("opa_bindings") is None:
        raise BindingsMissing(INSTALL_HINT)


class Engine:
    """One OPA worker process. Not thread-safe; use it as a context manager, or call ``close``."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        require_bindings()
        self.timeout = timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr = tempfile.TemporaryFile()
        self._pending = b""
        self._loaded: dict[str, Any] | None = None  # the last ``load`` request, replayed after a restart

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop()
        self._stderr.close()

    def parse(self, name: str, source: str) -> dict[str, Any]:
        return self._request({"op": "parse", "name": name, "source": source}, STARTUP_TIMEOUT)["ast"]

    def load(self, modules: list[tuple[str, str]], data: list[Any]) -> None:
        request = {"op": "load", "modules": [list(m) for m in modules], "data": data}
        self._request(request, STARTUP_TIMEOUT + self.timeout)
        self._loaded = request

    def query(self, query: str, input: Any = None, has_input: bool = False) -> tuple[list[dict], list[str]]:
        """The bindings of ``query`` (empty when undefined) and what ``print`` wrote during it."""
        request: dict[str, Any] = {"op": "query", "query": query}
        if has_input:
            request["input"] = input
        reply = self._request(request, self.timeout)
        return reply["bindings"], reply["prints"]

    # -- the process -------------------------------------------------------------------------------------------

    def _start(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            # A new interpreter, never a fork: the Go runtime inside the bindings does not survive fork.
            self._process = subprocess.Popen([sys.executable, "-m", "servegate.policy.worker"],
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr)
            self._pending = b""
            if self._loaded is not None:
                loaded, self._loaded = self._loaded, None
                self.load(loaded["modules"], loaded["data"])
        return self._process

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()

    def _request(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        process = self._start()
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(json.dumps(request).encode() + b"\n")
            process.stdin.flush()
        except BrokenPipeError:
            raise PolicyEngineError(self._crashed()) from None
        reply = self._read_line(process, timeout)
        answer = json.loads(reply)
        if "error" in answer:
            raise PolicyEngineError(answer["error"])
        return answer

    def _read_line(self, process: subprocess.Popen[bytes], timeout: float) -> bytes:
        assert process.stdout is not None
        fd = process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._stop()  # the only way to interrupt OPA; the next request starts a new worker
                raise PolicyTimeout(f"policy evaluation took longer than {timeout:g} s and was stopped")
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise PolicyEngineError(self._crashed())
                self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line

    def _crashed(self) -> str:
        process = self._process
        code = process.wait() if process is not None else None
        self._stop()
        self._stderr.seek(0)
        tail = self._stderr.read()[-2000:].decode("utf-8", "replace").strip()
        self._stderr.seek(0)
        self._stderr.truncate()
        return f"the OPA worker stopped (exit code {code})" + (f": {tail}" if tail else "")


class InProcessEngine(Engine):
    """OPA in this process: no process to start and no JSON between them, but nothing can stop an evaluation, and
    the process must never fork afterwards. For the admission webhook's worker processes, which bound each request
    themselves (a request that overruns is answered with an error, and too many overrunning make the process
    report itself unhealthy)."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        require_bindings()
        # Read when the Go runtime starts, that is when the bindings load. Evaluations take turns on the engine,
        # so one Go thread at a time does the work; with more, idle ones spin looking for work after each call.
        # OPA's heap is a few MB: collecting it at 5x rather than 2x its live size halves the collector's work.
        # (Measured in the webhook under load: 9.4 -> 8.0 ms of CPU per request, both together.)
        os.environ.setdefault("GOMAXPROCS", "1")
        os.environ.setdefault("GOGC", "400")
        from servegate.policy.worker import OpaSession

        self.timeout = timeout
        self._session = OpaSession()

    def close(self) -> None:
        self._session.close()

    def _request(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        answer = self._session.answer(request)
        if "error" in answer:
            raise PolicyEngineError(answer["error"])
        return answer
