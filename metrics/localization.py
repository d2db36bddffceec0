"""GRIT localization score (grit_official ``metrics/localization.py``, spec section 2.3)."""
from __future__ import annotations

from typing import Any

from metrics.boxes import box_iou
from metrics.matching import one_to_one_score


def localization_score(pred_boxes: Any, gt_boxes: Any) -> float:
    """Per-sample localization score.

    One-to-one matching of predicted to ground-truth boxes on IoU (cost ``1 - IoU`` as the
    official code), then ``sum of matched IoUs / (#pred + #gt unmatched)``. No IoU threshold,
    box confidences are not used, and a degenerate box still counts as a prediction.

    Args:
        pred_boxes: ``[P, 4]`` ``x1 y1 x2 y2`` pixels (list of lists or array); may be empty.
        gt_boxes: ``[G, 4]`` in the same format; may be empty.

    Returns:
        Score in [0, 1]; 1 when both are empty, 0 when exactly one is.

    Raises:
        UnscorableInput: a box is not exactly 4 finite numbers.
    """
    return one_to_one_score(box_iou(pred_boxes, gt_boxes), cost="one_minus")
