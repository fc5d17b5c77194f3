"""Structured logs for the webhook: one JSON object per line, which cluster log pipelines parse without rules.

Every record has ``time`` (UTC, ISO 8601), ``level`` and ``event``; request records carry the AdmissionReview
``uid``, so one admission can be followed from the API server's audit log to the verdict.

Worker processes share standard error: a line of at most ``PIPE_BUF`` bytes reaches a pipe in one piece, so a
longer record loses its bulkiest fields (named in ``cut``) rather than interleave with another worker's line.
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import datetime, timezone
from typing import Any, TextIO

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}
MAX_LINE_BYTES = 4096  # PIPE_BUF on Linux
EXPENDABLE = ("message", "notes", "warned", "suppressed", "denied")  # the first to go from an over-long record


class JsonLog:
    def __init__(self, stream: TextIO | None = None, level: str = "info", **static: Any) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.threshold = LEVELS[level]
        self.static = static  # fields on every record, such as the worker process
        self._lock = threading.Lock()  # whole lines, even from many request threads

    def __call__(self, level: str, event: str, **fields: Any) -> None:
        if LEVELS[level] < self.threshold:
            return
        record = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                  "level": level, "event": event, **self.static, **fields}
        line = _line(record)
        cut = []
        for key in EXPENDABLE:
            if len(line.encode()) <= MAX_LINE_BYTES:
                break
            if key in record:
                del record[key]
                cut.append(key)
                line = _line({**record, "cut": cut})
        with self._lock:
            self.stream.write(line)
            self.stream.flush()


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, default=str, ensure_ascii=False) + "\n"
