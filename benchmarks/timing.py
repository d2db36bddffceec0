"""Median wall time of a jax call, shared by the Unified-IO benchmark scripts."""
from __future__ import annotations

import statistics
import time

import jax


def median_time(fn, reps: int, warm: bool = False) -> tuple[float, object]:
    """(median seconds over ``reps`` calls of ``fn`` until its result is ready, last result);
    ``warm`` runs one untimed call first (compilation)."""
    if warm:
        jax.block_until_ready(fn())
    times, out = [], None
    for _ in range(reps):
        start = time.perf_counter()
        out = jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return statistics.median(times), out
