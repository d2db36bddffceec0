"""Per-dataset leaderboard: the shape of the Unified-IO paper's second results table.

Rows are runs (models), columns are ``<dataset>/<split> <metric>``: NYUv2 depth RMSE,
ImageNet / Places365 top-1, VQA accuracies, RefCOCO-family Acc@0.5, CIDEr, keypoint AP.
Input is the ``metrics.json`` document a per-dataset run writes
(``grit_eval.run.dataset_scoring``): ``{"dataset", "split", "task", "metrics": {...}}``.

Printed as the papers print them: shares x100 (accuracy, AP), CIDEr x100 (the paper's 126.8
is 1.268 in pycocoevalcap units), RMSE in metres, angles in degrees. A cell with no value
reads ``missing`` (as in ``results.tables``), so a failed or absent run stays visible.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import pandas as pd

from grit_eval.types import TASKS
from results.tables import MISSING, to_markdown

# Task -> (metric key in metrics.json, column label, print scale, decimals): the headline
# number each community reports, from the task table.
HEADLINE: Mapping[str, tuple[str, str, float, int]] = {
    task: (spec.headline.metric, spec.headline.label, spec.headline.scale, spec.headline.decimals)
    for task, spec in TASKS.items() if spec.headline is not None
}
# Every metric's print scale and decimals (for ``columns="all"``); unknown names print as is.
_SCALES: Mapping[str, tuple[float, int]] = {
    "accuracy": (100.0, 1), "mean_iou": (100.0, 1), "vqa_accuracy": (100.0, 1),
    "top1_accuracy": (100.0, 1), "cider_d": (100.0, 1), "oks_mean": (100.0, 1),
    "rmse": (1.0, 3), "abs_rel": (1.0, 3), "delta1": (100.0, 1), "delta2": (100.0, 1),
    "delta3": (100.0, 1), "mean_angle_deg": (1.0, 1), "median_angle_deg": (1.0, 1),
    "rmse_angle_deg": (1.0, 1),
}
# Column order: the paper's table first, anything else after it alphabetically.
DATASET_ORDER: tuple[str, ...] = (
    "nyuv2_depth", "nyuv2_normal", "imagenet", "places365", "vqav2", "okvqa", "aokvqa",
    "vizwiz", "refcoco", "refcoco+", "refcocog", "nocaps", "coco_captions", "coco_karpathy",
    "coco_keypoints",
)


def _scale(metric: str) -> tuple[float, int]:
    if metric in _SCALES:
        return _SCALES[metric]
    if metric.startswith(("within_", "AP", "AR")):
        return 100.0, 1
    return 1.0, 3


def format_value(value: Any, scale: float, decimals: int) -> str:
    """``value * scale`` with ``decimals`` digits; ``missing`` for None/NaN/non-numbers.

    COCOeval reports -1 where an area range has no ground truth; it is shown as ``-1``
    rather than scaled to a fake -100.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return MISSING
    if value == -1:
        return "-1"
    return f"{value * scale:.{decimals}f}"


def _check_doc(doc: Mapping[str, Any], run: str) -> None:
    for key in ("dataset", "split", "task", "metrics"):
        if key not in doc:
            raise ValueError(f"run {run!r}: per-dataset metrics document has no {key!r} "
                             "(is it a GRIT metrics.json? use results.tables for those)")
    if doc["task"] not in HEADLINE:
        raise ValueError(f"run {run!r}: unknown per-dataset task {doc['task']!r}; "
                         f"known: {sorted(HEADLINE)}")


def dataset_leaderboard_frame(entries: Sequence[tuple[str, Mapping[str, Any]]],
                              columns: str = "headline") -> pd.DataFrame:
    """One row per run name, one column per (dataset/split, metric).

    Args:
        entries: ``(run name, metrics.json document)`` pairs; documents that share a run name
            (one model evaluated on several datasets) fill one row.
        columns: ``"headline"`` (the community's number per dataset) or ``"all"`` (every
            metric of each document).

    Returns:
        Columns ``run`` then ``<dataset>/<split> <label>`` as formatted strings.

    Raises:
        ValueError: a document is not a per-dataset one, or ``columns`` is unknown.
    """
    if columns not in ("headline", "all"):
        raise ValueError(f"columns must be 'headline' or 'all', not {columns!r}")
    cells: dict[str, dict[tuple, str]] = {}
    keys: dict[tuple, str] = {}
    for run, doc in entries:
        _check_doc(doc, run)
        dataset, split, task = str(doc["dataset"]), str(doc["split"]), doc["task"]
        order = DATASET_ORDER.index(dataset) if dataset in DATASET_ORDER else len(DATASET_ORDER)
        if columns == "headline":
            metric, label, scale, decimals = HEADLINE[task]
            picked = [(metric, label, scale, decimals)]
        else:
            picked = [(m, m, *_scale(m)) for m in doc["metrics"]]
        row = cells.setdefault(run, {})
        for rank, (metric, label, scale, decimals) in enumerate(picked):
            key = (order, dataset, split, rank)
            keys[key] = f"{dataset}/{split} {label}"
            row[key] = format_value(doc["metrics"].get(metric), scale, decimals)
    ordered = sorted(keys)
    rows = [{"run": run, **{keys[k]: row.get(k, MISSING) for k in ordered}}
            for run, row in cells.items()]
    return pd.DataFrame(rows, columns=["run", *(keys[k] for k in ordered)])


def dataset_leaderboard_markdown(entries: Sequence[tuple[str, Mapping[str, Any]]],
                                 columns: str = "headline") -> str:
    """The per-dataset table as Markdown, with a line on units."""
    note = ("Per-dataset metrics: accuracy, AP and CIDEr x100 (as papers print them), "
            "depth RMSE in metres, normal angles in degrees.\n\n")
    return note + to_markdown(dataset_leaderboard_frame(entries, columns))
