"""Benchmark: ``grit-eval-report`` over 200 run directories (target: under 10 s).

Builds one real run (``grit-eval`` with the ``prior`` adapter on mini-GRIT, or ``--from``
an existing run directory), copies it into a sweep-shaped tree of N run directories (whole
directories, predictions and submission included, so the search has real folders to skip)
with perturbed configs and metrics, then times:

* ``grit-eval-report SWEEP --out DIR`` as a subprocess (interpreter start, imports, tables in
  three formats, all plots) — the number the target is about;
* the same without plots, in-process;
* a naive baseline in the same run: the leaderboard table rebuilt by re-scoring every run's
  ``records.jsonl`` (``pd.read_json`` + ``results.leaderboard.leaderboard_metrics``), which is
  what one does without the collected metrics.

    python3 benchmarks/report_200_runs.py [--runs 200] [--from RUN_DIR] [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

MODELS = ("prior", "oracle", "unified_io", "replay")
TEMPLATES = ('Which region does the text " {} " describe ?', 'Locate the " {} " .',
             'Where is the " {} " ?', 'Where is the "{}"?')


def real_run(work: Path) -> Path:
    from grit_eval.minigrit import ensure_minigrit

    cache = work / "cache"
    ensure_minigrit(cache_dir=cache)
    run = work / "real"
    subprocess.run([sys.executable, "-m", "grit_eval.cli", f"run.dir={run}", f"data.root={cache}",
                    "run.progress=false"], check=True, capture_output=True, cwd=work)
    return run


def synthesise(source: Path, sweep: Path, n: int, seed: int = 0) -> None:
    """N copies of ``source`` as Hydra jobs ``<i>_model=...``; every 4th has a prompt template
    and 2% are left unfinished (manifest 'running', no metrics), as in a real sweep."""
    rng = np.random.default_rng(seed)
    manifest = json.loads((source / "manifest.json").read_text())
    metrics = json.loads((source / "metrics.json").read_text())
    for i in range(n):
        model = MODELS[i % len(MODELS)]
        job = sweep / f"{i}_model={model},model.seed={i}"
        shutil.copytree(source, job)
        (job / ".hydra").mkdir()
        m = json.loads(json.dumps(manifest))
        m["config"]["model"].update(name=model, seed=i)
        if i % 4 == 0:
            m["config"]["model"]["prompts"] = {"refexp": TEMPLATES[(i // 4) % len(TEMPLATES)]}
        if i % 50 == 49:
            m["status"] = "running"
            (job / "metrics.json").unlink()
        else:
            shift = float(rng.normal(0, 3))
            perturbed = {k: (round(v + shift, 4) if k.split(".")[-1] in ("mean", "lower", "upper") else v)
                         for k, v in metrics.items()}
            (job / "metrics.json").write_text(json.dumps(perturbed, indent=4, sort_keys=True))
        (job / "manifest.json").write_text(json.dumps(m, indent=2, sort_keys=True))


def naive_baseline(sweep: Path) -> float:
    from results.leaderboard import leaderboard_metrics
    from results.tables import leaderboard_markdown

    start = time.perf_counter()
    rows = []
    for job in sorted(sweep.iterdir()):
        records = job / "records.jsonl"
        if records.is_file():
            frame = pd.read_json(records, lines=True)
            frame["groups"] = frame["groups"].map(tuple)
            rows.append((job.name, leaderboard_metrics(frame, 0)))
    leaderboard_markdown(rows)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--from", dest="source", type=Path, help="an existing scored run directory")
    parser.add_argument("--keep", type=Path, help="build the tree here and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="grit_report_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        source = args.source or real_run(work)
        sweep = work / "sweep"
        shutil.rmtree(sweep, ignore_errors=True)
        synthesise(source, sweep, args.runs)
        os.sync()
        cli = shutil.which("grit-eval-report")
        cmd = [cli] if cli else [sys.executable, "-m", "results.report_cli"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([*cmd, str(sweep), "--out", str(work / "report")], check=True,
                       capture_output=True)
        full = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU seconds of the command: on a shared machine, wall time also counts waiting for a core.
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

        from results.report import write_report

        start = time.perf_counter()
        write_report([sweep], work / "report_tables", plots=False)
        tables = time.perf_counter() - start
        naive = naive_baseline(sweep)
        print(f"{args.runs} run directories")
        print(f"grit-eval-report (subprocess, tables + plots): {full:.2f} s wall, {cpu:.2f} s CPU "
              f"(target < 10 s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        print(f"write_report, tables only (in-process):       {tables:.2f} s")
        print(f"naive baseline, leaderboard by re-scoring records: {naive:.2f} s "
              f"-> tables-only report is {naive / tables:.1f}x faster")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
