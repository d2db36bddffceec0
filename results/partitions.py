"""The per-sample columns of every leaderboard partition, in the official row order.

``evaluate.py`` builds one DataFrame with the rows of every task (in the official task order),
each task's rows in its samples file order, and filters it per (measure, group, partition,
task) (GRIT_SPEC.md 4.1). The mean of a partition is then a pairwise sum over exactly those
rows in exactly that order; this module hands each partition's values out as such 1-D arrays
(``results.intervals.series_stats`` reduces them). A records frame may interleave tasks; only
the order of the rows within a task matters, and it must be the samples file order.
"""
from __future__ import annotations

from typing import Iterator, Mapping

import numpy as np
import pandas as pd

from grit_eval.types import GRIT_TASKS, TASK_SHORT_NAMES
from results.records import DIST_SUFFIX_LEN, MEASURES

# Task -> short key name, in the official order (grit_eval.types: the one task table).
TASK_KEYS: Mapping[str, str] = {task: TASK_SHORT_NAMES[task] for task in GRIT_TASKS}

# The 24 concept groups of evaluate.py lines 47-72; groups named by lemma2groups but not
# listed here never produce keys, as official.
CONCEPT_GROUPS: tuple[str, ...] = (
    "people", "body_parts", "birds", "animals", "plants", "furniture", "structure",
    "clothing", "clothing_accessories", "vehicles", "transport_infrastructure",
    "musical_instruments", "food", "beverages", "technology", "bathroom_objects",
    "kitchen_objects", "household_objects", "stationery", "sports_equipment", "places",
    "tools", "brands", "natural_landscape",
)

Columns = dict[str, np.ndarray]


def partition_columns(records: pd.DataFrame) -> Iterator[tuple[str, str, str, Columns]]:
    """Every partition with its per-sample values.

    Args:
        records: a records frame (``results.records.RECORD_COLUMNS``).

    Yields:
        (cgroup, partition, task short name, measure -> [N] float64 values in the official
        row order). Group ``any``: sameSrc, newSrc, sameCpt, newCpt, dist, undist, deldist,
        all measures (deldist without ``rmse``); concept groups: sameSrc and newSrc, ``acc`` only.
        Empty partitions are yielded too (the caller drops N <= 1).
    """
    unknown = set(records["task"].unique()) - set(TASK_KEYS)
    if unknown:
        raise ValueError(f"records hold tasks that are not GRIT tasks: {sorted(unknown)}")
    values = {m: records[m].to_numpy(np.float64) for m in MEASURES}
    task = records["task"].to_numpy(object)
    new_src = records["src"].to_numpy(object) == "newSrc"
    new_cpt = records["cpt"].to_numpy(object) == "newCpt"
    dist = records["dist"].to_numpy(object) == "dist"
    undistp = records["undistp"].to_numpy(bool)
    member = _group_membership(records["groups"])
    for full, short in TASK_KEYS.items():
        rows = np.flatnonzero(task == full)
        if rows.size == 0:
            continue
        undist = ~dist[rows]
        masks = {
            "sameSrc": undist & ~new_src[rows], "newSrc": undist & new_src[rows],
            "sameCpt": undist & ~new_cpt[rows], "newCpt": undist & new_cpt[rows],
            "dist": dist[rows], "undist": undistp[rows],
        }
        for partition, mask in masks.items():
            picked = rows[mask]
            yield "any", partition, short, {m: values[m][picked] for m in MEASURES}
        yield "any", "deldist", short, _deldist(records, rows, dist, undistp, values)
        for group, in_group in member.items():
            for partition in ("sameSrc", "newSrc"):
                picked = rows[masks[partition] & in_group[rows]]
                yield group, partition, short, {"acc": values["acc"][picked]}


def _group_membership(groups: pd.Series) -> dict[str, np.ndarray]:
    """Concept group -> [R] bool (only groups some row belongs to)."""
    member: dict[str, np.ndarray] = {}
    known = set(CONCEPT_GROUPS)
    for row, row_groups in enumerate(groups):
        for group in row_groups:
            if group in known:
                if group not in member:
                    member[group] = np.zeros(len(groups), bool)
                member[group][row] = True
    return {g: member[g] for g in CONCEPT_GROUPS if g in member}


def _deldist(records: pd.DataFrame, rows: np.ndarray, dist: np.ndarray, undistp: np.ndarray,
             values: Columns) -> Columns:
    """measure(undistorted) - measure(its distorted copy), one value per pair.

    As the official dicts: distorted rows keyed by id minus its last 5 characters (the last
    duplicate wins); pairs in the order of the parallel undistorted rows (a duplicated id keeps
    its first position and its last value).
    """
    ids = records["example_id"].to_numpy(object)
    dist_row = {ids[r][:-DIST_SUFFIX_LEN]: r for r in rows[dist[rows]]}
    undist_row = {ids[r]: r for r in rows[undistp[rows]]}
    pairs = [(u, dist_row[i]) for i, u in undist_row.items() if i in dist_row]
    left = np.array([u for u, _ in pairs], np.int64)
    right = np.array([d for _, d in pairs], np.int64)
    return {m: values[m][left] - values[m][right] for m in MEASURES if m != "rmse"}
