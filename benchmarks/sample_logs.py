"""Cost of per-sample logs (run.sample_logs): the same run with logs on and off, interleaved.

``--model uio_tiny`` (default): Unified-IO v1 with random tiny weights on mini-GRIT VQA,
refexp, categorization and segmentation (segmentation writes its 256 image codes as one .npy
file per sample, the other tasks log inline); ``--model colour_rules``: the numpy example
adapter, so fast that the logs' share of its run is far larger than with any real model.
Every repeat runs logs off, then on, into fresh run directories (the first, untimed run
compiles and builds mini-GRIT; odd repeats run on before off, so a load trend favours
neither). Prints min and median wall time of each, their ratios on/off (target: < 1.05), the
time spent inside the log writer (``SampleLog.prepared`` + ``finalize``, timed in the logged runs:
the cost itself, which other processes' load hardly blurs) as a share of those runs, and the
load average before and after.

    python benchmarks/sample_logs.py [--model uio_tiny|colour_rules] [--limit 8] [--repeats 3]
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "examples/colour_rules")]

from grit_eval.run import sample_logs  # noqa: E402
from grit_eval.run.runner import run_evaluation  # noqa: E402
from grit_eval.settings import DataSettings, EvalSettings, ModelSettings, RunSettings  # noqa: E402


def model_settings(name: str, tmp: Path) -> tuple[ModelSettings, list[str]]:
    if name == "colour_rules":
        return ModelSettings(name="grit_eval_colour_rules:ColourRulesAdapter"), ["refexp", "categorization"]
    from model_adapters.unified_io.tokenizer import train_tiny_sentencepiece

    spm = train_tiny_sentencepiece(str(tmp / "spm"))  # once, not in every timed run
    return (ModelSettings(name="unified_io", size="tiny", checkpoint="random", tokenizer=str(spm), batch_size=4),
            ["vqa", "refexp", "categorization", "segmentation"])


WRITER_S = [0.0]  # seconds inside the log writer


def timed(method):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            WRITER_S[0] += time.perf_counter() - start
    return wrapper


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=("uio_tiny", "colour_rules"), default="uio_tiny")
    parser.add_argument("--limit", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    times: dict[bool, list[float]] = {True: [], False: []}
    writer_share = []
    for name in ("prepared", "finalize"):
        setattr(sample_logs.SampleLog, name, timed(getattr(sample_logs.SampleLog, name)))
    print(f"load average before: {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        model, tasks = model_settings(args.model, Path(tmp))
        base = EvalSettings(model=model, data=DataSettings(root=str(Path(tmp) / "cache"), limit=args.limit),
                            tasks=tasks, run=RunSettings(progress=False, zip_submission=False))
        run_evaluation(base, Path(tmp) / "warmup")  # builds mini-GRIT, compiles, warms the caches
        for i in range(args.repeats):
            for logs in ((False, True) if i % 2 == 0 else (True, False)):
                settings = dataclasses.replace(base, run=dataclasses.replace(base.run, sample_logs=logs))
                run = Path(tmp) / f"run_{i}_{logs}"
                WRITER_S[0] = 0.0
                start = time.perf_counter()
                run_evaluation(settings, run)
                times[logs].append(time.perf_counter() - start)
                if logs:
                    writer_share.append(WRITER_S[0] / times[logs][-1])
                samples = (run / "records.jsonl").read_text().count("\n")
                if logs:
                    files = len(list((run / "sample_logs").rglob("*.npy")))
    print(f"{args.model}: {samples} samples per run ({', '.join(tasks)}; _dist copies included), "
          f"{files} array files per logged run, {args.repeats} interleaved repeats")
    for label, pick in (("min", min), ("median", statistics.median)):
        on, off = pick(times[True]), pick(times[False])
        print(f"{label:>6}: logs off {off:.3f} s   logs on {on:.3f} s   ratio on/off {on / off:.3f}")
    print(f"inside the log writer: median {100 * statistics.median(writer_share):.2f}%, max "
          f"{100 * max(writer_share):.2f}% of a logged run's wall time")
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
