"""GRIT keypoint score (grit_official ``metrics/keypoint.py``, spec section 2.7).

The published file calls ``vis.get_bbox_from_kp`` without importing ``vis`` (NameError for
every non-empty case); we use the module's own box function, as the golden vectors and the
unified-io-2 copy do. Quirks kept on purpose: the OKS "area" is the area of the tight box
around the LABELED GT keypoints (not the COCO segment area), so one labeled keypoint gives
area 0 and only an exact hit scores; the predicted visibility is ignored.

Documented choices where the official code crashes:

* A GT instance with no labeled keypoint (all v = 0): ``UnscorableInput`` (official:
  ValueError from ``min`` of an empty array). Raised only when OKS is computed, i.e. when
  there is at least one prediction; with none the score is 0 as in the official code.
* A prediction or GT instance without exactly 51 numbers: ``UnscorableInput``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from metrics.errors import UnscorableInput
from metrics.matching import one_to_one_score

NUM_KEYPOINTS = 17
POINT_DIM = 3  # x, y, v
# COCO per-keypoint sigmas (nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles).
COCO_SIGMAS = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]) / 10.0
# The official code adds np.spacing(1) (float64 machine epsilon) to the area.
_AREA_EPS = np.spacing(1)


def as_keypoints(points: Any, what: str = "predicted") -> np.ndarray:
    """Validate instances of ``[x, y, v] * 17`` and return them as ``[N, 51]`` float64.

    Raises:
        UnscorableInput: an instance does not have exactly 51 numbers, or a number is not
            finite.
    """
    if isinstance(points, (str, bytes, dict)) or not hasattr(points, "__len__"):
        raise UnscorableInput(f"{what} points must be a list of [x, y, v] * 17 lists, got {type(points).__name__}")
    n_values = NUM_KEYPOINTS * POINT_DIM
    rows = []
    for i, inst in enumerate(points):
        if isinstance(inst, (str, bytes, dict)) or not hasattr(inst, "__len__"):
            raise UnscorableInput(f"{what} keypoint instance {i} is not a flat list of 51 numbers")
        if len(inst) != n_values:
            raise UnscorableInput(
                f"{what} keypoint instance {i} has {len(inst)} values; it must be a flat list "
                "[x1, y1, v1, ..., x17, y17, v17] of 51 numbers (v is needed even where it is ignored)")
        try:
            row = np.asarray(inst, dtype=np.float64)
        except (TypeError, ValueError):
            raise UnscorableInput(f"{what} keypoint instance {i} is not 51 numbers") from None
        if row.shape != (n_values,) or not np.all(np.isfinite(row)):
            raise UnscorableInput(f"{what} keypoint instance {i} has a value that is not a finite number")
        rows.append(row)
    if not rows:
        return np.zeros((0, n_values), dtype=np.float64)
    return np.stack(rows)


def oks_matrix(pred: Any, gt: Any) -> np.ndarray:
    """Object keypoint similarity of every prediction with every GT instance, official rule.

    ``e_k = ((xd-xg)^2 + (yd-yg)^2) / (2 sigma_k)^2 / (area + eps) / 2`` and
    ``OKS = mean over labeled k (GT v > 0) of exp(-e_k)``, with ``area`` the box area of the
    labeled GT keypoints.

    Args:
        pred: ``[P, 51]`` ``x y v`` triples, pixels (v ignored).
        gt: ``[G, 51]`` GT triples; v in {0 unlabeled, 1 labeled occluded, 2 visible}.

    Returns:
        ``[P, G]`` float64, bit-identical to the official per-pair loop.

    Raises:
        UnscorableInput: malformed instances, or a GT instance with no labeled keypoint
            (only checked when P > 0).
    """
    d = as_keypoints(pred, "predicted").reshape(-1, NUM_KEYPOINTS, POINT_DIM)
    g = as_keypoints(gt, "ground-truth").reshape(-1, NUM_KEYPOINTS, POINT_DIM)
    oks = np.zeros((d.shape[0], g.shape[0]), dtype=np.float64)
    if oks.size == 0:
        return oks
    labeled = g[:, :, 2] > 0  # [G, 17]
    empty = np.flatnonzero(~labeled.any(axis=1))
    if empty.size:
        raise UnscorableInput(
            f"ground-truth keypoint instance {empty[0]} has no labeled keypoint (all v = 0); it cannot be scored")
    variances = (COCO_SIGMAS * 2) ** 2
    # Loop over distinct labeled patterns (usually one or two), vectorised over P, G and k.
    # Summing only the labeled entries along the last axis keeps numpy's summation order
    # identical to the official np.sum over e[vg > 0].
    patterns, which = np.unique(labeled, axis=0, return_inverse=True)
    for pattern_id, pattern in enumerate(patterns):
        cols = np.flatnonzero(which.reshape(-1) == pattern_id)
        gk = g[cols][:, pattern]  # [Gp, L, 3]
        x_min, x_max = gk[:, :, 0].min(axis=1), gk[:, :, 0].max(axis=1)
        y_min, y_max = gk[:, :, 1].min(axis=1), gk[:, :, 1].max(axis=1)
        area = (y_max - y_min) * (x_max - x_min)  # [Gp]
        dk = d[:, pattern]  # [P, L, 3]
        dx = dk[:, None, :, 0] - gk[None, :, :, 0]
        dy = dk[:, None, :, 1] - gk[None, :, :, 1]
        e = (dx ** 2 + dy ** 2) / variances[pattern] / (area[None, :, None] + _AREA_EPS) / 2
        oks[:, cols] = np.sum(np.exp(-e), axis=2) / pattern.sum()
    return oks


def keypoint_score(pred_points: Any, gt_points: Any) -> float:
    """Per-sample GRIT keypoint score.

    Empty vs empty 1, one side empty 0; else one-to-one matching on OKS (cost ``-OKS``),
    keeping pairs with OKS > 0: ``sum matched OKS / (#pred + #gt unmatched)``. A far-away
    extra detection has OKS exactly 0 (underflow), is not kept, and still counts in #pred.

    Args:
        pred_points: list of ``[x, y, v] * 17`` (51 numbers) per predicted person.
        gt_points: list of GT instances in the same format.

    Raises:
        UnscorableInput: see ``oks_matrix``.
    """
    return one_to_one_score(oks_matrix(pred_points, gt_points), cost="negative")
