"""Taking part of a split: the first N samples, or a seeded random N (deterministic).

A random subset keeps the file order of the samples it picks, so the same seed gives the same
samples in the same order on every machine and Python version (``random.Random(seed)`` is
specified to be reproducible across platforms).
"""
from __future__ import annotations

import random
from typing import Sequence, TypeVar

from grit_eval.errors import ConfigError

T = TypeVar("T")


def limit(samples: Sequence[T], n: int | None) -> list[T]:
    """The first ``n`` samples (all of them when ``n`` is None or >= len)."""
    if n is None:
        return list(samples)
    _check_n(n)
    return list(samples[:n])


def subset(samples: Sequence[T], n: int | None, seed: int = 0) -> list[T]:
    """``n`` samples drawn without replacement with ``random.Random(seed)``, in file order."""
    if n is None:
        return list(samples)
    _check_n(n)
    if n >= len(samples):
        return list(samples)
    picked = sorted(random.Random(seed).sample(range(len(samples)), n))
    return [samples[i] for i in picked]


def take(samples: Sequence[T], n: int | None, mode: str = "first", seed: int = 0) -> list[T]:
    """``data.limit`` / ``data.limit_mode``: the first ``n`` (``first``) or a seeded ``n`` (``random``)."""
    if mode == "first":
        return limit(samples, n)
    if mode == "random":
        return subset(samples, n, seed)
    raise ConfigError(f"data.limit_mode must be 'first' or 'random', not {mode!r}")


def _check_n(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ConfigError(f"the number of samples must be a non-negative integer, got {n!r}")
