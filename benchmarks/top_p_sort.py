"""The top-p sort of both Unified-IO generations: int32 keys against ``jnp.sort``, same run.

    python benchmarks/top_p_sort.py [--reps 5]

CPU, one row of random logits. Unified-IO v1: ``decoding.top_p_filter`` at an image step
(16,384 image logits, the 33,152 text columns at -1e10) with the segment's key sort, against
the same filter with ``jnp.sort`` over the full row (the reference's sort). Unified-IO 2:
``decoding._pick`` (top-p 0.95 + sampling) over 16,512 image and 33,280 text columns with
the key sort, against the same pick with ``jnp.sort``. Each prints medians over ``--reps``
rounds of 10 jitted calls, interleaved, the ratio, and whether the outputs are identical.
"""
from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from model_adapters.unified_io import decoding as v1
from model_adapters.unified_io.layers import MASK_VALUE
from model_adapters.unified_io_2 import decoding as v2


def _plain_sort(x):
    return jnp.sort(x, axis=-1)


def _race(name: str, fast, slow, args, reps: int) -> None:
    """Interleaved medians of 10 calls each; both are jitted and warmed up first."""
    outs = [np.asarray(jax.block_until_ready(f(*args))) for f in (fast, slow)]
    times = ([], [])
    for _ in range(reps):
        for f, bucket in zip((fast, slow), times):
            start = time.perf_counter()
            for _ in range(10):
                jax.block_until_ready(f(*args))
            bucket.append((time.perf_counter() - start) / 10 * 1e3)
    a, b = (statistics.median(t) for t in times)
    print(f"{name:44s} keys {a:6.2f} ms  jnp.sort {b:6.2f} ms  x{b / a:.1f}  "
          f"identical: {np.array_equal(outs[0], outs[1])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    row = np.full((1, 49536), MASK_VALUE, np.float32)
    row[:, 33152:] = rng.normal(size=(1, 16384))
    segment = (33152, 49536)
    fast = jax.jit(lambda x: v1.top_p_filter(x, segment=segment))

    def full_sort_filter(x):  # the reference's: jnp.sort over all 49,536 columns
        sorted_desc = jnp.sort(x, axis=-1)[:, ::-1]
        cum = jnp.cumsum(jax.nn.softmax(sorted_desc, axis=-1), axis=-1)
        cutoff = jnp.take_along_axis(sorted_desc, jnp.sum(cum < v1.TOP_P, -1, keepdims=True), -1)
        return jnp.where(x < cutoff, v1.TOPP_FILTER_VALUE, x)

    _race("v1 top-p filter, image step (49,536 wide)", fast, jax.jit(full_sort_filter),
          (jnp.asarray(row),), args.reps)
    sampling = v2.Sampling(top_p=0.95, temperature=1.0)
    keys = jax.random.split(jax.random.PRNGKey(0), 1)
    for width in (16512, 33280):
        scores = jnp.asarray(rng.normal(size=(1, width)).astype(np.float32))
        picks = []
        for sort in (v2.sort_ascending, _plain_sort):
            v2.sort_ascending = sort  # read when the pick is traced (the warm-up call)
            pick = jax.jit(lambda s, k: v2._pick(s, k, 3, sampling))
            jax.block_until_ready(pick(scores, keys))
            picks.append(pick)
        v2.sort_ascending = v1.sort_ascending
        _race(f"v2 top-p pick, {width:,} columns", *picks, (scores, keys), args.reps)


if __name__ == "__main__":
    main()
