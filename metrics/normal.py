"""GRIT surface-normal metric (`grit_official/metrics/normal.py` `sn_metric`, R-RANSAC mode).

Per sample: decode both PNGs to unit normals, take the valid pixels from the GT alone,
search a global rotation of the prediction with the official R-RANSAC (see
`metrics.normal_ransac`), and score the share of valid pixels within 11.25 degrees. The
score equals the official one bit for bit in our environment (numpy 2.4 / scipy 1.17); see
GRIT_SPEC.md section 2.8 for why the era's numpy 1.21 can differ on poor predictions.

Speed (~30 ms CPU per 480x640 map instead of ~0.6 s for the official loop): every angle test
is screened in float32 and only the few pixels the screen cannot decide are recomputed in the
official float64 (`metrics.normal_decode`, `metrics.normal_inliers`); the official random
streams depend only on sizes, so they are reproduced by vector arithmetic once per size and
memoised (`metrics.numpy_streams`, `metrics.normal_ransac`).

Where the official code crashes we raise `UnscorableInput` or return a documented value:

| input | official | here |
|---|---|---|
| pred and GT shapes differ | AssertionError | UnscorableInput naming both shapes |
| not uint8 [H, W, 3 or 4] (grayscale, 16-bit, ...) | garbage or IndexError | UnscorableInput |
| < 500 valid GT pixels (0 included) | ValueError in rng.choice | UnscorableInput |
| valid pixels N < image height H | IndexError (pairs drawn from range(H)) | pairs drawn from range(N) (default) or UnscorableInput |
| exactly opposite neighbouring GT normals | RuntimeWarning -> error | dot clipped to [-1, 1]: 180 deg, a sharp edge |
| no hypothesis finds an inlier | UnboundLocalError | identity rotation |
| a single-row image | ValueError (2 pair indices from range(1)) | UnscorableInput |
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from metrics.errors import UnscorableInput
from metrics.normal_decode import SCREEN_BAND, decode_normals, official_unit_rows, unit_planar32
from metrics.normal_inliers import INLIER_DEG, mask_inlier_count
from metrics.normal_ransac import N_ITERS, SUBSET_SIZE, ransac_rotation

__all__ = ["INVALID_COLOURS", "SHARP_EDGE_DEG", "check_normal_image", "decode_normals",
           "normal_score", "valid_mask_from_gt"]

# GT colours that mean "no label" (official get_mask_from_normals).
INVALID_COLOURS = ((0, 0, 0), (128, 128, 128), (201, 201, 201))
SHARP_EDGE_DEG = 40.0


def check_normal_image(rgb: np.ndarray, what: str) -> np.ndarray:
    """Validate a decoded normal PNG and drop its alpha channel.

    Args:
        rgb: the image array as read from the PNG.
        what: "prediction" or "ground truth", used in the message.

    Returns:
        [H, W, 3] uint8 view.

    Raises:
        UnscorableInput: not an array, not uint8 (e.g. a 16-bit PNG), not [H, W, 3 or 4]
            (e.g. grayscale), or empty.
    """
    if not isinstance(rgb, np.ndarray):
        raise UnscorableInput(f"{what} normal map is a {type(rgb).__name__}, not an array")
    if rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
        raise UnscorableInput(
            f"{what} normal map has shape {rgb.shape}; expected [H, W, 3] RGB or [H, W, 4] "
            "RGBA (a grayscale or 2-channel PNG cannot encode normals)")
    if rgb.dtype != np.uint8:
        raise UnscorableInput(
            f"{what} normal map has dtype {rgb.dtype}; expected uint8 (8-bit PNG, values "
            "0-255); 16-bit PNGs are not GRIT normal maps")
    if rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise UnscorableInput(f"{what} normal map is empty (shape {rgb.shape})")
    return rgb[:, :, :3]  # the official reader keeps [:, :, :3]: alpha is dropped


def _sharp_pairs(a: np.ndarray, b: np.ndarray, colours_a: np.ndarray,
                 colours_b: np.ndarray) -> np.ndarray:
    """Official sharp-edge test for neighbour pairs: arccos(min(1, a.b)) / pi * 180 > 40.

    Screened on float32 unit normals; pairs within `SCREEN_BAND` of cos(40 deg) are
    recomputed with the official float64 decoding and expression.

    The official code clips only from above, so an exactly opposite pair (dot < -1 by
    rounding) makes arccos warn, and evaluate.py turns that into an error (spec section 6
    item 24). We clip to [-1, 1]: such a pair is 180 deg apart, a sharp edge.

    Args:
        a, b: [3, H', W'] float32 unit normals (`unit_planar32`) of the two pixels.
        colours_a, colours_b: [H', W', 3] uint8 colours of the same pixels.

    Returns:
        [H', W'] bool, True where the pair is a sharp edge.
    """
    dot = a[0] * b[0]
    tmp = a[1] * b[1]
    dot += tmp
    np.multiply(a[2], b[2], out=tmp)
    dot += tmp
    cos_t = float(np.cos(np.radians(SHARP_EDGE_DEG)))
    sharp = dot < np.float32(cos_t - SCREEN_BAND)
    near = dot <= np.float32(cos_t + SCREEN_BAND)
    near &= ~sharp
    if near.any():
        na, nb = decode_normals(colours_a[near]), decode_normals(colours_b[near])
        # Same summation order as the official (a * b).sum(2).
        exact = na[:, 0] * nb[:, 0] + na[:, 1] * nb[:, 1] + na[:, 2] * nb[:, 2]
        sharp[near] = np.arccos(np.clip(exact, -1.0, 1.0)) / np.pi * 180 > SHARP_EDGE_DEG
    return sharp


def _valid_mask_and_normals(gt_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`valid_mask_from_gt` plus the float32 GT normals it computed on the way."""
    r, g, b = gt_rgb[..., 0], gt_rgb[..., 1], gt_rgb[..., 2]
    # All three invalid colours are grays: test the named values on gray pixels only.
    grey = r == g
    grey &= g == b
    valid = np.ones(r.shape, dtype=bool)
    where = np.flatnonzero(grey)
    level = r.reshape(-1)[where]
    valid.reshape(-1)[where] = ~np.isin(level, [c[0] for c in INVALID_COLOURS])
    n = unit_planar32(gt_rgb)
    lr = _sharp_pairs(n[:, :, 1:], n[:, :, :-1], gt_rgb[:, 1:], gt_rgb[:, :-1])  # [H, W-1]
    ud = _sharp_pairs(n[:, 1:], n[:, :-1], gt_rgb[1:], gt_rgb[:-1])  # [H-1, W]
    valid[:, 1:] &= ~lr
    valid[:, :-1] &= ~lr
    valid[1:] &= ~ud
    valid[:-1] &= ~ud
    return valid, n


def valid_mask_from_gt(gt_rgb: np.ndarray) -> np.ndarray:
    """Official `get_mask_from_normals`: which GT pixels are scored.

    A pixel is invalid if its colour is (0,0,0), (128,128,128) or (201,201,201), or if it
    belongs to a horizontal or vertical neighbour pair more than 40 deg apart (both pixels
    of the pair; invalid colours are decoded and take part, as in the official code).

    Args:
        gt_rgb: [H, W, 3] uint8 (alpha already dropped).

    Returns:
        [H, W] bool, True where the pixel is scored.
    """
    return _valid_mask_and_normals(gt_rgb)[0]


def normal_score(pred_rgb: np.ndarray, gt_rgb: np.ndarray, *,
                 height_exceeds_valid: Literal["draw_from_valid", "raise"] = "draw_from_valid",
                 n_iters: int = N_ITERS, subset_size: int = SUBSET_SIZE,
                 inlier_deg: float = INLIER_DEG) -> float:
    """GRIT per-sample surface-normal score, equal to the official `sn_metric`.

    Args:
        pred_rgb: [H, W, 3 or 4] uint8 predicted normal PNG (alpha dropped).
        gt_rgb: [H, W, 3 or 4] uint8 ground-truth normal PNG (alpha dropped).
        height_exceeds_valid: what to do when the GT has fewer valid pixels N than the image
            has rows H. The official code draws RANSAC pair indices from range(H) instead of
            range(N) (spec section 6 item 10) and then almost surely raises IndexError.
            "draw_from_valid" (default) draws from range(N), which is what the code meant,
            so such an image still gets a score; "raise" raises UnscorableInput. Images with
            N >= H, which is every image the leaderboard could score, are unaffected.
        n_iters, subset_size, inlier_deg: official 500, 500, 11.25.

    Returns:
        Share in [0, 1] of valid GT pixels whose normal is within `inlier_deg` of the
        prediction after the chosen global rotation.

    Raises:
        UnscorableInput: see the module table (shapes, dtype, too few valid pixels).
    """
    pred = check_normal_image(pred_rgb, "prediction")
    gt = check_normal_image(gt_rgb, "ground truth")
    if pred.shape != gt.shape:
        raise UnscorableInput(
            f"prediction normal map is {pred.shape[1]}x{pred.shape[0]} (shape {pred.shape}) but "
            f"the ground truth is {gt.shape[1]}x{gt.shape[0]} (shape {gt.shape}); the official "
            "metric does not resize")
    valid, gt32 = _valid_mask_and_normals(gt)
    flat = np.flatnonzero(valid)
    n_valid = int(flat.size)
    if n_valid < subset_size:
        raise UnscorableInput(
            f"ground-truth normal map has {n_valid} valid pixels; the official metric needs "
            f"at least {subset_size}")
    height = gt.shape[0]
    if height < 2:
        raise UnscorableInput(
            "normal map has a single row; the official metric draws its RANSAC pairs from "
            "range(rows) and needs at least 2")
    if height > n_valid and height_exceeds_valid == "raise":
        raise UnscorableInput(
            f"ground-truth normal map has {n_valid} valid pixels but {height} rows; the "
            "official metric draws RANSAC pairs from range(rows) and fails")
    pred_colours, gt_colours = pred.reshape(-1, 3), gt.reshape(-1, 3)
    # Hypothesis pairs only ever index the first min(H, N) valid pixels (spec 6 item 10):
    # those are the only rows needed in official float64.
    first = flat[:min(height, n_valid)]
    pair_pred = official_unit_rows(pred_colours[first])
    pair_gt = official_unit_rows(gt_colours[first])
    pred32 = unit_planar32(pred).reshape(3, -1)
    gt32 = gt32.reshape(3, -1)
    rotation = ransac_rotation(pair_pred, pair_gt, n_valid, flat, pred32, gt32, pred_colours,
                               gt_colours, n_iters, subset_size, inlier_deg)
    inliers = mask_inlier_count(rotation, valid.reshape(-1), pred32, gt32, pred_colours,
                                gt_colours, inlier_deg)
    # Official: score = 100 * inliers / N, then sn_metric returns score / 100.0 (kept for
    # bit equality with the official float).
    return float(100 * inliers / n_valid / 100.0)
