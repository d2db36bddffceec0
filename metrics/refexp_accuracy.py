"""Referring-expression grounding on RefCOCO / RefCOCO+ / RefCOCOg: Acc@0.5 and mean IoU.

The community number (MAttNet, UNITER, MDETR, Unified-IO) is the share of expressions whose
single predicted box has IoU > 0.5 with the ground-truth box. The IoU here is the PLAIN
continuous one, ``inter / union`` with no "+1 pixel" and no epsilon, unlike GRIT's
``metrics.boxes`` (which adds 1e-6 to the union); an exact 0.5 therefore fails the strict
threshold here just as it does in GRIT. ``inclusive=True`` gives MAttNet's ``>= 0.5``.
Boxes are ``[x1, y1, x2, y2]`` pixels (the readers convert COCO's xywh).
"""
from __future__ import annotations

import numpy as np

from metrics.errors import UnscorableInput


def paired_iou(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """IoU of each predicted box with its own ground-truth box.

    Args:
        pred: [N, 4] float, ``x1 y1 x2 y2`` pixels.
        gt: [N, 4] float, same layout.

    Returns:
        [N] float64 in [0, 1]; a degenerate pair (zero union) scores 0.
    """
    pred = _as_boxes(pred, "predicted")
    gt = _as_boxes(gt, "ground-truth")
    if pred.shape != gt.shape:
        raise UnscorableInput(f"{len(pred)} predicted boxes for {len(gt)} ground-truth boxes")
    iw = np.clip(np.minimum(pred[:, 2], gt[:, 2]) - np.maximum(pred[:, 0], gt[:, 0]), 0, None)
    ih = np.clip(np.minimum(pred[:, 3], gt[:, 3]) - np.maximum(pred[:, 1], gt[:, 1]), 0, None)
    inter = iw * ih
    union = _area(pred) + _area(gt) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def refexp_accuracy(
    pred: np.ndarray, gt: np.ndarray, *, threshold: float = 0.5, inclusive: bool = False
) -> dict[str, float]:
    """Acc@threshold and mean IoU over N expressions.

    Args:
        pred: [N, 4] the top predicted box per expression (``x1 y1 x2 y2`` pixels).
        gt: [N, 4] the ground-truth box per expression.
        threshold: IoU threshold (0.5 in every RefCOCO paper).
        inclusive: count IoU == threshold as a hit (MAttNet's ``>=``); default strict ``>``.

    Returns:
        ``{"accuracy": share, "mean_iou": mean, "n": N}``.
    """
    iou = paired_iou(pred, gt)
    if iou.size == 0:
        raise UnscorableInput("no expressions to score")
    hit = iou >= threshold if inclusive else iou > threshold
    return {"accuracy": float(hit.mean()), "mean_iou": float(iou.mean()), "n": int(iou.size)}


def _area(b: np.ndarray) -> np.ndarray:
    return np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)


def _as_boxes(boxes, what: str) -> np.ndarray:
    try:
        arr = np.asarray(boxes, dtype=np.float64)
    except (TypeError, ValueError):
        raise UnscorableInput(f"{what} boxes are not numbers") from None
    if arr.size == 0:
        arr = arr.reshape(0, 4)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise UnscorableInput(f"{what} boxes must be [N, 4] x1 y1 x2 y2, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise UnscorableInput(f"{what} boxes have NaN or infinite coordinates")
    return arr
