"""Cost of per-sample logs (run.sample_logs): the same run with logs on and off, alternated.

The example adapter (examples/colour_rules, by import string) on mini-GRIT refexp and
categorization: a fast model, so the logs' share of the run time is larger than with a real one.
Prints the median wall time of each and the ratio on/off (target: < 1.05).

    python benchmarks/sample_logs.py [--limit 60] [--repeats 5]
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "examples/colour_rules")]

from grit_eval.run.runner import run_evaluation  # noqa: E402
from grit_eval.settings import DataSettings, EvalSettings, ModelSettings, RunSettings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    times: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        base = EvalSettings(model=ModelSettings(name="grit_eval_colour_rules:ColourRulesAdapter"),
                            data=DataSettings(root=str(Path(tmp) / "cache"), limit=args.limit),
                            tasks=["refexp", "categorization"])
        run_evaluation(base, Path(tmp) / "warmup")  # builds mini-GRIT, warms the caches
        for i in range(args.repeats):
            for logs in (False, True):
                settings = dataclasses.replace(base, run=RunSettings(progress=False, sample_logs=logs,
                                                                     zip_submission=False))
                start = time.perf_counter()
                run = Path(tmp) / f"run_{i}_{logs}"
                run_evaluation(settings, run)
                times[logs].append(time.perf_counter() - start)
                samples = (run / "records.jsonl").read_text().count("\n")
    on, off = statistics.median(times[True]), statistics.median(times[False])
    print(f"samples per run: {samples} (refexp + categorization, _dist copies included)")
    print(f"logs off: {off:.3f} s   logs on: {on:.3f} s   ratio on/off: {on / off:.3f}")


if __name__ == "__main__":
    main()
