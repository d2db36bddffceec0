"""Where a Unified-IO image-generation step spends its time (CPU profile, issue 15).

    python benchmarks/image_decode.py [--size small] [--reps 3]

Random weights, float32, batch 1. Times the whole sampled image decode (1 text step + 256
image steps, after a shared encoder prefill) and, as separately jitted pieces of one step, the
parts the issue names: the decoder layers' cross-attention over the 600-odd encoder keys, the
16,384-code output projection, top-p filtering + Gumbel sampling over the 49,536-wide logits
of an image step (text columns at -1e10), the sort inside top-p (the image segment's 16,384
logits as int32 keys), and the per-step logit summaries. Each piece is printed as
ms and as a share of the measured per-step time; pieces run alone carry their own dispatch
overhead, so the shares are an upper bound. This is a profile, not a speed claim.
"""
from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np

from model_adapters.unified_io import decoding, layers, load_model
from timing import median_time


def _timed(fn, reps: int) -> float:
    return median_time(fn, reps, warm=True)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="small")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    model = load_model("random", args.size)
    c = model.config
    rng = np.random.default_rng(0)
    text = rng.integers(3, 32000, size=(1, 24)).astype(np.int32)
    text[:, 20], text[:, 21:] = 1, 0
    inputs = (text, rng.normal(size=(1, 384, 384, 3)).astype(np.float32),
              np.ones((1, 576), np.int32))
    pre = model.prefill(*inputs)
    steps = 1 + c.decoder_max_image_length
    whole = _timed(lambda: model.decode(*inputs, 1, steps - 1, greedy=False, prefilled=pre,
                                        record_stats=False), max(1, args.reps // 2))
    step_ms = whole / steps * 1e3
    _, _, [(_, _, mask, kvs)] = pre
    params = model.params
    h = jnp.asarray(rng.normal(size=(1, c.emb_dim)), jnp.float32)
    logits = np.full((1, c.total_vocab), layers.MASK_VALUE, np.float32)  # an image step's
    logits[:, c.vocab_size:] = rng.normal(size=(1, c.image_vocab_size))
    logits = jnp.asarray(logits)
    bias = layers.mask_bias(jnp.ones((1, 1), jnp.int32), mask)

    @jax.jit  # weights and K/V as arguments: captured as constants they would be copied
    def cross(h, params, kvs):
        out = h[:, None]
        for n, (k, v) in enumerate(kvs):
            lp = params["decoder"][f"layers_{n}"]["encoder_decoder_attention"]
            (q,) = layers.project_qkv(out, lp, ("query",), c.num_heads)
            out = out + layers.dense(layers.attend_transposed(q, k, v, bias), lp["out"]["kernel"])
        return out

    kvs_t = kvs  # prefill holds them as the decode loop reads them: [B, H, Dh, S]
    table = params["token_embedder"]["embedding"][c.vocab_size:]
    projection = jax.jit(lambda h, table: layers.einsum("bd,vd->bv", h, table))
    segment = (c.vocab_size, c.total_vocab)
    sample = jax.jit(lambda x: decoding.sample_rows(
        jax.random.PRNGKey(0), decoding.top_p_filter(x, segment=segment), jnp.int32(0), 1,
        segment))
    sort = jax.jit(lambda x: decoding.sort_segment_ascending(x, segment))
    stats = jax.jit(lambda x: decoding._stats(x, jnp.zeros((1,), jnp.int32),
                                              jnp.zeros((1,), jnp.int32)))
    pieces = {
        f"cross-attention, {c.num_decoder_layers} layers": _timed(
            lambda: cross(h, params, kvs_t), args.reps),
        f"output projection ({c.image_vocab_size} codes)": _timed(lambda: projection(h, table), args.reps),
        "top-p + sampling (49,536 wide)": _timed(lambda: sample(logits), args.reps),
        "  of which the segment's key sort": _timed(lambda: sort(logits), args.reps),
        "per-step logit summaries (decode() only)": _timed(lambda: stats(logits), args.reps),
    }
    print(f"{args.size}, batch 1: sampled image, {steps} steps in {whole:.2f} s = "
          f"{step_ms:.2f} ms/step")
    for name, t in pieces.items():
        print(f"  {name:40s} {t * 1e3:8.3f} ms  {100 * t * 1e3 / step_ms:5.1f}% of a step")


if __name__ == "__main__":
    main()
