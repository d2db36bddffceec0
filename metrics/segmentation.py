"""GRIT segmentation score (grit_official ``metrics/segmentation.py``, spec section 2.6).

Documented choices where the official code crashes (spec section 6.5):

* Stuff query whose merged prediction has another size than the GT: the official code
  raises (``cv2.resize`` rejects the bool merged mask). We resize the merged mask, as a 0/1
  uint8 mask, exactly as a thing prediction would be resized.
* Stuff query with an empty GT mask list and at least one predicted mask: the official code
  raises (the merged GT is a scalar ``False``); we raise ``UnscorableInput``. With no
  prediction either, it scores 0 like the official code.
* Stuff query whose predicted (or GT) masks have different sizes among themselves: the
  official OR-merge fails; we raise ``UnscorableInput``.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from metrics.errors import UnscorableInput
from metrics.mask_resize import resize_linear_uint8
from metrics.matching import one_to_one_score
from metrics.rle import rle_decode

STUFF_MARKER = "(Stuff)"
# np.bitwise_count is numpy >= 2.0; older numpy (pyproject allows 1.24) uses a byte table.
_POPCOUNT = getattr(np, "bitwise_count", None) or (
    lambda a, _t=np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8): _t[a])
# The official scorer adds 1e-6 to the union, so a perfect 100-pixel mask scores 0.99999999.
MASK_IOU_EPS = 1e-6


def is_stuff_query(gt_task_query: str | None) -> bool:
    """True when the GT ``input.task_query`` contains the literal ``(Stuff)`` (evaluate.py:88)."""
    return gt_task_query is not None and STUFF_MARKER in gt_task_query


def _resized_to(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if mask.shape == shape:
        return mask
    if min(mask.shape) == 0 or min(shape) == 0:
        raise UnscorableInput(f"cannot resize a {mask.shape[0]}x{mask.shape[1]} mask to {shape[0]}x{shape[1]}")
    # cv2.resize(mask, (W, H)) on the uint8 0/1 mask, as the official compute_iou does.
    return resize_linear_uint8(mask.astype(np.uint8), shape[1], shape[0])


def mask_iou_matrix(pred_masks: Sequence[np.ndarray], gt_masks: Sequence[np.ndarray]) -> np.ndarray:
    """IoU of every predicted mask with every GT mask, official rule.

    A prediction whose size differs from a GT's is first resized to the GT's size like
    ``cv2.resize`` (bilinear, nonzero = foreground). ``IoU = |p & g| / (|p | g| + 1e-6)``.

    Args:
        pred_masks: P arrays ``[h_i, w_i]`` (0/1 uint8 or bool).
        gt_masks: G arrays ``[H_j, W_j]``.

    Returns:
        ``[P, G]`` float64, equal to the official per-pair loop.
    """
    ious = np.zeros((len(pred_masks), len(gt_masks)), dtype=np.float64)
    if ious.size == 0:
        return ious
    # Group GT masks by size so that each prediction is resized once per distinct GT size.
    by_shape: dict[tuple[int, int], list[int]] = {}
    for j, g in enumerate(gt_masks):
        by_shape.setdefault(tuple(g.shape), []).append(j)
    for shape, cols in by_shape.items():
        # Bit-packed masks: intersections and areas are exact integer popcounts, and far
        # cheaper than a float matrix product on a busy CPU.
        p = np.packbits(np.stack([_resized_to(m, shape).reshape(-1) != 0 for m in pred_masks]), axis=1)
        g = np.packbits(np.stack([gt_masks[j].reshape(-1) != 0 for j in cols]), axis=1)
        area_p = _POPCOUNT(p).sum(axis=1, dtype=np.int64)
        area_g = _POPCOUNT(g).sum(axis=1, dtype=np.int64)
        inter = np.stack([_POPCOUNT(row & g).sum(axis=1, dtype=np.int64) for row in p])
        union = area_p[:, None] + area_g[None, :] - inter
        # int / float64 as the official np.sum(...) / (union + 1e-6).
        ious[:, cols] = inter / (union + MASK_IOU_EPS)
    return ious


def _merge(masks: Sequence[np.ndarray], what: str) -> np.ndarray:
    shapes = {m.shape for m in masks}
    if len(shapes) > 1:
        raise UnscorableInput(
            f"{what} masks of a (Stuff) query have different sizes {sorted(shapes)}; they cannot be merged")
    return np.logical_or.reduce([m != 0 for m in masks])


def segmentation_score_dense(pred_masks: Sequence[np.ndarray], gt_masks: Sequence[np.ndarray],
                             is_stuff: bool) -> float:
    """Segmentation score on decoded masks (see ``segmentation_score``)."""
    if is_stuff:
        if len(gt_masks) == 0:
            if len(pred_masks) == 0:
                return 0.0  # official: [] vs the scalar merged GT -> "one side empty" -> 0
            raise UnscorableInput("(Stuff) query with no ground-truth mask; it needs at least one")
        pred_masks = [_merge(pred_masks, "predicted").astype(np.uint8)] if len(pred_masks) else []
        gt_masks = [_merge(gt_masks, "ground-truth")]
    return one_to_one_score(mask_iou_matrix(pred_masks, gt_masks), cost="negative")


def segmentation_score(pred_rles: Sequence[dict[str, Any]], gt_rles: Sequence[dict[str, Any]],
                       is_stuff: bool) -> float:
    """Per-sample GRIT segmentation score.

    Masks are decoded with pycocotools. For a stuff query (GT query contains ``(Stuff)``,
    see ``is_stuff_query``) predictions are OR-merged into one mask and GTs into one.
    Then the shared one-to-one rule on mask IoU (cost ``-IoU``): empty vs empty 1, one side
    empty 0, else ``sum matched IoU / (#pred + #gt unmatched)``. An all-zero predicted mask
    has IoU 0 and still counts; an all-zero GT with an all-zero prediction scores 0.

    Args:
        pred_rles: list of ``{"size": [H, W], "counts": str}``.
        gt_rles: list of GT RLE dicts in the same format.
        is_stuff: whether the query is a stuff query.

    Returns:
        Score in [0, 1].

    Raises:
        UnscorableInput: masks not a list, an RLE with ``shape`` instead of ``size``,
            uncompressed (list) counts, malformed counts, or one of the stuff cases in the
            module docstring.
    """
    for what, rles in (("predicted", pred_rles), ("ground-truth", gt_rles)):
        if not isinstance(rles, (list, tuple)):
            raise UnscorableInput(
                f"{what} masks must be a list of RLE dicts, got {type(rles).__name__} (wrap a single mask in a list)")
    pred = [rle_decode(r, f"predicted mask {i}") for i, r in enumerate(pred_rles)]
    gt = [rle_decode(r, f"ground-truth mask {j}") for j, r in enumerate(gt_rles)]
    return segmentation_score_dense(pred, gt, is_stuff)
