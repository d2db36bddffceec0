"""GRIT surface-normal metric (`grit_official/metrics/normal.py` `sn_metric`, R-RANSAC mode).

Per sample: decode both PNGs to unit normals, take the valid pixels from the GT alone,
search a global rotation of the prediction with the official R-RANSAC (see
`metrics.normal_ransac`), and score the share of valid pixels within 11.25 degrees. The
score equals the official one bit for bit in our environment (numpy 2.4 / scipy 1.17); see
GRIT_SPEC.md section 2.8 for why the era's numpy 1.21 can differ on poor predictions.

Where the official code crashes we raise `UnscorableInput` or return a documented value:

| input | official | here |
|---|---|---|
| pred and GT shapes differ | AssertionError | UnscorableInput naming both shapes |
| not uint8 [H, W, 3 or 4] (grayscale, 16-bit, ...) | garbage or IndexError | UnscorableInput |
| < 500 valid GT pixels (0 included) | ValueError in rng.choice | UnscorableInput |
| valid pixels N < image height H | IndexError (pairs drawn from range(H)) | pairs drawn from range(N) (default) or UnscorableInput |
| exactly opposite neighbouring GT normals | RuntimeWarning -> error | dot clipped to [-1, 1]: 180 deg, a sharp edge |
| no hypothesis finds an inlier | UnboundLocalError | identity rotation |
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from metrics.errors import UnscorableInput
from metrics.normal_ransac import INLIER_DEG, N_ITERS, SUBSET_SIZE, count_below_angle, \
    ransac_rotation, rotate

# GT colours that mean "no label" (official get_mask_from_normals).
INVALID_COLOURS = ((0, 0, 0), (128, 128, 128), (201, 201, 201))
SHARP_EDGE_DEG = 40.0

# Band around cos(40 deg) inside which the official arccos expression decides.
_BAND = 1e-9


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


def _unit_planar(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> None:
    """Divide (x, y, z) by their length in place, with the bits of the official
    `n /= np.linalg.norm(n, ord=2, axis=-1, keepdims=True)`.

    numpy's norm is sqrt(add.reduce(n * n)); over a length-3 axis that sum is
    (x*x + y*y) + z*z. Written out on separate channels because the reduction over a
    length-3 axis, and the broadcast division, are slow.
    """
    length = x * x
    length += y * y
    length += z * z
    np.sqrt(length, out=length)
    x /= length
    y /= length
    z /= length


def _decode_planar(rgb: np.ndarray) -> list[np.ndarray]:
    """Official `rgb2normal` as three channel arrays: [..., 3] uint8 -> 3 x [...] float64."""
    # (rgb - 122.5) / 122.5 per channel, as the official code computes it. Note 122.5, not
    # 127.5 (spec section 6 item 13): kept on purpose.
    xyz = [(rgb[..., c] - 122.5) / 122.5 for c in range(3)]
    _unit_planar(*xyz)
    return xyz


def decode_normals(rgb: np.ndarray) -> np.ndarray:
    """Official `rgb2normal`: (rgb - 122.5) / 122.5, then unit length per pixel.

    Args:
        rgb: [..., 3] uint8 colours.

    Returns:
        [..., 3] float64 unit normals (never zero: 122.5 is not an integer).
    """
    return np.stack(_decode_planar(rgb), axis=-1)


def _sharp_pairs(a: list[np.ndarray], b: list[np.ndarray]) -> np.ndarray:
    """Official sharp-edge test for neighbour pairs: arccos(min(1, a.b)) / pi * 180 > 40.

    The official code clips only from above, so an exactly opposite pair (dot < -1 by
    rounding) makes arccos warn, and evaluate.py turns that into an error (spec section 6
    item 24). We clip to [-1, 1]: such a pair is 180 deg apart, a sharp edge.

    Args:
        a, b: channels (3 x [H', W'] float64) of the unit normals of the two pixels.

    Returns:
        [H', W'] bool, True where the pair is a sharp edge.
    """
    # Same summation order as the official (a * b).sum(2).
    dot = a[0] * b[0]
    dot += a[1] * b[1]
    dot += a[2] * b[2]
    cos_t = np.cos(np.radians(SHARP_EDGE_DEG))
    sharp = dot < cos_t - _BAND
    near = (dot <= cos_t + _BAND) & ~sharp
    if near.any():
        sharp[near] = np.arccos(np.clip(dot[near], -1.0, 1.0)) / np.pi * 180 > SHARP_EDGE_DEG
    return sharp


def _valid_mask_and_normals(gt_rgb: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """`valid_mask_from_gt` plus the decoded GT channels it computed on the way."""
    r, g, b = gt_rgb[..., 0], gt_rgb[..., 1], gt_rgb[..., 2]
    # All three invalid colours are grays: invalid = r == g == b and r is one of them.
    grey_invalid = np.zeros(256, dtype=bool)
    grey_invalid[[c[0] for c in INVALID_COLOURS]] = True
    valid = ~((r == g) & (g == b) & grey_invalid[r])
    n = _decode_planar(gt_rgb)
    lr = _sharp_pairs([c[:, 1:] for c in n], [c[:, :-1] for c in n])  # [H, W-1]
    ud = _sharp_pairs([c[1:] for c in n], [c[:-1] for c in n])  # [H-1, W]
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


def _valid_rows(channels: list[np.ndarray], flat: np.ndarray | None) -> np.ndarray:
    """Official `U_flat = U.reshape(h*w, 3)[M_flat]; U_flat /= norm(U_flat)`: [N, 3].

    `flat=None` means the channels hold the valid pixels already (and may be overwritten).
    """
    picked = [c.reshape(-1)[flat] if flat is not None else c for c in channels]
    _unit_planar(*picked)  # the second normalisation can move the last bit: kept
    return np.stack(picked, axis=1)


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
    valid, gt_normals = _valid_mask_and_normals(gt)
    flat = np.flatnonzero(valid)
    n_valid = int(flat.size)
    if n_valid < subset_size:
        raise UnscorableInput(
            f"ground-truth normal map has {n_valid} valid pixels; the official metric needs "
            f"at least {subset_size}")
    height = gt.shape[0]
    if height > n_valid and height_exceeds_valid == "raise":
        raise UnscorableInput(
            f"ground-truth normal map has {n_valid} valid pixels but {height} rows; the "
            "official metric draws RANSAC pairs from range(rows) and fails")
    # Decoding only the valid pixels of the prediction gives the official rows.
    pred_rows = pred.reshape(-1, 3)[flat]
    u = _valid_rows(_decode_planar(pred_rows), None)
    v = _valid_rows(gt_normals, flat)
    rotation = ransac_rotation(u, v, min(height, n_valid), n_iters, subset_size, inlier_deg)
    inliers = int(count_below_angle(rotate(rotation[None], u[None]), v[None], inlier_deg)[0])
    # Official: score = 100 * inliers / N, then sn_metric returns score / 100.0 (kept for
    # bit equality with the official float).
    return float(100 * inliers / n_valid / 100.0)
