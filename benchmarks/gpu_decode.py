"""Unified-IO decode throughput on one accelerator, with the memory-bandwidth floor.

    python benchmarks/gpu_decode.py --size xl --batches 32,128 --dtype bfloat16

Random weights are drawn on the device (no host copy of the tree; on a CPU smoke test with
numpy), VQA-style batches: 64-token
prompts, a 32-token budget, answers of 1-3 tokens + EOS (forced with the decode loop's
``eos_logit_bias`` hook, as in ``benchmarks/decode.py``). For each batch size it prints
samples/s end-to-end (encoder prefill + early-stopped decode), the prefill time, and the
per-step time of a full-length decode (32 steps, no early stop) against the floor
``bytes read per step / measured device copy bandwidth``, scoring 10 answer options
(after the prefill), one sampled image (1 + 256 steps, after the prefill) and the device's
peak memory so far (nan where the backend does not report it), where the bytes read per step are
the decoder layers plus the text rows of the tied embedding (the logits matmul), in the
weights' dtype. Run via ``benchmarks/gpu_decode.sh``.
"""
from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

from model_adapters.unified_io.checkpoint import random_params, scale_random_leaf, unflatten
from model_adapters.unified_io.config import UnifiedIOConfig
from model_adapters.unified_io.model import UnifiedIOModel
from model_adapters.unified_io.param_tree import parameter_shapes
from timing import median_time

BUDGET = 32


def device_random_params(config: UnifiedIOConfig, seed: int, dtype) -> dict:
    """Random params drawn leaf by leaf on the default device (same scales as
    ``checkpoint.random_params``)."""
    key = jax.random.PRNGKey(seed)
    flat = {}
    for i, (path, shape) in enumerate(parameter_shapes(config).items()):
        x = jax.random.normal(jax.random.fold_in(key, i), shape, jnp.float32)
        x = scale_random_leaf(path, shape, x)
        flat[path] = x.astype(dtype)
    return unflatten(flat)


def copy_bandwidth(nbytes: int = 2 * 2**30) -> float:
    """Device memory bandwidth in bytes/s from a jitted elementwise op (reads + writes)."""
    x = jnp.ones((nbytes // 4,), jnp.float32)
    f = jax.jit(lambda a: a + 1.0)
    f(x).block_until_ready()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        f(x).block_until_ready()
        times.append(time.perf_counter() - start)
    return 2 * nbytes / min(times)


def step_bytes(params: dict, config: UnifiedIOConfig) -> int:
    """Weight bytes one decode step reads: decoder layers + text rows of the embedding."""
    layers = sum(x.nbytes for i in range(config.num_decoder_layers)
                 for x in jax.tree.leaves(params["decoder"][f"layers_{i}"]))
    emb = params["token_embedder"]["embedding"]
    return int(layers + emb.nbytes * config.vocab_size // config.total_vocab)


def _median_time(fn, reps: int) -> float:
    return median_time(fn, reps)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="xl")
    parser.add_argument("--batches", default="32,128")
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()

    config = UnifiedIOConfig.preset(args.size)
    dtype = jnp.bfloat16 if args.dtype == "bfloat16" else jnp.float32
    start = time.perf_counter()
    if jax.devices()[0].platform == "cpu":  # smoke test: per-shape RNG compiles dominate
        params = jax.tree.map(jnp.asarray, random_params(config, 0, args.dtype))
    else:
        params = jax.block_until_ready(device_random_params(config, 0, dtype))
    batches = [int(b) for b in args.batches.split(",")]
    model = UnifiedIOModel(params, config, batch_buckets=sorted(set(batches)),
                           per_device_batch=max(batches))
    device = jax.devices()[0]
    bandwidth = copy_bandwidth(2 * 2**30 if device.platform != "cpu" else 2**26)
    per_step = step_bytes(params, config)
    floor = per_step / bandwidth
    print(f"device {device.device_kind} ({device.platform}); size {args.size}, {args.dtype}, "
          f"{model.num_parameters() / 1e9:.3f} B params (drawn in "
          f"{time.perf_counter() - start:.1f} s)")
    print(f"copy bandwidth {bandwidth / 1e9:.0f} GB/s; weight bytes per decode step "
          f"{per_step / 1e9:.3f} GB -> floor {floor * 1e3:.3f} ms/step")
    print(f"{'batch':>5s} {'samples/s':>10s} {'prefill s':>10s} {'early s':>8s} "
          f"{'full s':>8s} {'ms/step':>8s} {'floor x':>8s} {'compile s':>9s} "
          f"{'10 opts s':>9s} {'image s':>8s} {'peak GiB':>8s}")
    options = np.zeros((1, 10, 8), np.int32)
    options[..., :3] = np.random.default_rng(1).integers(3, 32000, size=(1, 10, 3))
    options[..., 3] = 1  # EOS
    rng = np.random.default_rng(0)
    for b in batches:
        text = rng.integers(3, 32000, size=(b, 64)).astype(np.int32)
        text[:, 60], text[:, 61:] = 1, 0
        image = rng.normal(size=(b, 384, 384, 3)).astype(np.float32)
        mask = np.ones((b, 576), np.int32)
        bias = np.zeros((b, BUDGET), np.float32)
        bias[np.arange(b), 1 + np.arange(b) % 3] = 1e4
        t0 = time.perf_counter()
        pre = model.prefill(text, image, mask)
        model.decode(text, image, mask, BUDGET, 0, early_stop=True, eos_logit_bias=bias,
                     prefilled=pre)
        compile_s = time.perf_counter() - t0
        prefill = _median_time(lambda: model.prefill(text, image, mask), args.reps)
        early = _median_time(lambda: model.decode(text, image, mask, BUDGET, 0, early_stop=True,
                                                  eos_logit_bias=bias, prefilled=pre), args.reps)
        full = _median_time(lambda: model.decode(text, image, mask, BUDGET, 0, early_stop=False,
                                                 eos_logit_bias=bias, prefilled=pre), args.reps)
        ms_step = full / BUDGET * 1e3
        grid = np.repeat(options, b, axis=0)
        model.score_options(text, image, mask, grid, prefilled=pre)  # compile
        scoring = _median_time(lambda: model.score_options(text, image, mask, grid,
                                                           prefilled=pre), args.reps)
        model.decode(text, image, mask, 1, 256, greedy=False, prefilled=pre)  # compile
        image_s = _median_time(lambda: model.decode(text, image, mask, 1, 256, greedy=False,
                                                    prefilled=pre), 1)
        stats = device.memory_stats() or {}  # None on CPU
        peak = stats.get("peak_bytes_in_use")
        print(f"{b:5d} {b / (prefill + early):10.1f} {prefill:10.3f} {early:8.3f} {full:8.3f} "
              f"{ms_step:8.3f} {ms_step / (floor * 1e3):8.2f} {compile_s:9.1f} {scoring:9.3f} "
              f"{image_s:8.2f} {peak / 2**30 if peak else float('nan'):8.2f}")


if __name__ == "__main__":
    main()
