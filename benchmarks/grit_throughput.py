"""GRIT throughput of the Unified-IO adapter: samples/s per task and where the time goes.

Runs the adapter (random weights, tokenizer trained on the fly) over mini-GRIT samples of every
task and splits the wall time into model calls (jitted encoder/decoder/VQ-GAN, measured by a
timing proxy around the model object) and everything else (image loading, preprocessing,
tokenisation, post-processing, PNG/RLE encoding). The first batch of each task is a warm-up
(compilation) and is excluded. Target: pre/post-processing under 10% of the total.

    python benchmarks/grit_throughput.py --size small --per-task 8 --batch 4
    python benchmarks/grit_throughput.py --size xl --dtype bfloat16 --per-task 64 --batch 32   # on a GPU
"""
from __future__ import annotations

import argparse
import time

from grit_eval.settings import DataSettings, ModelSettings
from grit_eval.splits import load_split
from grit_eval.types import GRIT_TASKS


class TimedModel:
    """Forwards every method call to the model and adds up the seconds spent in them."""

    def __init__(self, model):
        self._model, self.seconds = model, 0.0

    def __getattr__(self, name):
        attr = getattr(self._model, name)
        if not callable(attr):
            return attr

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return attr(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
        return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="small")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--per-task", type=int, default=8)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--tasks", default=",".join(GRIT_TASKS))
    args = parser.parse_args()

    from model_adapters.unified_io.adapter import UnifiedIOAdapter

    tasks = args.tasks.split(",")
    split = load_split(DataSettings(), tasks)
    settings = ModelSettings(name="unified_io", size=args.size, checkpoint="random", dtype=args.dtype)
    adapter = UnifiedIOAdapter.from_settings(settings, split)
    timed = TimedModel(adapter.model)
    adapter.model = timed
    print(f"Unified-IO {args.size} ({args.dtype}), random weights, batch {args.batch}")
    print(f"{'task':>14} {'samples/s':>10} {'model s':>8} {'other s':>8} {'other %':>8} {'errors':>6}")
    total_model = total_other = 0.0
    for task in tasks:
        samples = [s for s in split.samples if s.task == task]
        requests = [s.to_request() for s in samples]
        adapter.predict(requests[:args.batch])  # warm-up: compile this task's programs
        work = (requests * (1 + args.per_task // max(len(requests), 1)))[:args.per_task]
        timed.seconds = 0.0
        start = time.perf_counter()
        errors = 0
        for i in range(0, len(work), args.batch):
            errors += sum(p.error is not None for p in adapter.predict(work[i:i + args.batch]))
        wall = time.perf_counter() - start
        other = wall - timed.seconds
        total_model += timed.seconds
        total_other += other
        print(f"{task:>14} {len(work) / wall:10.2f} {timed.seconds:8.2f} {other:8.2f} "
              f"{100 * other / wall:7.1f}% {errors:6d}")
    share = 100 * total_other / (total_model + total_other)
    print(f"pre/post-processing share of the total: {share:.1f}% (target < 10%)")


if __name__ == "__main__":
    main()
