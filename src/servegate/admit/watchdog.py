"""Time limits for judgements that run in the request's own thread.

Each request is judged where it was read: handing it to another thread costs more CPU than most judgements
(measured: 0.4 ms a request). Python cannot stop a thread, so when a judgement overruns its limit the
watchdog answers for it (the failurePolicy then decides) and the judgement finishes unseen; while
``MAX_OVERDUE`` of them still run, the process reports itself unhealthy and the kubelet restarts it.

Whoever settles a ``Watch`` first owns the answer: the request thread with its verdict, or the watchdog with
its error. The other one sends nothing.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from typing import Callable

MAX_OVERDUE = 4  # judgements still running past their time limit before the process reports itself unhealthy


class Watch:
    __slots__ = ("deadline", "on_overrun", "_state", "_lock")

    def __init__(self, deadline: float, on_overrun: Callable[[], None]) -> None:
        self.deadline, self.on_overrun = deadline, on_overrun
        self._state = "running"  # then "done" (the request thread answers) or "overrun" (the watchdog did)
        self._lock = threading.Lock()

    def _settle(self, state: str) -> bool:
        with self._lock:
            if self._state != "running":
                return False
            self._state = state
            return True


class Watchdog:
    def __init__(self) -> None:
        self.overdue = 0  # judgements past their limit and still running
        self._heap: list[tuple[float, int, Watch]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._stopped = False
        threading.Thread(target=self._run, name="watchdog", daemon=True).start()

    @property
    def healthy(self) -> bool:
        return self.overdue < MAX_OVERDUE

    def watch(self, deadline: float, on_overrun: Callable[[], None]) -> Watch:
        """Calls ``on_overrun`` (in the watchdog's thread) unless ``done`` comes before ``deadline``."""
        watch = Watch(deadline, on_overrun)
        with self._wake:
            while self._heap and self._heap[0][2]._state != "running":  # answered: no need to wake for them
                heapq.heappop(self._heap)
            heapq.heappush(self._heap, (deadline, next(self._order), watch))
            if self._heap[0][2] is watch:
                self._wake.notify()
        return watch

    def done(self, watch: Watch) -> bool:
        """The judgement ended: True if the request thread answers; False if the watchdog already did."""
        if watch._settle("done"):
            return True
        with self._wake:
            self.overdue -= 1
        return False

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    self._wake.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                if self._stopped:
                    return
                _, _, watch = heapq.heappop(self._heap)
                overran = watch._settle("overrun")
                self.overdue += overran
            if overran:
                try:
                    watch.on_overrun()
                except Exception:  # noqa: BLE001 - the watchdog must outlive any one answer
                    pass  # the overrun still counts, and the request thread will not answer either
