"""Unified-IO 2 decoding speed: early stop vs full-length decoding, and batching, same run.

    python benchmarks/uio2_decode.py [--kit ../shared/golden/unified_io_2/parity_public] [--reps 3]

The kit's tiny model on CPU, float32. A random model never picks EOS on its own, so the answer
length is fixed with the keypoint-forcing schedule (the real processor): row b is forced to k
location tokens and then EOS (k = 4, a refexp-sized box). Early stop ends the loop there; the
baseline is the same program with early stop off, running the whole 32-token budget (what
HF-style decoding without an EOS check costs). Batching: 8 prompts in one call vs 8 calls of 1.
Prints decode-loop seconds (encoder prefill timed apart and reused) and the ratios.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from model_adapters.unified_io_2 import decoding as D
from model_adapters.unified_io_2.checkpoint import load_checkpoint
from model_adapters.unified_io_2.parity_cases import image_batch, text_batch
from model_adapters.unified_io_2.runtime import UIO2Runtime


def _time(fn, reps: int) -> float:
    fn()  # compile / warm up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kit", type=Path, default=Path(__file__).resolve().parents[2] / "shared/golden/unified_io_2/parity_public")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--budget", type=int, default=32)
    args = ap.parse_args()
    rt = UIO2Runtime.from_checkpoint(load_checkpoint(args.kit / "model"))
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (240, 320, 3), dtype=np.uint8) for _ in range(8)]
    tokens = np.array([[33218, 320, 454, 265, 262, 501, 975, 1]] * 8, np.int32)
    enc8 = rt.encode(text_batch(tokens), image_batch(images))
    enc1 = [tuple(x[i:i + 1] for x in enc8) for i in range(8)]
    k = 4
    procs = D.Processors(keypoint_schedule=(D.FORCE_LOCATION,) * k + (1,))

    def gen(enc, early):
        out = rt.generate(*enc, "text", args.budget, procs, early_stop=early)
        return out["steps"]

    assert int(gen(enc8, True)) == k + 1 and int(gen(enc8, False)) == args.budget
    early = _time(lambda: gen(enc8, True), args.reps)
    full = _time(lambda: gen(enc8, False), args.reps)
    one_by_one = _time(lambda: [gen(e, True) for e in enc1], args.reps)
    prefill = _time(lambda: rt.encode(text_batch(tokens), image_batch(images))[0].block_until_ready(), args.reps)
    print(f"batch 8, {k}+EOS answer tokens, {args.budget}-token budget (decode loop, median of {args.reps})")
    print(f"  early stop       {early * 1e3:8.1f} ms")
    print(f"  full length      {full * 1e3:8.1f} ms   early stop x{full / early:.2f}")
    print(f"  8 calls of 1     {one_by_one * 1e3:8.1f} ms   batching x{one_by_one / early:.2f}")
    print(f"  encoder prefill  {prefill * 1e3:8.1f} ms (shared; end to end early stop x{(full + prefill) / (early + prefill):.2f})")


if __name__ == "__main__":
    main()
