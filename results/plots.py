"""PNG plots of the report (matplotlib, Agg).

Figures are built with ``matplotlib.figure.Figure`` and saved directly, which renders through
Agg without pyplot: no global backend switch, no GUI, safe in worker processes. Margins are
fixed rather than computed by a layout engine: its extra draw pass was most of the report's
time on 200 runs.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from results.collect import FINISHED
from results.partitions import CONCEPT_GROUPS, TASK_KEYS
from results.prompt_study import PromptStudy

# Beyond this many runs a plot labels runs by their row number in the leaderboard table.
MAX_NAMED_RUNS = 30
# The reliability diagram overlays at most this many runs; its title says when it shows fewer.
MAX_RELIABILITY_RUNS = 10
# The prompt-sensitivity plot draws at most this many models.
MAX_PROMPT_MODELS = 8


def _short_labels(labels: Sequence[str]) -> list[str]:
    if len(labels) > MAX_NAMED_RUNS:
        return [f"#{i}" for i in range(len(labels))]
    return [label if len(label) <= 60 else label[:57] + "..." for label in labels]


def prompt_sensitivity_plot(study: PromptStudy, path: Path) -> Path:
    """One row per template, the task's score with its interval, one marker series per model."""
    # Beyond MAX_PROMPT_MODELS series the plot is unreadable; the table has every model.
    shown = list(study.means.columns[:MAX_PROMPT_MODELS])
    means, lowers, uppers = (f[shown] for f in (study.means, study.lowers, study.uppers))
    n_t, n_m = means.shape
    labels_y = [t if len(t) <= 70 else t[:67] + "..." for t in means.index]
    width, height = 10.0, 1.6 + 0.45 * n_t
    fig = Figure(figsize=(width, height))
    # Fixed margins sized to the longest template (~0.075 in per character at 10 pt) instead of
    # a layout engine, whose extra draw pass dominates the report's time.
    left = min(0.65, (0.3 + 0.075 * max(map(len, labels_y))) / width)
    fig.subplots_adjust(left=left, right=0.97, bottom=0.7 / height, top=1 - 0.45 / height)
    ax = fig.add_subplot()
    y = np.arange(n_t)
    offsets = (np.arange(n_m) - (n_m - 1) / 2) * (0.6 / max(n_m, 1))
    for k, (model, label) in enumerate(zip(means.columns, _short_labels(list(means.columns)))):
        m = means[model].to_numpy(np.float64)
        # Intervals may be absent (NaN bounds: no bar) or, for unclipped keys, not contain the
        # mean after rounding (matplotlib refuses negative error lengths).
        err = np.vstack([m - lowers[model].to_numpy(np.float64), uppers[model].to_numpy(np.float64) - m])
        ax.errorbar(m, y + offsets[k], xerr=np.clip(np.nan_to_num(err), 0, None), fmt="o",
                    capsize=3, label=label)
    ax.set_yticks(y, labels_y)
    ax.invert_yaxis()  # the sweep's first template on top, as in the paper's table
    ax.set_xlabel(f"acc.any.agg.{TASK_KEYS[study.task]} (95% interval)")
    ax.set_xlim(-2, 102)
    more = study.means.shape[1] - n_m
    ax.set_title(f"Prompt sensitivity: {study.task}" + (f" (first {n_m} models; {more} more in the table)" if more > 0 else ""))
    if n_m > 1:
        ax.legend(fontsize="small", loc="best")
    fig.savefig(path, dpi=100)
    return Path(path)


def reliability_diagram(records: Mapping[str, pd.DataFrame], path: Path, bins: int = 10,
                        total_runs: int | None = None) -> Path:
    """Mean score against mean confidence in equal-width confidence bins, per run.

    Args:
        records: run label -> records frame (``confidence`` in [0, 1], ``score`` in [0, 1]).
        path: PNG to write.
        bins: number of confidence bins over [0, 1].
        total_runs: how many runs the report holds, to say in the title that only some are
            drawn (``len(records)`` when None).
    """
    fig = Figure(figsize=(6, 6))
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.1, top=0.93)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="calibrated")
    edges = np.linspace(0.0, 1.0, bins + 1)
    for label, frame in zip(_short_labels(list(records)), records.values()):
        conf = frame["confidence"].to_numpy(np.float64)
        score = frame["score"].to_numpy(np.float64)
        ok = np.isfinite(conf) & np.isfinite(score)
        # Clip only for binning: the official measures use the confidence unclipped.
        which = np.clip(np.digitize(np.clip(conf[ok], 0, 1), edges[1:-1]), 0, bins - 1)
        count = np.bincount(which, minlength=bins)
        has = count > 0
        mean_conf = np.bincount(which, conf[ok], bins)[has] / count[has]
        mean_score = np.bincount(which, score[ok], bins)[has] / count[has]
        ax.plot(mean_conf, mean_score, marker="o", label=label)
    shown = len(records)
    total = shown if total_runs is None else total_runs
    title = "Reliability diagram" + (f" (first {shown} of {total} runs)" if total > shown else "")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="mean confidence in bin", ylabel="mean score in bin",
           title=title)
    ax.legend(fontsize="small", loc="upper left")
    fig.savefig(path, dpi=100)
    return Path(path)


def group_heatmap(runs: pd.DataFrame, path: Path, task: str | None = None) -> Path | None:
    """Concept groups x runs heatmap of ``acc.<group>.agg.<task>.mean``.

    With ``task=None`` a cell is the equal-weight mean over the tasks that have a value for
    that group (one figure for the whole report; the per-task values are in the concept-group
    table). Returns None when no run has a group value.
    """
    shorts = [TASK_KEYS[task]] if task else list(TASK_KEYS.values())
    per_task = np.array([[[m.get(f"acc.{g}.agg.{s}.mean", math.nan) for m in runs["metrics"]]
                          for g in CONCEPT_GROUPS] for s in shorts], dtype=np.float64)
    present = ~np.all(np.isnan(per_task), axis=(0, 2))
    if not present.any():
        return None
    counts = np.sum(~np.isnan(per_task), axis=0)
    sums = np.nansum(per_task, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)[present]
    groups = [g for g, keep in zip(CONCEPT_GROUPS, present) if keep]
    n_runs = values.shape[1]
    width = min(30.0, 3.5 + 0.3 * n_runs)
    fig = Figure()
    # Fixed margins instead of a layout engine: layout passes dominate the report's time.
    height = 2.5 + 0.28 * len(groups)
    fig.set_size_inches(width, height)
    fig.subplots_adjust(left=1.9 / width, right=1 - 1.3 / width, bottom=0.9 / height,
                        top=1 - 0.5 / height)
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(values), aspect="auto", vmin=0, vmax=100, cmap="viridis")
    ax.set_yticks(np.arange(len(groups)), groups, fontsize="small")
    # Run labels are long: columns are numbered as the rows of the leaderboard table.
    step = max(1, n_runs // 50)  # at most ~50 tick labels: text layout dominates drawing time
    ticks = np.arange(0, n_runs, step)
    ax.set_xticks(ticks, [str(i) for i in ticks], rotation=90, fontsize="x-small")
    ax.set_xlabel("run (row number in the leaderboard table, from 0); blank = no value")
    ax.set_title(f"acc by concept group ({task if task else 'mean over tasks'})")
    fig.colorbar(image, ax=ax, label="acc")
    fig.savefig(path, dpi=100)
    return Path(path)


def dist_vs_undist_plot(runs: pd.DataFrame, path: Path) -> Path | None:
    """Per run and task: ``acc.any.undist`` (x) against ``acc.any.dist`` (y); below the
    diagonal = the distortion hurts. None if no run has both keys."""
    fig = Figure(figsize=(6, 6))
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.1, top=0.93)
    ax = fig.add_subplot()
    drawn = False
    for task, short in TASK_KEYS.items():
        pairs = [(m[f"acc.any.undist.{short}.mean"], m[f"acc.any.dist.{short}.mean"])
                 for m, status in zip(runs["metrics"], runs["status"])
                 if status == FINISHED and f"acc.any.undist.{short}.mean" in m
                 and f"acc.any.dist.{short}.mean" in m]
        if pairs:
            x, y = np.array(pairs, dtype=np.float64).T
            ax.scatter(x, y, label=task, s=18)
            drawn = True
    if not drawn:
        return None
    ax.plot([0, 100], [0, 100], color="grey", linestyle="--", linewidth=1)
    ax.set(xlim=(-2, 102), ylim=(-2, 102), xlabel="acc on undistorted samples (undist)",
           ylabel="acc on their distorted copies (dist)", title="Distorted vs undistorted")
    ax.legend(fontsize="small", loc="upper left")
    fig.savefig(path, dpi=100)
    return Path(path)
