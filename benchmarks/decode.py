"""Unified-IO decoding speed: early stop vs the reference's full-length decode, same run.

    python benchmarks/decode.py [--size small] [--batch 4] [--reps 2]

Random weights (``load_model("random", size)``), CPU, float32. With random weights a model
never chooses EOS on its own, so answers are made short with the decode loop's
``eos_logit_bias`` hook: +1e4 on the EOS logit of row b at step k_b only (all other logits
untouched), i.e. row b answers k_b tokens and then EOS:

* VQA-style: k_b cycles through 1, 2, 3 answer tokens; 32-token budget;
* refexp: 4 location tokens then EOS (5 tokens); 32-token budget;
* one image generation: 1 text step + 256 image steps (no early stop is possible there).

The baseline is the same program with early stop off, i.e. all 32 text steps like the
reference. For each case it prints tokens/s (tokens produced up to and including EOS),
decode-loop seconds (after a separately timed encoder prefill, reused) and end-to-end
seconds (prefill + loop), and the speed-up ratios. The encoder (576 image patches +
text) is shared by both variants and dominates end-to-end time on CPU for short answers,
so the decode-loop ratio is the one early stop changes. Last line: programs compiled after
warm-up (must be 0).
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from model_adapters.unified_io import decoding, load_model


def _inputs(batch: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    text = rng.integers(3, 32000, size=(batch, 24)).astype(np.int32)
    text[:, 20] = 1
    text[:, 21:] = 0
    image = rng.normal(size=(batch, 384, 384, 3)).astype(np.float32)
    return text, image, np.ones((batch, 576), np.int32)


def _timed(fn, reps: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(reps):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="small")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--budget", type=int, default=32)
    args = parser.parse_args()

    model = load_model("random", args.size)
    inputs = _inputs(args.batch)
    cases = {
        "vqa (1-3 tokens + EOS)": [1 + b % 3 for b in range(args.batch)],
        "refexp (4 + EOS)": [4] * args.batch,
    }
    warm_calls = []
    for steps in cases.values():
        bias = np.zeros((args.batch, args.budget), np.float32)
        bias[np.arange(args.batch), steps] = 1e4
        for early in (True, False):
            warm_calls.append((bias, early))
    # Warm-up: compile every program once (prefill, text decode, image decode).
    for bias, early in warm_calls[:2]:
        model.decode(*inputs, args.budget, 0, early_stop=early, eos_logit_bias=bias)
    one = tuple(x[:1] for x in inputs)
    model.generate_image(*one)
    compiled = decoding.trace_count()

    prefill, pre = _timed(lambda: model.prefill(*inputs), args.reps)
    print(f"{args.size}, batch {args.batch}, budget {args.budget}; encoder prefill "
          f"{prefill:.3f} s")
    print(f"{'case':26s} {'variant':10s} {'tokens':>6s} {'e2e s':>8s} {'loop s':>8s} "
          f"{'tok/s e2e':>10s} {'tok/s loop':>10s}")
    for name, steps in cases.items():
        bias = np.zeros((args.batch, args.budget), np.float32)
        bias[np.arange(args.batch), steps] = 1e4
        tokens = int(sum(steps) + len(steps))
        row = {}
        for variant, early in (("early", True), ("full", False)):
            loop, out = _timed(lambda: model.decode(*inputs, args.budget, 0, early_stop=early,
                                                    eos_logit_bias=bias, prefilled=pre),
                               args.reps)
            t = prefill + loop
            row[variant] = (t, loop)
            print(f"{name:26s} {variant:10s} {tokens:6d} {t:8.3f} {loop:8.3f} "
                  f"{tokens / t:10.1f} {tokens / loop:10.1f}   steps run {int(out['steps'])}")
        (te, le), (tf, lf) = row["early"], row["full"]
        print(f"{name:26s} speed-up early/full: end-to-end {tf / te:.2f}x, decode loop "
              f"{lf / le:.2f}x")

    t, _ = _timed(lambda: model.generate_image(*one), 1)
    print(f"image generation, batch 1: 257 steps in {t:.2f} s = {257 / t:.1f} tokens/s "
          f"(end-to-end, no early stop possible)")
    print(f"programs compiled after warm-up: {decoding.trace_count() - compiled}")


if __name__ == "__main__":
    main()
