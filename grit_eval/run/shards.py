"""Work splitting across jobs: shard k of n of a split.

A shard is chosen per task over the *undistorted* example ids in file order (index mod n), and
a ``_dist`` copy always goes with its original, so shards are disjoint, cover every sample
exactly once, are balanced, and do not depend on the number of devices or the batch size.
"""
from __future__ import annotations

import os
import sys

from grit_eval.errors import ConfigError
from grit_eval.types import Sample


def resolve_shard(shard: int | None, num_shards: int | None) -> tuple[int, int]:
    """(k, n) from the settings, else from a SLURM array, else from ``jax.distributed``.

    SLURM: k = SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN, n = SLURM_ARRAY_TASK_COUNT.
    jax: ``jax.process_index()/process_count()`` when jax is already imported and initialised
    for several processes. Otherwise (0, 1): the whole split.
    """
    if num_shards is None and shard is None:
        env = os.environ
        if "SLURM_ARRAY_TASK_ID" in env and "SLURM_ARRAY_TASK_COUNT" in env:
            k = int(env["SLURM_ARRAY_TASK_ID"]) - int(env.get("SLURM_ARRAY_TASK_MIN", "0"))
            return _checked(k, int(env["SLURM_ARRAY_TASK_COUNT"]))
        jax = sys.modules.get("jax")
        if jax is not None and jax.process_count() > 1:
            return _checked(jax.process_index(), jax.process_count())
        return 0, 1
    if shard is None or num_shards is None:
        raise ConfigError("give both run.shard and run.num_shards (or neither)")
    return _checked(shard, num_shards)


def _checked(k: int, n: int) -> tuple[int, int]:
    if n < 1 or not 0 <= k < n:
        raise ConfigError(f"shard {k} of {n} is out of range: need 0 <= run.shard < run.num_shards")
    return k, n


def shard_samples(samples: list[Sample], k: int, n: int) -> list[Sample]:
    """The samples of shard ``k`` of ``n`` (see the module docstring)."""
    if n == 1:
        return samples
    position: dict[tuple[str, str], int] = {}
    counters: dict[str, int] = {}
    for s in samples:
        base = (s.task, s.example_id.removesuffix("_dist"))
        if base not in position:
            position[base] = counters.get(s.task, 0)
            counters[s.task] = position[base] + 1
    return [s for s in samples if position[(s.task, s.example_id.removesuffix("_dist"))] % n == k]
