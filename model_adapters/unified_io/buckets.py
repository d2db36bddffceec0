"""Padding to size buckets, so a run compiles a handful of programs, not one per shape."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def bucket(n: int, buckets: Sequence[int], what: str) -> int:
    """Smallest bucket >= n; ValueError naming ``what`` when n exceeds the largest."""
    for b in buckets:
        if n <= b:
            return b
    raise ValueError(f"{what} {n} exceeds the largest supported size {buckets[-1]}")


def pad_to(x: np.ndarray, size: int, axis: int) -> np.ndarray:
    """``x`` zero-padded at the end of ``axis`` to ``size``."""
    pad = [(0, 0)] * x.ndim
    pad[axis] = (0, size - x.shape[axis])
    return np.pad(x, pad)
