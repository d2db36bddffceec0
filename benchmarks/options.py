"""Unified-IO answer-option scoring: cost vs option count, against fixed 32-row chunks.

    python benchmarks/options.py [--size base] [--reps 3]

Random weights, CPU, float32, batch 1 (one image, as a categorization sample). Options are
3-token answers + EOS. ``score_options`` buckets the option count (1, 2, 4, ..., 64) and the
used length, and lays one example's options side by side so they share its encoder output.
The baseline, measured in the same run, is the previous scheme re-created here: every call
scores a fixed chunk of 32 option rows (the example's cross-attention K/V gathered per row)
with full-vocabulary logits, so 2, 10 and 32 options cost the same. Times are the scoring
after a shared encoder prefill (``scoring s``) and end-to-end with the prefill (``e2e s``).
Prints the ratios the issue asks for and the programs compiled after warm-up (must be 0).
"""
from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np

from model_adapters.unified_io import decoder, decoding, layers, load_model
from timing import median_time as _timed

CHUNK = 32  # the baseline's fixed option rows per call


def _inputs(k: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    text = rng.integers(3, 32000, size=(1, 24)).astype(np.int32)
    text[:, 20], text[:, 21:] = 1, 0
    image = rng.normal(size=(1, 384, 384, 3)).astype(np.float32)
    options = np.zeros((1, k, 8), np.int32)
    options[:, :, :3] = rng.integers(3, 32000, size=(1, k, 3))
    options[:, :, 3] = decoding.EOS
    return (text, image, np.ones((1, 576), np.int32)), options


def _chunk_program(config):
    """The fixed-chunk baseline: [32 rows] options with per-row gathered cross K/V."""

    def run(params, encoder_mask, kvs, rows, options):
        n, length = options.shape
        t = length + 1
        inputs = jnp.concatenate([jnp.zeros((n, 1), options.dtype), options], 1)
        mask = jnp.concatenate([jnp.ones((n, 1), jnp.int32), (options > 0).astype(jnp.int32)], 1)
        targets = jnp.concatenate([options, jnp.zeros((n, 1), options.dtype)], 1)
        first_zero = jnp.cumsum((targets == 0) & (mask > 0), axis=1) == 1
        targets = jnp.where(first_zero & (targets == 0) & (mask > 0), decoding.EOS, targets)
        x = decoder.embed(params, config, inputs, jnp.arange(t)[None], jnp.zeros((1, t), jnp.int32))
        allowed = (mask[:, :, None] > 0) & (mask[:, None, :] > 0) & jnp.tril(jnp.ones((t, t), bool))
        table = decoder.self_bias_table(params, config, t, 0)
        self_bias = jnp.where(allowed, 0.0, layers.MASK_VALUE)[:, None] + table[None]
        cross_bias = layers.mask_bias(mask, encoder_mask[rows])
        for i, (k, v) in enumerate(kvs):
            x = decoder.layer(params["decoder"][f"layers_{i}"], config, x,
                              lambda q, kk, vv: layers.attend(q, kk, vv, self_bias),
                              (k[rows], v[rows]), cross_bias, layers.attend_transposed)
        h = layers.rms_norm(x, params["decoder"]["decoder_norm"]["scale"])
        logits = decoder.output_logits(params, config, h, False)
        lse = jax.nn.logsumexp(logits, axis=-1)
        target_logit = jnp.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
        return jnp.sum(jnp.where(mask > 0, lse - target_logit, 0.0), axis=1)

    return jax.jit(run)


def _baseline(model, program, pre, options):
    _, _, [(_, _, mask, kvs)] = pre
    k = options.shape[1]
    flat = np.zeros((-(-k // CHUNK) * CHUNK, options.shape[2]), np.int32)
    flat[:k] = options[0]
    rows = np.zeros((CHUNK,), np.int32)
    return np.concatenate([np.asarray(program(model.params, mask, kvs, rows, flat[i:i + CHUNK]))
                           for i in range(0, len(flat), CHUNK)])[:k][None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="base")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    model = load_model("random", args.size)
    program = _chunk_program(model.config)
    cases = {k: _inputs(k) for k in (2, 10, 32)}
    inputs = cases[2][0]
    pre = model.prefill(*inputs)
    for _, options in cases.values():  # warm-up: compile every program once
        model.score_options(*inputs, options)
        _baseline(model, program, pre, options)
    compiled = decoding.trace_count()
    prefill, pre = _timed(lambda: model.prefill(*inputs), args.reps)
    print(f"{args.size}, batch 1, 3-token options; encoder prefill {prefill:.3f} s")
    print(f"{'options':>7s} {'variant':9s} {'scoring s':>9s} {'e2e s':>7s}  max |diff|")
    ours, chunk = {}, {}
    for k, (_, options) in cases.items():
        ours[k], new = _timed(lambda: model.score_options(*inputs, options, prefilled=pre),
                              args.reps)
        t_new, _ = _timed(lambda: model.score_options(*inputs, options), args.reps)
        chunk[k], old = _timed(lambda: _baseline(model, program, pre, options), args.reps)
        diff = float(np.max(np.abs(new - old)))
        print(f"{k:7d} {'bucketed':9s} {ours[k]:9.3f} {t_new:7.3f}  {diff:.2e}")
        print(f"{k:7d} {'32-chunk':9s} {chunk[k]:9.3f} {chunk[k] + prefill:7.3f}")
    print(f"scoring 32 vs 2 options (bucketed): {ours[32] / ours[2]:.2f}x "
          f"(end-to-end {(ours[32] + prefill) / (ours[2] + prefill):.2f}x)")
    print(f"10 options, 32-chunk baseline / bucketed: scoring {chunk[10] / ours[10]:.2f}x, "
          f"end-to-end {(chunk[10] + prefill) / (ours[10] + prefill):.2f}x")
    print(f"programs compiled after warm-up: {decoding.trace_count() - compiled}")


if __name__ == "__main__":
    main()
