"""GRIT leaderboard aggregation, key for key as the official ``evaluate.py`` (GRIT_SPEC.md 4).

Input: a records frame (``results.records``). Output: the flat metrics dict with keys
``<measure>.<group>.<partition>.<task>.<stat>``, ``overall.{mean,upper,lower}`` and ``params``,
after the official rounding and clipping.

"Identical" means equal to the last printed digit: every value goes through the official
floating-point operations in the official order (``results.partitions`` gives each partition's
column in the official row order, ``results.intervals`` reduces it as pandas / scipy /
``compute_avg_bounds`` do, cross-task lists are built in the official task order), and the
post-processing clips and roots numpy float64 values and rounds them with numpy's
``round(v, 4)`` (scale by 1e4, round half to even, divide), not Python's decimal rounding.

Where the official code would raise, this module does not (a researcher scoring a small local
set still gets a result); each such choice is deliberate:

* a cross-task ``all`` key needs every task with predictions to have that partition (N >= 2);
  when one lacks it, the official code raises KeyError. Here the ``<measure>.any.<partition>.all``
  keys are omitted and one warning is logged naming the task and the partition; ``overall``
  is omitted with ``acc.any.agg.all``.
* a task listed as missing (no prediction file) counts as mean 0, variance 0, n 100 in every
  ``all`` average (twice for ``agg``), exactly as official, so missing tasks also lower
  ``rmse``/``misinf``/``conf`` (GRIT_SPEC.md 6.19).
"""
from __future__ import annotations

import logging
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from results.intervals import Z_95, series_stats, t_interval, z_average
from results.partitions import TASK_KEYS, partition_columns
from results.records import MEASURES

LOG = logging.getLogger(__name__)

ALL_PARTITIONS: tuple[str, ...] = ("agg", "sameSrc", "newSrc", "dist", "undist", "deldist")

# A missing task's stand-in in every cross-task average (evaluate.py: "doesn't matter what
# number you put here since variance is 0"). Python ints, as official.
MISSING_TASK_STATS = (0, 0, 100)

# (measure, cgroup, partition, task short name) -> (mean, var, cnt, lower, upper)
Stats = dict[tuple[str, str, str, str], tuple[Any, Any, int, Any, Any]]


def partition_stats(records: pd.DataFrame) -> Stats:
    """Mean / var / cnt / t-interval of every partition with at least 2 rows.

    Args:
        records: a records frame (``results.records.RECORD_COLUMNS``).

    Returns:
        (measure, cgroup, partition, task short name) -> (mean, var, cnt, lower, upper), the
        floats numpy float64 scalars computed as ``evaluate.get_metric`` does.
    """
    keys, means, variances, sems, counts = [], [], [], [], []
    for cgroup, partition, task, columns in partition_columns(records):
        for measure, values in columns.items():
            if values.size <= 1:
                continue
            mean, var, sem = series_stats(values)
            keys.append((measure, cgroup, partition, task))
            means.append(mean)
            variances.append(var)
            sems.append(sem)
            counts.append(values.size)
    lower, upper = t_interval(np.array(means, np.float64), np.array(sems, np.float64), counts)
    return {key: (means[i], variances[i], counts[i], lower[i], upper[i])
            for i, key in enumerate(keys)}


def raw_metrics(
    records: pd.DataFrame, params: int, missing_tasks: Iterable[str] | None = None
) -> dict[str, Any]:
    """The metrics dict before rounding: every key of the official output, unrounded.

    Args:
        records: a records frame.
        params: parameter count in millions (``params.json``).
        missing_tasks: tasks without predictions; default: GRIT tasks absent from ``records``.

    Returns:
        Key -> value; ``cnt`` values are ints, the others numpy float64 scalars (rmse values
        still squared).
    """
    present = set(records["task"].unique())
    missing = set(TASK_KEYS) - present if missing_tasks is None else set(missing_tasks)
    both = missing & present
    if both:
        raise ValueError(f"tasks listed as missing but present in the records: {sorted(both)}")
    stats = partition_stats(records)
    out: dict[str, Any] = {}
    for (measure, cgroup, partition, task), (mean, _, cnt, lower, upper) in stats.items():
        if cgroup == "any":
            name = f"{measure}.{cgroup}.{partition}.{task}"
            out.update({f"{name}.cnt": int(cnt), f"{name}.mean": mean,
                        f"{name}.upper": upper, f"{name}.lower": lower})
    out.update(_agg_keys(stats))
    out.update(_all_keys(stats, missing))
    if "acc.any.agg.all.mean" in out:
        for stat in ("mean", "upper", "lower"):
            out[f"overall.{stat}"] = out[f"acc.any.agg.all.{stat}"]
    out["params"] = params
    return out


def _agg_keys(stats: Stats) -> dict[str, Any]:
    """Per task and group: equal-weight average of sameSrc and newSrc with a z-interval."""
    out: dict[str, Any] = {}
    for (measure, cgroup, partition, task), same in stats.items():
        new = stats.get((measure, cgroup, "newSrc", task))
        if partition != "sameSrc" or new is None:
            continue
        # compute_avg_bounds on two entries: any summation order gives the same bits.
        mean = (same[0] + new[0]) / 2
        d = np.sqrt(same[1] / same[2] + new[1] / new[2]) / 2
        name = f"{measure}.{cgroup}.agg.{task}"
        out.update({f"{name}.mean": mean, f"{name}.upper": mean + Z_95 * d,
                    f"{name}.lower": mean - Z_95 * d})
    return out


def _all_keys(stats: Stats, missing: set[str]) -> dict[str, Any]:
    """Cross-task averages (task ``all``) per measure and partition, group ``any`` only.

    The entries are collected in the official task order, missing tasks in their place.
    """
    out: dict[str, Any] = {}
    for measure in MEASURES:
        for partition in ALL_PARTITIONS:
            if measure == "rmse" and partition == "deldist":
                continue
            sources = ("sameSrc", "newSrc") if partition == "agg" else (partition,)
            entries, lacking = [], []
            for task, short in TASK_KEYS.items():
                for source in sources:
                    if task in missing:
                        entries.append(MISSING_TASK_STATS)
                        continue
                    found = stats.get((measure, "any", source, short))
                    if found is None:
                        lacking.append(f"{task} {source}")
                    else:
                        entries.append(found[:3])
            if lacking:
                # The official evaluator raises KeyError here (GRIT_SPEC.md 6.20).
                LOG.warning(
                    "%s.any.%s.all omitted: fewer than 2 samples in %s",
                    measure, partition, ", ".join(lacking),
                )
                continue
            mus, vs, ns = zip(*entries)
            mean, lower, upper = z_average(mus, vs, ns)
            name = f"{measure}.any.{partition}.all"
            out.update({f"{name}.mean": mean, f"{name}.upper": upper, f"{name}.lower": lower})
    return out


def round_metrics(raw: Mapping[str, Any]) -> dict[str, float | int]:
    """The official post-processing (evaluate.py lines 379-411), keys sorted.

    On numpy float64 values, as official: rmse mean/upper/lower are raised to the power 0.5
    (lower clipped at 0 first); deldist values are only rounded to 4 decimals; other uppers
    become ``round(min(100, v), 4)`` and lowers ``round(max(0, v), 4)`` (so a clipped bound is
    the int 100 or 0, as official); means are rounded; ``cnt`` is kept; ``params`` becomes an
    int. ``round`` of a numpy float64 is numpy's rounding (``np.round``), not Python's.
    Returned floats are Python floats with the rounded values.
    """
    out: dict[str, float | int] = {}
    for key in sorted(raw):
        value = raw[key]
        if key == "params":
            out[key] = int(value)
            continue
        parts = key.split(".")
        stat = parts[-1]
        partition = "overall" if parts[0] == "overall" else parts[2]
        if stat == "cnt":
            out[key] = value
            continue
        value = np.float64(value)
        if parts[0] == "rmse":
            if stat == "lower" and partition != "deldist":
                value = max(0, value)
            value = value**0.5
        if partition == "deldist":
            rounded = round(value, 4)
        elif stat == "upper":
            rounded = round(min(100, value), 4)
        elif stat == "lower":
            rounded = round(max(0, value), 4)
        else:
            rounded = round(value, 4)
        out[key] = rounded if isinstance(rounded, int) else float(rounded)
    return out


def leaderboard_metrics(
    records: pd.DataFrame, params: int, missing_tasks: Iterable[str] | None = None
) -> dict[str, float | int]:
    """The official ``<subset>_metrics.json`` content for a records frame.

    Args:
        records: a records frame (``results.records.records_frame``).
        params: parameter count in millions.
        missing_tasks: tasks with no prediction file (count as 0); default: GRIT tasks absent
            from ``records``.

    Returns:
        Sorted key -> value dict, rounded and clipped as the official evaluator.
    """
    return round_metrics(raw_metrics(records, params, missing_tasks))
