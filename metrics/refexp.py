"""GRIT referring-expression score (grit_official ``metrics/refexp.py``, spec section 2.4)."""
from __future__ import annotations

from typing import Any

from metrics.boxes import as_boxes, box_iou
from metrics.errors import UnscorableInput

# Strictly greater: an IoU of exactly 0.5 (which the +1e-6 makes 0.49999...) scores 0.
REFEXP_IOU_THRESHOLD = 0.5


def refexp_score(pred_boxes: Any, gt_boxes: Any, *, threshold: float = REFEXP_IOU_THRESHOLD) -> float:
    """1.0 if the FIRST predicted box has IoU > 0.5 with the FIRST ground-truth box, else 0.0.

    Extra predicted boxes are ignored and not validated, as in the official code.

    Args:
        pred_boxes: ``[P, 4]`` ``x1 y1 x2 y2`` pixels; an empty list scores 0.
        gt_boxes: ``[G, 4]``; GRIT has exactly one.
        threshold: IoU threshold (official 0.5, strict ``>``).

    Raises:
        UnscorableInput: no ground-truth box (the official code raises IndexError), or a used
            box is not 4 finite numbers.
    """
    if isinstance(pred_boxes, (str, bytes, dict)) or not hasattr(pred_boxes, "__len__"):
        raise UnscorableInput(f"predicted boxes must be a list of [x1, y1, x2, y2], got {type(pred_boxes).__name__}")
    if len(pred_boxes) == 0:
        return 0.0
    if isinstance(gt_boxes, (str, bytes, dict)) or not hasattr(gt_boxes, "__len__") or len(gt_boxes) == 0:
        raise UnscorableInput("refexp ground truth has no box; it needs exactly one [x1, y1, x2, y2]")
    pred = as_boxes([pred_boxes[0]], "predicted")
    gt = as_boxes([gt_boxes[0]], "ground-truth")
    return float(box_iou(pred, gt)[0, 0] > threshold)
