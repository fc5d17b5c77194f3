"""Several webhook processes sharing one listening socket.

The rules are CPU-bound Python, and the GIL keeps one process on one core: a replica with two CPUs answers
twice the requests only with two processes. The parent binds the socket, forks the workers (before any thread or
OPA worker exists, so nothing unsafe is copied), passes SIGTERM on to them and waits for each to drain. Each
worker is a complete single-process webhook (``server.Webhook``) with its own rules, policies and certificate
watcher: the workers share nothing but the socket, as replicas share nothing at all.
"""

from __future__ import annotations

import math
import mmap
import os
import signal
import socket
import time
from pathlib import Path
from typing import Callable

from servegate.admit.logs import JsonLog

STEADY_SECONDS = 10.0  # a worker that dies sooner was not going to work: stop, rather than respawn in a loop


def available_cpus() -> int:
    """The CPUs this process may use: its affinity, bounded by its cgroup's CPU quota (a container's limit)."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            count = min(count, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, count)


class ConnectionShares:
    """How many connections each worker process holds, in memory they all share (mapped before the fork).

    The kernel hands a new connection to whichever worker accepts first, and the API server keeps its few
    connections open for long: left alone, one worker may serve five of eight and run out of CPU while the other
    idles. A worker holding more than another lets it take the next connection.
    """

    def __init__(self, workers: int) -> None:
        self._memory = mmap.mmap(-1, 8 * workers)  # anonymous and shared: one copy for every forked worker
        self._counts = memoryview(self._memory).cast("q")
        self.index = 0  # this process's slot, set in each worker

    def report(self, open_connections: int) -> None:
        self._counts[self.index] = open_connections

    def others_hold_fewer(self) -> bool:
        mine = self._counts[self.index]
        return any(count < mine for index, count in enumerate(self._counts) if index != self.index)


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family, backlog=128)
    listener.setblocking(False)  # workers race for each connection; a loser must not block in accept()
    return listener


def run_workers(count: int, serve: Callable[[int], None], log: JsonLog) -> int:
    """Fork ``count`` workers running ``serve(index)`` until it returns (on SIGTERM); replace one that dies.

    Returns the exit code for the command: 0 once every worker drained after SIGTERM, else the first failure.
    """
    children: dict[int, tuple[int, float]] = {}  # pid -> (worker index, start time)
    stopping = False
    failure = 0

    def spawn(index: int) -> None:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                serve(index)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException as exc:  # noqa: BLE001 - reported, and the worker ends
                log("error", "worker_failed", worker=index, error=f"{type(exc).__name__}: {exc}")
            finally:
                os._exit(code)  # never run the parent's code after the fork
        children[pid] = (index, time.monotonic())

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for index in range(count):
        spawn(index)
    log("info", "workers_started", workers=count, pids=sorted(children))
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        if pid not in children:
            continue
        index, started = children.pop(pid)
        code = os.waitstatus_to_exitcode(status)
        if stopping:
            failure = failure or (code if code > 0 else 0)
            continue
        log("error", "worker_exited", worker=index, pid=pid, code=code)
        if time.monotonic() - started < STEADY_SECONDS:
            failure = code if code > 0 else 1
            stop()
        else:
            spawn(index)
    log("info" if not failure else "error", "workers_stopped", code=failure)
    return failure
