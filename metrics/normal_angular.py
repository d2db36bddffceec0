"""Surface-normal angular error: the NYUv2 community's numbers (not GRIT's RANSAC metric).

Per image, the angle in degrees between the predicted and ground-truth unit normals at every
valid pixel; over a dataset, the errors of ALL valid pixels of all images are pooled (the
convention of Eigen & Fergus 2015, Bae et al. 2021 and their evaluation scripts) and
summarised as mean, median, RMSE and the share of pixels within 11.25, 22.5 and 30 degrees.
No rotation alignment is done (GRIT's ``metrics/normal.py`` does that).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from metrics.errors import UnscorableInput

ANGLE_THRESHOLDS_DEG = (11.25, 22.5, 30.0)


def decode_normal_png(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decodes an 8-bit normal map encoded as ``uint8((n + 1) / 2 * 255)``.

    Args:
        rgb: [H, W, 3] (or [H, W, 4]; alpha ignored) uint8.

    Returns:
        ``(normals, valid)``: [H, W, 3] float64 unit vectors and [H, W] bool. Pixels stored as
        (0, 0, 0), the usual "no ground truth" colour, are invalid.
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
        raise UnscorableInput(f"a normal map must be [H, W, 3] RGB, got shape {rgb.shape}")
    rgb = rgb[..., :3]
    normals = rgb.astype(np.float64) / 255.0 * 2.0 - 1.0
    valid = np.any(rgb != 0, axis=-1)
    return normals, valid


def angular_errors(pred: np.ndarray, gt: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Angles between predicted and ground-truth normals at the valid pixels of one image.

    Args:
        pred: [H, W, 3] predicted normals (any length; normalised here).
        gt: [H, W, 3] ground-truth normals (any length; normalised here).
        valid: [H, W] bool; defaults to pixels where both vectors are non-zero.

    Returns:
        [K] float64 angles in degrees, K = number of valid pixels, row-major order.
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.ndim != 3 or pred.shape[-1] != 3 or pred.shape != gt.shape:
        raise UnscorableInput(
            f"normal maps must be [H, W, 3] and equal in shape: prediction {pred.shape}, "
            f"ground truth {gt.shape}"
        )
    p_len = np.linalg.norm(pred, axis=-1)
    g_len = np.linalg.norm(gt, axis=-1)
    usable = (p_len > 0) & (g_len > 0)
    if valid is None:
        valid = usable
    else:
        valid = np.asarray(valid, dtype=bool)
        if valid.shape != gt.shape[:2]:
            raise UnscorableInput(f"valid mask shape {valid.shape} != normal map {gt.shape[:2]}")
        # A zero-length prediction has no direction: count it as the worst case (180 deg)
        # rather than dropping the pixel, so a model cannot gain by predicting nothing.
        valid = valid & (g_len > 0)
    if not np.all(np.isfinite(pred[valid])):
        raise UnscorableInput("predicted normals have NaN or infinite values")
    p = pred[valid]
    g = gt[valid] / g_len[valid, None]
    p_norm = p_len[valid]
    cos = np.full(p.shape[0], -1.0)
    ok = p_norm > 0
    cos[ok] = np.einsum("ij,ij->i", p[ok], g[ok]) / p_norm[ok]
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def summarize_angular_errors(errors: Sequence[np.ndarray]) -> dict[str, float]:
    """Pools the per-pixel errors of several images and summarises them.

    Args:
        errors: per image, [K_i] angles in degrees (from :func:`angular_errors`).

    Returns:
        ``{"mean", "median", "rmse"}`` in degrees and ``{"within_11.25", "within_22.5",
        "within_30"}`` as shares in [0, 1], plus ``n_pixels``.
    """
    arrays = [np.asarray(e, dtype=np.float64).ravel() for e in errors]
    pooled = np.concatenate(arrays) if arrays else np.zeros(0)
    if pooled.size == 0:
        raise UnscorableInput("no valid pixels to summarise")
    out = {
        "mean": float(np.mean(pooled)),
        "median": float(np.median(pooled)),
        "rmse": float(np.sqrt(np.mean(pooled**2))),
    }
    for t in ANGLE_THRESHOLDS_DEG:
        out[f"within_{t:g}"] = float(np.mean(pooled < t))
    out["n_pixels"] = int(pooled.size)
    return out
