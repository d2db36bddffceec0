"""Unified-IO 2 task recipes, batched vs one request at a time, same run.

    python benchmarks/uio2_batching.py [--size tiny] [--n 4] [--reps 2]

Random weights of a preset size (``model.checkpoint=random``) on this machine's backend,
float32. For categorization (answer-option scoring), segmentation and normals (1,024-step
image generation) and keypoints (forced keypoint decoding), the same ``n`` requests go through
the recipe once as one list (one encoder pass, one decode loop / scoring call) and as ``n``
lists of one. Both are warmed up first (compilation excluded); prints median seconds, the
ratio and the machine load (``uptime``).
"""
from __future__ import annotations

import argparse
import subprocess
import tempfile

import numpy as np

from benchmarks.timing import median_time
from grit_eval.types import Request
from model_adapters.unified_io_2.presets import preset, random_params
from model_adapters.unified_io_2.runtime import UIO2Runtime
from model_adapters.unified_io_2.tasks import Settings, Tasks
from model_adapters.unified_io_2.tokenizer import UIO2Tokenizer, train_tiny_llama_spm


def _requests(task: str, n: int, rng) -> list[Request]:
    out = []
    for i in range(n):
        box = (float(rng.integers(0, 20)), float(rng.integers(0, 20)), 60.0 + i, 50.0 + 2 * i)
        if task == "categorization":
            out.append(Request(f"c{i}", task, "", None, box, tuple(f"option {j}" for j in range(12))))
        elif task == "normal":
            out.append(Request(f"n{i}", task, ""))
        else:
            out.append(Request(f"{task[0]}{i}", task, "", "dog" if task == "segmentation" else None, box))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="tiny")
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--reps", type=int, default=2)
    args = ap.parse_args()
    cfg = preset(args.size)
    tok = UIO2Tokenizer(train_tiny_llama_spm(tempfile.mkdtemp(prefix="uio2-bench-spm-")))
    tasks = Tasks(UIO2Runtime(cfg, random_params(cfg, 0)), tok, Settings(keypoint_max_tokens=64))
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (120 + 8 * i, 160, 3), dtype=np.uint8) for i in range(args.n)]
    print(f"Unified-IO 2 {args.size} (random weights), {args.n} requests per task, median of {args.reps}")
    for task in ("categorization", "segmentation", "normal", "keypoint"):
        reqs = _requests(task, args.n, rng)
        recipe = getattr(tasks, f"{task}_many")
        batched, out_b = median_time(lambda: recipe(reqs, images), args.reps, warm=True)
        single, out_s = median_time(lambda: [recipe([r], [im])[0] for r, im in zip(reqs, images)],
                                    args.reps, warm=True)
        same = [a[0] for a in out_b] == [a[0] for a in out_s]
        print(f"  {task:15s} batched {batched:8.2f} s   one at a time {single:8.2f} s   "
              f"batching x{single / batched:.2f}   same outputs: {same}")
    print("load:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
