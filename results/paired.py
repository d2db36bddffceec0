"""Paired comparison of two runs on the same samples: "A beats B" with evidence.

Both runs' records are aligned on (task, example_id); only samples scored in both count.
As the leaderboard's ``acc.any.agg`` does, only undistorted samples are used and a task's score
is the equal-weight mean of its sameSrc and newSrc means, so the point estimate of a task is
``agg(A) - agg(B)`` and ``all`` is the equal-weight mean over the compared tasks (it equals the
difference of ``acc.any.agg.all`` when both runs cover all seven tasks).

Evidence per task and overall:
* a percentile bootstrap interval: samples are resampled with replacement within each
  (task, source) stratum, the same draw for A and B (paired), with a seeded local Generator;
* a two-sided sign test (``scipy.stats.binomtest``) on the per-sample differences, ties dropped.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from results.partitions import TASK_KEYS

REQUIRED = ("example_id", "task", "dist", "src")
# Bootstrap draws are made in chunks of at most this many indices ([B, n] int64), so that a
# large task does not allocate gigabytes at once.
_CHUNK_ELEMENTS = 4_000_000
PAIRED_COLUMNS = ("task", "n", "only_a", "only_b", "mean_a", "mean_b", "diff", "lower", "upper",
                  "wins", "losses", "ties", "p_sign")


def _check(records: pd.DataFrame, name: str, measure: str) -> None:
    lacking = [c for c in (*REQUIRED, measure) if c not in records.columns]
    if lacking:
        raise ValueError(f"records of run {name} lack the column(s) {lacking}")


def _undistorted(records: pd.DataFrame, measure: str) -> pd.DataFrame:
    frame = records.loc[records["dist"] == "undist", ["task", "example_id", "src", measure]]
    # The official scorer keys samples by id in a dict, so for a repeated id the last one wins.
    return frame.drop_duplicates(["task", "example_id"], keep="last")


def _bootstrap_means(values: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """[n_boot] means of ``values`` resampled with replacement."""
    n = values.size
    rows = max(1, _CHUNK_ELEMENTS // max(n, 1))
    out = np.empty(n_boot, dtype=np.float64)
    for start in range(0, n_boot, rows):
        stop = min(n_boot, start + rows)
        idx = rng.integers(0, n, size=(stop - start, n))
        out[start:stop] = values[idx].mean(axis=1)
    return out


def paired_comparison(records_a: pd.DataFrame, records_b: pd.DataFrame, *, measure: str = "acc",
                      n_boot: int = 10_000, seed: int = 0, confidence: float = 0.95) -> pd.DataFrame:
    """Per-task and overall paired differences A - B of ``measure``.

    Args:
        records_a, records_b: records frames (``results.collect.read_records``) of the two runs.
        measure: the per-sample column compared (``acc`` = 100 x score; any records measure).
        n_boot: bootstrap resamples.
        seed: seed of the local ``numpy.random.Generator`` (the result is reproducible).
        confidence: interval coverage, e.g. 0.95 -> 2.5th and 97.5th percentiles.

    Returns:
        DataFrame with ``PAIRED_COLUMNS``: one row per GRIT task short name the runs share
        (official order), then ``all``. ``n`` = paired undistorted samples, ``only_a/only_b`` =
        undistorted samples scored in one run only (left out), ``mean_a/mean_b/diff`` =
        agg-style scores and their difference, ``lower/upper`` = bootstrap interval of
        ``diff``, ``wins/losses/ties`` = samples where A is above / below / equal to B,
        ``p_sign`` = two-sided sign-test p-value (1.0 when every pair ties).

    Raises:
        ValueError: a column is missing, bad parameters, or the runs share no sample.
    """
    _check(records_a, "A", measure)
    _check(records_b, "B", measure)
    if n_boot < 1 or not 0 < confidence < 1:
        raise ValueError(f"need n_boot >= 1 and 0 < confidence < 1, got {n_boot}, {confidence}")
    a, b = _undistorted(records_a, measure), _undistorted(records_b, measure)
    merged = a.merge(b, on=["task", "example_id"], how="outer", suffixes=("_a", "_b"),
                     indicator=True)
    both = merged[merged["_merge"] == "both"]
    if both.empty:
        raise ValueError("the two runs share no undistorted sample: nothing to compare")
    rng = np.random.default_rng(seed)
    tail = (1 - confidence) / 2 * 100
    rows, task_boots, task_points = [], [], []
    for task, short in TASK_KEYS.items():
        part = both[both["task"] == task]
        if part.empty:
            continue
        mean_a, mean_b, boot = [], [], []
        # Stratum = source; sample sources should agree between runs of one split (A's wins).
        for _, stratum in part.groupby("src_a", sort=True):
            va = stratum[f"{measure}_a"].to_numpy(np.float64)
            vb = stratum[f"{measure}_b"].to_numpy(np.float64)
            mean_a.append(va.mean())
            mean_b.append(vb.mean())
            boot.append(_bootstrap_means(va - vb, n_boot, rng))
        diff_boot = np.mean(boot, axis=0)
        d = part[f"{measure}_a"].to_numpy(np.float64) - part[f"{measure}_b"].to_numpy(np.float64)
        task_rows = merged[merged["task"] == task]["_merge"]
        point = (float(np.mean(mean_a)), float(np.mean(mean_b)))
        rows.append(_row(short, d, point, diff_boot, tail,
                         int((task_rows == "left_only").sum()), int((task_rows == "right_only").sum())))
        task_boots.append(diff_boot)
        task_points.append(point)
    all_boot = np.mean(task_boots, axis=0)
    d_all = both[f"{measure}_a"].to_numpy(np.float64) - both[f"{measure}_b"].to_numpy(np.float64)
    point = tuple(float(np.mean(p)) for p in zip(*task_points))
    rows.append(_row("all", d_all, point, all_boot, tail,
                     int((merged["_merge"] == "left_only").sum()),
                     int((merged["_merge"] == "right_only").sum())))
    return pd.DataFrame(rows, columns=list(PAIRED_COLUMNS))


def _row(task: str, d: np.ndarray, point: tuple[float, float], boot: np.ndarray, tail: float,
         only_a: int, only_b: int) -> dict:
    wins, losses = int((d > 0).sum()), int((d < 0).sum())
    p_sign = stats.binomtest(wins, wins + losses, 0.5).pvalue if wins + losses else 1.0
    lower, upper = np.percentile(boot, [tail, 100 - tail])
    return {"task": task, "n": int(d.size), "only_a": only_a, "only_b": only_b,
            "mean_a": point[0], "mean_b": point[1], "diff": point[0] - point[1],
            "lower": float(lower), "upper": float(upper), "wins": wins, "losses": losses,
            "ties": int(d.size - wins - losses), "p_sign": float(p_sign)}
