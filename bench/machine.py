"""How fast the machine runs right now, for the benchmarks to print beside their figures."""

from __future__ import annotations

import time


def calibration_ms() -> float:
    """CPU time of a fixed piece of Python: on a shared virtual machine the same code runs up to twice as slow
    from one hour to the next, and this says which kind of hour a run had (about 115 ms on this project's
    2-core machine at its normal speed, up to 215 ms when it is slowed)."""
    started = time.process_time()
    sum(i * i for i in range(2_000_000))
    return round((time.process_time() - started) * 1000, 1)
