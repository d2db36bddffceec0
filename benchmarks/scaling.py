"""Unified-IO data-parallel throughput: 1 device vs all devices, same run (issue 8).

    python benchmarks/scaling.py [--size tiny] [--batch 16] [--reps 3] [--devices 4]

Each measurement runs in its own subprocess, because jax fixes its device list at start-up:

* CPU: ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` for N = 1 and ``--devices``.
  Forced CPU devices share the machine's cores, so this ratio shows the overhead of sharding
  (collectives, smaller per-device matmuls), not a speed-up;
* GPU (when jax sees one): 1 real device vs all local devices.

Workload: VQA-style ``generate_text`` batches (random weights, float32, 32-token budget,
encoder prefill included). Random weights never choose EOS, so the decode loop's
``eos_logit_bias`` hook makes row b answer 1 + b % 3 tokens then EOS (as benchmarks/decode.py),
and early stop ends the loop when the whole batch is done. Throughput = samples / median
seconds per batch after one warm-up batch; the last column checks that the N-device tokens
equal the 1-device ones.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

BUDGET = 32  # the adapter's text_max_length for VQA


def _worker(args: argparse.Namespace) -> None:
    """Runs in the child: loads the model on ``args.worker`` devices and prints one JSON line."""
    import jax
    import numpy as np

    from model_adapters.unified_io import decoding, load_model

    devices = jax.local_devices()[:args.worker]
    model = load_model("random", args.size, devices=devices)
    rng = np.random.default_rng(0)
    b = args.batch
    text = rng.integers(3, 32000, size=(b, 24)).astype(np.int32)
    text[:, 20], text[:, 21:] = 1, 0
    image = rng.normal(size=(b, 384, 384, 3)).astype(np.float32)
    mask = np.ones((b, 576), np.int32)
    bias = np.zeros((b, BUDGET), np.float32)
    bias[np.arange(b), 1 + np.arange(b) % 3] = 1e4  # row b: EOS at step 1 + b % 3

    def run():
        return model.generate_text(text, image, mask, BUDGET, eos_logit_bias=bias)

    ids = run()  # warm-up: compiles the batch bucket's programs
    traces = decoding.trace_count()
    times = []
    for _ in range(args.reps):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    print(json.dumps({"backend": jax.default_backend(), "devices": len(devices),
                      "device_kind": devices[0].device_kind,
                      "samples_per_s": b / statistics.median(times),
                      "new_traces": decoding.trace_count() - traces,
                      "ids": ids.tolist()}))


def _measure(args: argparse.Namespace, n: int, cpu: bool) -> dict:
    env = dict(os.environ)
    if cpu:
        env["JAX_PLATFORMS"] = "cpu"
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") +
                            f" --xla_force_host_platform_device_count={n}").strip()
    cmd = [sys.executable, __file__, "--worker", str(n), "--size", args.size,
           "--batch", str(args.batch), "--reps", str(args.reps)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"worker with {n} device(s) failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _gpu_count() -> int:
    """Local GPU count as jax sees it in a fresh process (0 without one)."""
    probe = "import jax; print(jax.local_device_count() if jax.default_backend() == 'gpu' else 0)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    return int(done.stdout.strip() or 0) if done.returncode == 0 else 0


def _report(label: str, one: dict, many: dict) -> None:
    ratio = many["samples_per_s"] / one["samples_per_s"]
    same = "yes" if many["ids"] == one["ids"] else "NO"
    print(f"{label} ({one['device_kind']}):")
    for r in (one, many):
        print(f"  {r['devices']} device(s): {r['samples_per_s']:8.2f} samples/s "
              f"(new traces after warm-up: {r['new_traces']})")
    print(f"  ratio {many['devices']}/1: {ratio:.2f}x   same tokens: {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="tiny")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--devices", type=int, default=4, help="forced CPU devices")
    parser.add_argument("--worker", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args)
        return
    print(f"Unified-IO {args.size}, random weights, VQA-style batches of {args.batch}, "
          f"{BUDGET}-token budget, median of {args.reps}")
    _report(f"CPU, forced host devices (all share the same {os.cpu_count()} cores, so the "
            "ratio is sharding overhead, not speed-up)",
            _measure(args, 1, cpu=True), _measure(args, args.devices, cpu=True))
    gpus = _gpu_count()
    if gpus:
        _report("GPU", _measure(args, 1, cpu=False), _measure(args, gpus, cpu=False))
    else:
        print("GPU: none visible to jax, skipped")


if __name__ == "__main__":
    main()
