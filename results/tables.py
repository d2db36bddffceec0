"""Human tables from official metric dicts: one row per run, GRIT's task columns.

Cells read ``acc.any.agg.<task>.{mean,lower,upper}`` (the headline per-task number and its
z-interval) and ``acc.any.agg.all.*``. A key that is absent shows as ``missing`` rather than
being dropped, so a run with a failed or skipped task is visible in the table.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd

TASK_COLUMNS: tuple[tuple[str, str], ...] = (
    ("cat", "categorization"), ("loc", "localization"), ("vqa", "vqa"), ("ref", "refexp"),
    ("seg", "segmentation"), ("kp", "keypoint"), ("sn", "normal"), ("all", "all"),
)

MISSING = "missing"


def agg_cell(metrics: Mapping[str, float], short: str, measure: str = "acc") -> str:
    """``mean [lower, upper]`` of ``<measure>.any.agg.<short>``, or ``missing``."""
    base = f"{measure}.any.agg.{short}"
    if f"{base}.mean" not in metrics:
        return MISSING
    mean, low, high = (metrics.get(f"{base}.{s}") for s in ("mean", "lower", "upper"))
    if low is None or high is None:
        return f"{mean:.1f}"
    return f"{mean:.1f} [{low:.1f}, {high:.1f}]"


def leaderboard_frame(runs: Sequence[tuple[str, Mapping[str, float]]]) -> pd.DataFrame:
    """One row per ``(run name, metrics)``; columns = the 7 tasks + all, plus params."""
    rows = []
    for name, metrics in runs:
        row = {"run": name}
        for short, long_name in TASK_COLUMNS:
            row[long_name] = agg_cell(metrics, short)
        row["params (M)"] = metrics.get("params", MISSING)
        rows.append(row)
    return pd.DataFrame(rows)


def to_markdown(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (no optional `tabulate` dependency)."""
    header = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for values in frame.itertuples(index=False):
        lines.append("| " + " | ".join(str(v) for v in values) + " |")
    return "\n".join(lines) + "\n"


def leaderboard_markdown(runs: Sequence[tuple[str, Mapping[str, float]]]) -> str:
    note = ("Per-task `acc.any.agg` (mean of sameSrc and newSrc) with its 95% z-interval; "
            "`all` is the leaderboard's overall score.\n\n")
    return note + to_markdown(leaderboard_frame(runs))


def sample_means_markdown(records: pd.DataFrame) -> str:
    """Per-task sample count and plain mean of ``acc`` over every scored sample.

    Not an official key: it is there for small local sets where a leaderboard partition has
    fewer than 2 samples and the official ``agg`` number does not exist.
    """
    grouped = records.groupby("task", sort=False)["acc"].agg(["count", "mean"])
    frame = pd.DataFrame({"task": grouped.index, "samples": grouped["count"].to_numpy(),
                          "mean acc (all samples)": [f"{v:.1f}" for v in grouped["mean"]]})
    return ("Plain mean of `acc` over all scored samples per task (not a leaderboard key).\n\n"
            + to_markdown(frame))
