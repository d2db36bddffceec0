"""Monocular depth metrics as the NYUv2 (Eigen split) literature reports them.

Per image, over valid pixels: RMSE (metres; the number the Unified-IO paper reports for NYUv2,
0.385 for XL), absolute relative error, and the threshold accuracies
``delta_k = share of pixels with max(gt/pred, pred/gt) < 1.25**k`` for k = 1, 2, 3.

Conventions (the Eigen-split evaluation code of BTS / AdaBins / NeWCRFs, followed on purpose):

* valid pixels: ``min_depth < gt < max_depth`` with 1e-3 m and 10 m (NYUv2's sensor range);
  a 16-bit PNG's 0 ("no reading") is therefore invalid. ``max_depth=None`` drops the cap;
* the prediction is clipped to ``[min_depth, max_depth]`` before scoring, so a zero or negative
  prediction is a large error, never a division by zero;
* the corpus numbers are the MEAN OF PER-IMAGE metrics (RMSE is computed per image, then
  averaged), not errors pooled over all pixels; :func:`aggregate_depth` does that averaging.
* optional Eigen crop (rows 45:471, cols 41:601 of the 480x640 frame).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from metrics.errors import UnscorableInput

DEPTH_METRICS = ("rmse", "abs_rel", "delta1", "delta2", "delta3")
# Eigen et al.'s crop of the 480x640 NYUv2 frame, as used by the standard evaluation scripts.
EIGEN_CROP = (slice(45, 471), slice(41, 601))


def depth_metrics(
    pred: np.ndarray,
    gt: np.ndarray,
    *,
    min_depth: float = 1e-3,
    max_depth: float | None = 10.0,
    eigen_crop: bool = False,
) -> dict[str, float]:
    """Depth errors of one image.

    Args:
        pred: [H, W] predicted depth in metres.
        gt: [H, W] ground-truth depth in metres (0 where the sensor has no reading).
        min_depth, max_depth: the valid ground-truth range in metres (exclusive).
        eigen_crop: score only Eigen's crop (needs a 480x640 image).

    Returns:
        ``{"rmse": m, "abs_rel": ratio, "delta1": share, "delta2": share, "delta3": share,
        "n_valid": pixels}``.

    Raises:
        UnscorableInput: shapes differ or are not 2-D, values are not finite, or no pixel of
            the ground truth is valid.
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.ndim != 2 or pred.shape != gt.shape:
        raise UnscorableInput(
            f"depth maps must be 2-D and equal in shape: prediction {pred.shape}, "
            f"ground truth {gt.shape}"
        )
    if eigen_crop:
        if gt.shape != (480, 640):
            raise UnscorableInput(f"the Eigen crop needs a 480x640 depth map, got {gt.shape}")
        pred, gt = pred[EIGEN_CROP], gt[EIGEN_CROP]
    if not np.all(np.isfinite(pred)):
        raise UnscorableInput("predicted depth has NaN or infinite values")
    upper = np.inf if max_depth is None else max_depth
    valid = (gt > min_depth) & (gt < upper)
    if not valid.any():
        raise UnscorableInput(f"no valid ground-truth pixel (depth in ({min_depth}, {upper}) m)")
    g = gt[valid]
    p = np.clip(pred[valid], min_depth, upper)
    ratio = np.maximum(g / p, p / g)
    return {
        "rmse": float(np.sqrt(np.mean((g - p) ** 2))),
        "abs_rel": float(np.mean(np.abs(g - p) / g)),
        "delta1": float(np.mean(ratio < 1.25)),
        "delta2": float(np.mean(ratio < 1.25**2)),
        "delta3": float(np.mean(ratio < 1.25**3)),
        "n_valid": int(valid.sum()),
    }


def aggregate_depth(per_image: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Corpus depth metrics: the mean over images of each per-image metric.

    Args:
        per_image: outputs of :func:`depth_metrics`, one per image.

    Returns:
        ``{metric: mean}`` for every name in ``DEPTH_METRICS``, plus ``n_images``.
    """
    if not per_image:
        raise UnscorableInput("no images to aggregate")
    out = {name: float(np.mean([m[name] for m in per_image])) for name in DEPTH_METRICS}
    out["n_images"] = len(per_image)
    return out
