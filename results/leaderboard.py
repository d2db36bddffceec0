"""GRIT leaderboard aggregation, key for key as the official ``evaluate.py`` (GRIT_SPEC.md 4).

Input: a records frame (``results.records``). Output: the flat metrics dict with keys
``<measure>.<group>.<partition>.<task>.<stat>``, ``overall.{mean,upper,lower}`` and ``params``,
after the official rounding and clipping.

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
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from results.intervals import t_interval, z_average
from results.records import DIST_SUFFIX_LEN, MEASURES

LOG = logging.getLogger(__name__)

# Task -> short key name, in the official order. Duplicated from grit_eval.types because
# results/ may not import grit_eval (layering).
TASK_KEYS: Mapping[str, str] = {
    "categorization": "cat",
    "localization": "loc",
    "vqa": "vqa",
    "refexp": "ref",
    "segmentation": "seg",
    "keypoint": "kp",
    "normal": "sn",
}

# The 24 concept groups of evaluate.py lines 47-72; groups named by lemma2groups but not
# listed here never produce keys, as official.
CONCEPT_GROUPS: tuple[str, ...] = (
    "people", "body_parts", "birds", "animals", "plants", "furniture", "structure",
    "clothing", "clothing_accessories", "vehicles", "transport_infrastructure",
    "musical_instruments", "food", "beverages", "technology", "bathroom_objects",
    "kitchen_objects", "household_objects", "stationery", "sports_equipment", "places",
    "tools", "brands", "natural_landscape",
)

ALL_PARTITIONS: tuple[str, ...] = ("agg", "sameSrc", "newSrc", "dist", "undist", "deldist")

# A missing task's stand-in in every cross-task average (evaluate.py: "doesn't matter what
# number you put here since variance is 0").
MISSING_TASK_STATS = (0.0, 0.0, 100)


def partition_stats(records: pd.DataFrame) -> pd.DataFrame:
    """Mean / var / n of every (measure, group, partition, task) with at least 2 values.

    Args:
        records: a records frame (``results.records.RECORD_COLUMNS``).

    Returns:
        DataFrame indexed by (measure, cgroup, partition, task short name) with columns
        ``mean, var, cnt, lower, upper`` (t-interval). Partitions sameSrc, newSrc, sameCpt,
        newCpt, dist, undist, deldist for group ``any`` (no ``rmse`` deldist); for concept
        groups only ``acc`` sameSrc / newSrc.
    """
    unknown = set(records["task"].unique()) - set(TASK_KEYS)
    if unknown:
        raise ValueError(f"records hold tasks that are not GRIT tasks: {sorted(unknown)}")
    undist = records["dist"] == "undist"
    parts = [
        records.loc[undist].assign(partition=records.loc[undist, "src"]),
        records.loc[undist].assign(partition=records.loc[undist, "cpt"]),
        records.loc[~undist].assign(partition="dist"),
        records.loc[records["undistp"]].assign(partition="undist"),
        _deldist(records),
    ]
    any_long = pd.concat(parts, ignore_index=True).assign(cgroup="any")
    any_stats = _stats(any_long, list(MEASURES))
    # rmse deltas are not reported (official skips rmse deldist).
    measure = any_stats.index.get_level_values("measure")
    partition = any_stats.index.get_level_values("partition")
    any_stats = any_stats[~((measure == "rmse") & (partition == "deldist"))]

    grouped = records.loc[undist, ["task", "src", "acc", "groups"]].explode("groups")
    grouped = grouped[grouped["groups"].isin(CONCEPT_GROUPS)]
    grouped = grouped.rename(columns={"groups": "cgroup", "src": "partition"})
    group_stats = _stats(grouped, ["acc"])
    return pd.concat([any_stats, group_stats]).sort_index()


def _deldist(records: pd.DataFrame) -> pd.DataFrame:
    """Per pair: measure(undistorted) - measure(distorted copy), partition ``deldist``."""
    cols = ["task", "example_id", *MEASURES]
    dist = records.loc[records["dist"] == "dist", cols]
    dist = dist.assign(example_id=dist["example_id"].str[:-DIST_SUFFIX_LEN])
    # The official code builds dicts keyed by id, so for duplicate ids the last row wins.
    dist = dist.drop_duplicates(["task", "example_id"], keep="last")
    undistp = records.loc[records["undistp"], cols]
    undistp = undistp.drop_duplicates(["task", "example_id"], keep="last")
    pairs = undistp.merge(dist, on=["task", "example_id"], suffixes=("", "_d"), validate="1:1")
    deltas = {m: pairs[m] - pairs[f"{m}_d"] for m in MEASURES}
    return pd.DataFrame({"task": pairs["task"], **deltas}).assign(partition="deldist")


def _stats(long: pd.DataFrame, measures: list[str]) -> pd.DataFrame:
    """Group ``long`` by (cgroup, partition, task) and compute the t-interval statistics."""
    keys = ["cgroup", "partition", "task"]
    grouped = long.groupby(keys, sort=True)[measures]
    # N counts every row, NaN included; mean/var/sem skip NaN (pandas, as official).
    size = grouped.size()
    table = pd.concat(
        {"mean": grouped.mean(), "var": grouped.var(ddof=1), "valid": grouped.count()},
        axis=1,
    )
    table = table.stack(level=1, future_stack=True)
    table.index = table.index.set_names([*keys, "measure"])
    table["cnt"] = size.reindex(table.index.droplevel("measure")).to_numpy()
    table = table[table["cnt"] > 1]
    lower, upper = t_interval(table["mean"], np.sqrt(table["var"] / table["valid"]), table["cnt"])
    table = table.assign(lower=lower, upper=upper).drop(columns="valid")
    table = table.reset_index()
    table["task"] = table["task"].map(TASK_KEYS)
    return table.set_index(["measure", "cgroup", "partition", "task"])


def raw_metrics(
    records: pd.DataFrame, params: int, missing_tasks: Iterable[str] | None = None
) -> dict[str, float | int]:
    """The metrics dict before rounding: every key of the official output, unrounded.

    Args:
        records: a records frame.
        params: parameter count in millions (``params.json``).
        missing_tasks: tasks without predictions; default: GRIT tasks absent from ``records``.

    Returns:
        Key -> value; ``cnt`` values are ints, rmse values are still squared.
    """
    present = set(records["task"].unique())
    missing = set(TASK_KEYS) - present if missing_tasks is None else set(missing_tasks)
    both = missing & present
    if both:
        raise ValueError(f"tasks listed as missing but present in the records: {sorted(both)}")
    stats = partition_stats(records)
    out: dict[str, float | int] = {}
    for (measure, cgroup, partition, task), row in stats.iterrows():
        name = f"{measure}.{cgroup}.{partition}.{task}"
        if cgroup == "any":
            out[f"{name}.cnt"] = int(row["cnt"])
            out[f"{name}.mean"] = float(row["mean"])
            out[f"{name}.upper"] = float(row["upper"])
            out[f"{name}.lower"] = float(row["lower"])
    out.update(_agg_keys(stats))
    out.update(_all_keys(stats, [t for t in TASK_KEYS if t not in missing], missing))
    if "acc.any.agg.all.mean" in out:
        for stat in ("mean", "upper", "lower"):
            out[f"overall.{stat}"] = out[f"acc.any.agg.all.{stat}"]
    out["params"] = params
    return out


def _agg_keys(stats: pd.DataFrame) -> dict[str, float]:
    """Per task and group: equal-weight average of sameSrc and newSrc with a z-interval."""
    partition = stats.index.get_level_values("partition")
    same = stats[partition == "sameSrc"].droplevel("partition")
    new = stats[partition == "newSrc"].droplevel("partition")
    src = same.join(new, how="inner", suffixes=("_s", "_n"))
    mean = (src["mean_s"] + src["mean_n"]) / 2
    d = np.sqrt(src["var_s"] / src["cnt_s"] + src["var_n"] / src["cnt_n"]) / 2
    out: dict[str, float] = {}
    for (measure, cgroup, task), m, dd in zip(src.index, mean, d):
        name = f"{measure}.{cgroup}.agg.{task}"
        out[f"{name}.mean"] = float(m)
        out[f"{name}.upper"] = float(m + 1.96 * dd)
        out[f"{name}.lower"] = float(m - 1.96 * dd)
    return out


def _all_keys(stats: pd.DataFrame, present: list[str], missing: set[str]) -> dict[str, float]:
    """Cross-task averages (task ``all``) per measure and partition, group ``any`` only."""
    any_stats = stats[stats.index.get_level_values("cgroup") == "any"].droplevel("cgroup")
    lookup = dict(zip(any_stats.index, zip(any_stats["mean"], any_stats["var"], any_stats["cnt"])))
    out: dict[str, float] = {}
    for measure in MEASURES:
        for partition in ALL_PARTITIONS:
            if measure == "rmse" and partition == "deldist":
                continue
            sources = ("sameSrc", "newSrc") if partition == "agg" else (partition,)
            entries = [MISSING_TASK_STATS] * (len(sources) * len(missing))
            lacking = []
            for task in present:
                for source in sources:
                    key = (measure, source, TASK_KEYS[task])
                    if key in lookup:
                        entries.append(lookup[key])
                    else:
                        lacking.append(f"{task} {source}")
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


def round_metrics(raw: Mapping[str, float | int]) -> dict[str, float | int]:
    """The official post-processing (evaluate.py lines 379-411), keys sorted.

    rmse mean/upper/lower are square-rooted (lower clipped at 0 first); deldist values are only
    rounded to 4 decimals; other uppers become ``round(min(100, v), 4)`` and lowers
    ``round(max(0, v), 4)`` (so a clipped bound is the int 100 or 0, as official); means are
    rounded; ``cnt`` is kept; ``params`` becomes an int.
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
        value = float(value)
        if parts[0] == "rmse":
            if stat == "lower" and partition != "deldist":
                value = max(0, value)
            value = value**0.5
        if partition == "deldist":
            out[key] = round(value, 4)
        elif stat == "upper":
            out[key] = round(min(100, value), 4)
        elif stat == "lower":
            out[key] = round(max(0, value), 4)
        else:
            out[key] = round(value, 4)
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
