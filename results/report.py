"""The whole report over run directories: tables (md/csv/tex), plots (png), ``report.md``.

``write_report`` is what ``grit-eval-report`` and the sweep callback call. It reads only each
run's ``manifest.json`` and ``metrics.json`` for the tables (never re-scores), and the
per-sample ``records.jsonl`` only for the reliability diagram (a few runs) and paired
comparisons.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from results.collect import FINISHED, collect_runs, read_records
from results.paired import paired_comparison
from results.prompt_robustness import robustness, robustness_plot, sample_robustness_table, study_records
from results.prompt_study import prompt_study, studied_tasks
from results.report_tables import (ReportTable, calibration_table, concept_group_table,
                                   format_interval, leaderboard_table, per_dataset_table,
                                   robustness_table)
from results.table_formats import FORMATS, table_markdown, write_table

log = logging.getLogger(__name__)


@dataclass
class Report:
    """What ``write_report`` produced.

    Attributes:
        out_dir: the folder written.
        runs: the collected runs (``results.collect.collect_runs``).
        tables: every table, in report order.
        files: every file written.
        studies: the prompt studies (one per studied task).
        robustness: their per-sample robustness, one per (task, model).
    """

    out_dir: Path
    runs: pd.DataFrame
    tables: list[ReportTable] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    studies: list = field(default_factory=list)
    robustness: list = field(default_factory=list)  # (model, prompt_robustness.Robustness)

    def status_counts(self) -> dict[str, int]:
        return self.runs["status"].value_counts().to_dict()


def find_run(runs: pd.DataFrame, key: str) -> pd.Series:
    """The run whose label is ``key``, or whose directory is the path ``key``.

    Raises:
        ValueError: no run or several match.
    """
    hits = runs[runs["run"] == key]
    if hits.empty and os.path.exists(key):
        target = Path(key).resolve()
        hits = runs[[Path(p).resolve() == target for p in runs["path"]]]
    if len(hits) != 1:
        shown = "; ".join(runs["run"].head(10))
        raise ValueError(f"--compare {key!r} matches {len(hits)} runs; give a run label or run "
                         f"directory (labels: {shown}{' ...' if len(runs) > 10 else ''})")
    return hits.iloc[0]


def paired_table(result: pd.DataFrame, label_a: str, label_b: str) -> ReportTable:
    """Display form of ``results.paired.paired_comparison``."""
    cells = pd.DataFrame({
        "task": result["task"],
        "n paired": result["n"],
        "A": result["mean_a"].map(lambda v: f"{v:.1f}"),
        "B": result["mean_b"].map(lambda v: f"{v:.1f}"),
        "A - B [95% bootstrap]": [format_interval(d, lo, hi) for d, lo, hi
                                  in zip(result["diff"], result["lower"], result["upper"])],
        "wins/losses/ties": [f"{w}/{l}/{t}" for w, l, t
                             in zip(result["wins"], result["losses"], result["ties"])],
        "sign test p": result["p_sign"].map(lambda p: f"{p:.3g}"),
        "unpaired A/B": [f"{a}/{b}" for a, b in zip(result["only_a"], result["only_b"])],
    })
    note = (f"A = `{label_a}`, B = `{label_b}`. Per-sample differences of acc on the undistorted "
            "samples scored in both runs; scores are agg-style (mean of sameSrc and newSrc). "
            "Interval: paired percentile bootstrap within (task, source) strata; p: two-sided "
            "sign test, ties dropped.")
    return ReportTable("paired", "Paired comparison", cells, result, note)


def _plots(report: Report, out: Path) -> list[Path]:
    from results import plots  # matplotlib is imported only when plots are asked for

    runs = report.runs
    written = [plots.prompt_sensitivity_plot(s, out / f"prompt_sensitivity_{s.task}.png")
               for s in report.studies]
    written += [robustness_plot(r, out / f"prompt_robustness_{r.task}_{i}.png")
                for i, (_, r) in enumerate(report.robustness)]
    finished = runs[runs["status"] == FINISHED]
    chosen = {}
    for _, run in finished.head(plots.MAX_RELIABILITY_RUNS).iterrows():
        try:
            chosen[run["run"]] = read_records(run["path"])
        except (FileNotFoundError, ValueError) as exc:
            log.warning("reliability diagram: %s skipped: %s", run["run"], exc)
    if chosen:
        written.append(plots.reliability_diagram(chosen, out / "reliability.png",
                                                 total_runs=len(finished)))
    written.append(plots.group_heatmap(runs, out / "concept_groups.png"))
    written.append(plots.dist_vs_undist_plot(runs, out / "dist_vs_undist.png"))
    return [p for p in written if p is not None]


def sample_robustness(runs, tasks: Sequence[str]) -> list[tuple[str, object]]:
    """(model, per-sample robustness) of every prompt-studied task with 2+ scored templates."""
    found = []
    for task in tasks:
        for model, by_template in study_records(runs, task).items():
            try:
                found.append((model, robustness(by_template, task)))
            except ValueError as exc:
                log.warning("per-sample prompt robustness of %s skipped: %s", model, exc)
    return found


def write_report(paths: Iterable[str | os.PathLike], out_dir: str | os.PathLike, *,
                 formats: Sequence[str] = FORMATS, plots: bool = True,
                 test_scores: dict | None = None, compare: tuple[str, str] | None = None,
                 n_boot: int = 10_000, seed: int = 0) -> Report:
    """Collect the runs under ``paths`` and write the report into ``out_dir``.

    Args:
        paths: run directories and/or sweep directories.
        out_dir: created if needed; files are overwritten.
        formats: table formats among ``md``, ``csv``, ``tex``.
        plots: also write the PNG plots.
        test_scores: from ``results.leaderboard_import.read_test_scores`` (test columns).
        compare: two runs (labels or directories) for a paired comparison.
        n_boot, seed: bootstrap resamples and seed of the paired comparison.

    Returns:
        A ``Report``. ``report.md`` in ``out_dir`` holds every table and links the plots;
        ``runs.csv`` lists every run found with its status, error and config.

    Raises:
        FileNotFoundError / ValueError: bad paths, no runs, bad ``compare`` or ``formats``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runs = collect_runs(paths)
    report = Report(out, runs)
    report.tables = [leaderboard_table(runs, test_scores), per_dataset_table(runs),
                     calibration_table(runs), robustness_table(runs), concept_group_table(runs)]
    report.studies = [prompt_study(runs, task) for task in studied_tasks(runs)]
    report.tables += [s.table for s in report.studies]
    report.robustness = sample_robustness(runs, [s.task for s in report.studies])
    report.tables += [sample_robustness_table(r, model, i)
                      for i, (model, r) in enumerate(report.robustness)]
    if compare is not None:
        run_a, run_b = (find_run(runs, key) for key in compare)
        result = paired_comparison(read_records(run_a["path"]), read_records(run_b["path"]),
                                   n_boot=n_boot, seed=seed)
        report.tables.append(paired_table(result, run_a["run"], run_b["run"]))
    sections = [table_markdown(t) for t in report.tables]  # once: files and report.md
    for table, section in zip(report.tables, sections):
        report.files += write_table(table, out, formats, markdown_text=section)
    listing = runs.drop(columns=["metrics"]).assign(tasks=runs["tasks"].map(",".join))
    listing.to_csv(out / "runs.csv", index=False)
    report.files.append(out / "runs.csv")
    images = _plots(report, out) if plots else []
    report.files += images
    report.files.append(_index(report, sections, images))
    return report


def _index(report: Report, sections: list[str], images: list[Path]) -> Path:
    counts = ", ".join(f"{n} {status}" for status, n in report.status_counts().items())
    parts = [f"# grit-eval report\n\n{len(report.runs)} runs: {counts}. Every run found is a row; "
             "`runs.csv` lists their directories, statuses, errors and configs.\n"]
    problems = report.runs[report.runs["status"] != FINISHED]
    if not problems.empty:
        parts.append("Runs without scores:\n\n" + "".join(
            f"- `{r.run}`: {r.status}{f' ({r.error})' if r.error else ''}\n"
            for r in problems.itertuples()))
    parts += sections
    if images:
        parts.append("## Plots\n\n" + "".join(f"![{p.stem}]({p.name})\n" for p in images))
    path = report.out_dir / "report.md"
    path.write_text("\n".join(parts))
    return path

