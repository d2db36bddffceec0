"""Unified-IO image generation: ours against the reference's decode loop, same run (issue 15).

    python benchmarks/image_generation.py [--sizes small,base] [--rounds 3]

Random weights, CPU, float32, batch 1, top-p 0.9 sampling with PRNGKey(0): 1 text step +
256 image steps, then the VQ-GAN decode of the 16x16 codes.

Baseline: ``reference_decode.reference_sample_program``, the reference's jitted loop
(allenai/unified-io-inference, ``ModelRunner(compiled=True)``) re-created step for step:
KV cache for self-attention in t5x's one-hot-updated layout, and per step the cross-attention
keys/values of the encoder output, the position-bias table, the 49,536-wide output
projection, a full XLA sort for top-p and full-width sampling, no early stop. Ours:
``UnifiedIOModel.decode`` as ``generate_image`` runs it (cross keys/values from the encoder
program in the layout the CPU dots read, q|k|v and wi_0|wi_1 as one dot each, the
image-column projection from rows sliced once per model, top-p sorting only the 16,384 image
logits as int32 keys, the argmax over the step's own columns, no per-step summaries).

Both sides share the encoder (text padded to the same 32-token bucket) and the VQ-GAN
decoder. Each round times the baseline then ours (paired rounds, after one warm-up call
each); printed: per round and as medians, the ratio for the decode loop alone and end to
end (encoder + loop + VQ-GAN, the same code on both sides), whether the codes and log-probs
are identical, and the load average (``uptime``) before and after. Last, the streaming
floor: the same weight and key/value dots alone, chained, without anything else
(``_streaming_floor``): the time any exact float32 step needs to read its operands here,
against half the reference's step (what a ratio of 2 needs).
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from model_adapters.unified_io import encoder, layers, load_model
from model_adapters.unified_io.reference_decode import reference_sample_program
from timing import median_time

HIGHEST = lax.Precision.HIGHEST


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


def _streaming_floor(model, kvs, steps: int) -> tuple[float, float]:
    """(ms per step, MB per step) of the image step's reads alone: the same weight dots
    (fused q|k|v, out, cross query, cross out, wi_0|wi_1, wo per layer, the 16,384-row image
    projection) and the same attention dots over the cross keys/values and a full self cache,
    chained so nothing is skipped, with no norm, softmax, bias, cache update or sampling.
    What any exact float32 step must read; the ratio goal is judged against it."""
    c, params = model.config, model._step_params()
    layers_ = [params["decoder"][f"layers_{n}"] for n in range(c.num_decoder_layers)]
    table = params["segment_tables"]["image"]
    length = 1 + steps
    cache = jnp.zeros((c.num_heads, c.head_dim, length), table.dtype)
    hd = c.num_heads * c.head_dim

    def attend(q, k, v):  # [1, H*Dh] against [H, Dh, S]
        w = jnp.einsum("hd,hds->hs", q.reshape(c.num_heads, c.head_dim), k, precision=HIGHEST)
        return jnp.einsum("hs,hds->hd", w, v, precision=HIGHEST).reshape(1, hd)

    def step(_, x):
        for lp, (k, v) in zip(layers_, kvs):
            qkv = layers.dense(x, lp["self_attention"]["qkv"])
            x = x + layers.dense(attend(qkv[:, :hd], cache, cache),
                                 lp["self_attention"]["out"]["kernel"])
            q = layers.dense(x, lp["encoder_decoder_attention"]["query"]["kernel"])
            x = x + layers.dense(attend(q, k[0], v[0]),
                                 lp["encoder_decoder_attention"]["out"]["kernel"])
            x = x + layers.dense(layers.dense(x, lp["mlp"]["wi"])[:, :c.mlp_dim],
                                 lp["mlp"]["wo"]["kernel"])
            x = x * 1e-3  # keeps the chain finite
        return x + layers.einsum("bd,vd->bv", x, table)[:, :c.emb_dim] * 1e-6

    run = jax.jit(lambda x: lax.fori_loop(0, steps, step, x))
    x = jnp.ones((1, c.emb_dim), jnp.float32)
    seconds, _ = median_time(lambda: run(x), 3, warm=True)
    weights = sum(a.size * a.dtype.itemsize for lp in layers_ for a in (
        lp["self_attention"]["qkv"], lp["self_attention"]["out"]["kernel"],
        lp["encoder_decoder_attention"]["query"]["kernel"],
        lp["encoder_decoder_attention"]["out"]["kernel"], lp["mlp"]["wi"],
        lp["mlp"]["wo"]["kernel"])) + table.size * table.dtype.itemsize
    keys_values = (2 * len(kvs) * (kvs[0][0][0].size + cache.size)) * 4
    return seconds / steps * 1e3, (weights + keys_values) / 1e6


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
    kvs = model.prefill(*inputs)[2][0][3]
    floor_ms, mb = _streaming_floor(model, kvs, steps)
    ref_ms, our_ms = rl / (steps + 1) * 1e3, ol / (steps + 1) * 1e3
    print(f"  streaming floor: the step's {mb:.0f} MB of weight and key/value reads alone take "
          f"{floor_ms:.1f} ms/step ({mb / floor_ms:.1f} GB/s); x2 needs <= {ref_ms / 2:.1f} "
          f"ms/step, ours {our_ms:.1f} = floor + {our_ms - floor_ms:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="small,base")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for size in args.sizes.split(","):
        bench(size, args.rounds)


if __name__ == "__main__":
    main()
