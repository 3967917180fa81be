"""How a function's cost grows with its input, for the linear-time checks of the parser.

These checks guard against quadratic blow-ups on run-on text (a 4x longer text taking 16x
the time), not against slowness: they compare the same function on a small and a large
input in the same process, so a busy machine slows both alike. To keep them from failing on
noise, each size is measured as the best of a few runs of CPU time with the garbage
collector off (a collection of the objects earlier tests left behind otherwise lands inside
one measurement: seen in the whole suite, never alone).
"""
from __future__ import annotations

import gc
import time
from collections.abc import Callable


def cpu_seconds(run: Callable[[], object], *, repeats: int = 3) -> float:
    """The least CPU time of ``repeats`` calls of ``run``, without garbage collection."""
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        best = None
        for _ in range(repeats):
            started = time.process_time()
            run()
            took = time.process_time() - started
            best = took if best is None else min(best, took)
        return best
    finally:
        if enabled:
            gc.enable()


def growth(run: Callable[[str], object], small: str, large: str) -> float:
    """How many times longer ``run(large)`` takes than ``run(small)`` (small floored at
    10 ms, below which the clock's resolution is the measurement)."""
    return cpu_seconds(lambda: run(large)) / max(cpu_seconds(lambda: run(small)), 0.01)
