"""Unified-IO image generation: ours against the reference's decode loop, same run (issue 15).

    python benchmarks/image_generation.py [--sizes small,base] [--rounds 3]

Random weights, CPU, float32, batch 1, top-p 0.9 sampling with PRNGKey(0): 1 text step +
256 image steps, then the VQ-GAN decode of the 16x16 codes.

Baseline: ``reference_decode.reference_sample_program``, the reference's jitted loop
(allenai/unified-io-inference, ``ModelRunner(compiled=True)``) re-created step for step:
KV cache for self-attention in t5x's one-hot-updated layout, and per step the cross-attention
keys/values of the encoder output, the position-bias table, the 49,536-wide output
projection, a full XLA sort for top-p and full-width sampling, no early stop. Ours:
``UnifiedIOModel.decode`` as ``generate_image`` runs it (cross keys/values once per call,
keys/values in the layout the CPU dots read, q|k|v and wi_0|wi_1 as one dot each, the
image-column projection, a host sort, the argmax over the step's own columns, no per-step
summaries).

Both sides share the encoder (text padded to the same 32-token bucket) and the VQ-GAN
decoder. Each round times the baseline then ours (paired rounds, after one warm-up call
each); printed: per round and as medians, the ratio for the decode loop alone and end to
end (encoder + loop + VQ-GAN, the same code on both sides), whether the codes and log-probs are identical, and the load
average (``uptime``) before and after.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import jax
import numpy as np

from model_adapters.unified_io import encoder, load_model
from model_adapters.unified_io.reference_decode import reference_sample_program


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _inputs():
    rng = np.random.default_rng(0)
    text = rng.integers(3, 32000, size=(1, 32)).astype(np.int32)
    text[:, 20], text[:, 21:] = 1, 0
    return text, rng.normal(size=(1, 384, 384, 3)).astype(np.float32), np.ones((1, 576), np.int32)


def _clock(fn):
    start = time.perf_counter()
    out = jax.block_until_ready(fn())
    return time.perf_counter() - start, out


def bench(size: str, rounds: int) -> None:
    model = load_model("random", size)
    c = model.config
    inputs = _inputs()
    steps = c.decoder_max_image_length
    encode = jax.jit(lambda p, *a: encoder.encode(p, c, *a)[:2])
    reference = reference_sample_program(c, 1, steps)

    def baseline():
        enc, t_enc = _clock(lambda: encode(model.params, *inputs))[::-1]
        t_loop, (ids, lp) = _clock(lambda: reference(model.params, *enc, jax.random.PRNGKey(0)))
        codes = np.asarray(ids)[:, 1:] - c.vocab_size
        t_vq, _ = _clock(lambda: model.decode_image_codes(codes))
        return t_enc + t_loop + t_vq, t_loop, codes, np.asarray(lp)[:, 1:]

    def ours():
        t_pre, pre = _clock(lambda: model.prefill(*inputs))
        t_loop, out = _clock(lambda: model.decode(*inputs, 1, steps, greedy=False,
                                                  prefilled=pre, record_stats=False))
        codes = out["tokens"][:, 1:] - c.vocab_size
        t_vq, _ = _clock(lambda: model.decode_image_codes(codes))
        return t_pre + t_loop + t_vq, t_loop, codes, out["logprobs"][:, 1:]

    print(f"{size}: load before {_load()}; warm-up (compiles)", flush=True)
    ref_out, our_out = baseline(), ours()
    same = (np.array_equal(ref_out[2], our_out[2]), np.array_equal(ref_out[3], our_out[3]))
    # The public API gives the same codes as the timed call.
    api_same = np.array_equal(model.generate_image(*inputs, greedy=False, seed=0), our_out[2])
    times = {"reference": [], "ours": []}
    for r in range(rounds):
        for name, fn in (("reference", baseline), ("ours", ours)):
            total, loop, codes, _ = fn()
            times[name].append((total, loop))
            same = (same[0] and np.array_equal(codes, ref_out[2]), same[1])
        (rt, rl), (ot, ol) = times["reference"][-1], times["ours"][-1]
        print(f"  round {r + 1}: loop {rl:.2f} s vs {ol:.2f} s (x{rl / ol:.2f}), end to end "
              f"{rt:.2f} s vs {ot:.2f} s (x{rt / ot:.2f}); load {_load()}", flush=True)
    med = {k: [statistics.median(t[i] for t in v) for i in (0, 1)] for k, v in times.items()}
    (rt, rl), (ot, ol) = med["reference"], med["ours"]
    paired = [statistics.median(r[i] / o[i] for r, o in zip(times["reference"], times["ours"]))
              for i in (1, 0)]
    print(f"{size}, batch 1, 1 + {steps} steps, median of {rounds} paired rounds:")
    print(f"  decode loop   reference {rl:7.2f} s ({rl / (steps + 1) * 1e3:.1f} ms/step)  ours "
          f"{ol:7.2f} s ({ol / (steps + 1) * 1e3:.1f} ms/step)  ratio x{rl / ol:.2f} "
          f"(median of round ratios x{paired[0]:.2f})")
    print(f"  end to end    reference {rt:7.2f} s  ours {ot:7.2f} s  ratio x{rt / ot:.2f} "
          f"(median of round ratios x{paired[1]:.2f}; encoder + loop + VQ-GAN)")
    print(f"  codes identical: {same[0] and api_same}; log-probs identical: {same[1]}; "
          f"load after {_load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="small,base")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for size in args.sizes.split(","):
        bench(size, args.rounds)


if __name__ == "__main__":
    main()
