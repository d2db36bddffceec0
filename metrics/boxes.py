"""Axis-aligned box IoU exactly as the official GRIT scorer computes it.

GRIT boxes are corner format ``[x1, y1, x2, y2]`` in pixels (never xywh). The official rule
(``metrics/localization.py`` of grit_official) differs from COCO in two ways that we keep on
purpose: there is no "+1 pixel" in the area, and the IoU denominator has ``+ 1e-6``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from metrics.errors import UnscorableInput

# The official scorer adds 1e-6 to the union, so a perfect 40x50 box scores 0.9999999995.
IOU_EPS = 1e-6


def as_boxes(boxes: Any, what: str = "predicted") -> np.ndarray:
    """Validate a list of boxes and return it as an array.

    Args:
        boxes: a sequence of ``[x1, y1, x2, y2]`` (pixels), or an array ``[N, 4]``.
        what: "predicted" or "ground-truth", used in error messages.

    Returns:
        ``[N, 4]`` float64 array (``[0, 4]`` for an empty list).

    Raises:
        UnscorableInput: a box does not have exactly 4 numbers (the official code raises
            ValueError while unpacking), or a coordinate is not a finite number (the official
            code would crash in the assignment solver or silently score NaN).
    """
    if isinstance(boxes, (str, bytes, dict)) or not hasattr(boxes, "__len__"):
        raise UnscorableInput(f"{what} boxes must be a list of [x1, y1, x2, y2], got {type(boxes).__name__}")
    if isinstance(boxes, np.ndarray) and boxes.ndim == 2 and boxes.shape[1] == 4:
        arr = boxes.astype(np.float64)
        bad = np.flatnonzero(~np.all(np.isfinite(arr), axis=1))
        if bad.size:
            raise UnscorableInput(f"{what} box {bad[0]} has a coordinate that is not a finite number")
        return arr
    rows = []
    for i, box in enumerate(boxes):
        if isinstance(box, (str, bytes, dict)) or not hasattr(box, "__len__"):
            raise UnscorableInput(f"{what} box {i} is not a list of 4 numbers [x1, y1, x2, y2]: {box!r}")
        if len(box) != 4:
            raise UnscorableInput(
                f"{what} box {i} has {len(box)} numbers; a box is exactly 4 numbers [x1, y1, x2, y2] (pixels)"
            )
        try:
            row = np.asarray(box, dtype=np.float64)
        except (TypeError, ValueError):
            raise UnscorableInput(f"{what} box {i} is not 4 numbers: {box!r}") from None
        if row.shape != (4,) or not np.all(np.isfinite(row)):
            raise UnscorableInput(f"{what} box {i} has a coordinate that is not a finite number: {box!r}")
        rows.append(row)
    if not rows:
        return np.zeros((0, 4), dtype=np.float64)
    return np.stack(rows)


def _area(x1: np.ndarray, y1: np.ndarray, x2: np.ndarray, y2: np.ndarray) -> np.ndarray:
    # Official `compute_area`: (x2-x1)*(y2-y1), or 0 when x2<=x1 or y2<=y1. No +1 pixel.
    return np.where((x2 <= x1) | (y2 <= y1), 0.0, (x2 - x1) * (y2 - y1))


def box_iou(pred: Any, gt: Any) -> np.ndarray:
    """IoU of every predicted box with every ground-truth box, official GRIT rule.

    ``IoU = inter / (area_p + area_g - inter + 1e-6)``, with degenerate boxes (x2<=x1 or
    y2<=y1) having area 0. Coordinates are not clipped to the image.

    Args:
        pred: ``[P, 4]`` boxes ``x1 y1 x2 y2`` in pixels (list or array).
        gt: ``[G, 4]`` boxes in pixels.

    Returns:
        ``[P, G]`` float64 IoU matrix, bit-identical to the official per-pair loop.
    """
    p = as_boxes(pred, "predicted")
    g = as_boxes(gt, "ground-truth")
    px1, py1, px2, py2 = (p[:, k, None] for k in range(4))
    gx1, gy1, gx2, gy2 = (g[None, :, k] for k in range(4))
    inter = _area(np.maximum(px1, gx1), np.maximum(py1, gy1), np.minimum(px2, gx2), np.minimum(py2, gy2))
    union = _area(px1, py1, px2, py2) + _area(gx1, gy1, gx2, gy2) - inter
    return inter / (union + IOU_EPS)
