"""Inlier counts of the GRIT normal metric: the official angle test, screened in float32.

Official test (`grit_official/metrics/normal.py` `num_inliers`): a pixel is an inlier of
rotation R when degrees(arccos(clip(dot(R u, v), -1, 1))) < 11.25, where R u comes from
scipy's `Rotation.apply` (one BLAS matmul) and the dot is `np.multiply(a, b).sum(axis=1)`.

We evaluate that test in two stages (`metrics.normal_decode` proves the bound):
1. float32 screen: `dot32` decides every pixel farther than `SCREEN_BAND` from cos(11.25).
2. exact recheck of the few remaining pixels with the official float64 rows, the same BLAS
   matmul per rotation, and the official dot order. The matmul of a [M, 3] block (M >= 2)
   gives each row the bits it gets inside any larger block (OpenBLAS gemm with K = 3 treats
   rows independently; `tests/metrics/test_normal.py` checks it); a single row would go
   through gemv instead, so blocks are padded to two rows.
"""
from __future__ import annotations

import numpy as np

from metrics.normal_decode import SCREEN_BAND, official_unit_rows

INLIER_DEG = 11.25

# Dot products closer than this to the cosine of a threshold angle are re-evaluated with
# the official arccos expression. Rounding in float64 dot products is ~1e-15; 1e-9 is generous.
ARCCOS_BAND = 1e-9


def rotate(rotations: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """`Rotation.apply` for a stack: rotations [K, 3, 3], vectors [K, M, 3] -> [K, M, 3].

    The matmul call is the one scipy's `apply` makes for one rotation and many vectors, so
    each slice gets the same BLAS call and the same bits.
    """
    return np.matmul(rotations, vectors, axes=[(-2, -1), (-1, -2), (-1, -2)])


def below_angle(dot: np.ndarray, degrees: float = INLIER_DEG) -> np.ndarray:
    """Official `degrees(arccos(clip(dot, -1, 1))) < degrees`, elementwise, without the
    arccos where the comparison with cos(degrees) already decides (|gap| > 1e-9)."""
    cos_t = np.cos(np.radians(degrees))
    out = dot > cos_t + ARCCOS_BAND
    near = (dot >= cos_t - ARCCOS_BAND) & ~out
    if near.any():
        out[near] = np.degrees(np.arccos(np.clip(dot[near], -1.0, 1.0))) < degrees
    return out


def official_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`np.multiply(a, b).sum(axis=-1)` over [..., 3], with its summation order
    ((a0*b0 + a1*b1) + a2*b2), without numpy's slow reduction over a length-3 axis."""
    dot = a[..., 0] * b[..., 0]
    dot += a[..., 1] * b[..., 1]
    dot += a[..., 2] * b[..., 2]
    return dot


def count_below_angle(a: np.ndarray, b: np.ndarray, degrees: float = INLIER_DEG) -> np.ndarray:
    """Official `num_inliers` along the last axis: #(degrees(arccos(clip(a.b))) < degrees).

    Args:
        a, b: [..., M, 3] float64 unit vectors.
        degrees: threshold angle; strict `<` as in the official code.

    Returns:
        [...] int64 counts.
    """
    return np.count_nonzero(below_angle(official_dot(a, b), degrees), axis=-1)


def _screen(dot32: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """(surely inside, undecided) masks of a float32 dot-product screen."""
    cos_t = float(np.cos(np.radians(degrees)))
    sure = dot32 > np.float32(cos_t + SCREEN_BAND)
    undecided = dot32 >= np.float32(cos_t - SCREEN_BAND)
    undecided ^= sure  # sure implies the weaker test: xor leaves the band
    return sure, undecided


def _rotated_dot32(rot32: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(R u) . v in float32 for many rotations: rot32 [K, 3, 3], u and v [K, 3, M] -> [K, M].

    One small sgemm per rotation (FMA or not, within the bound of `metrics.normal_decode`).
    """
    rotated = np.matmul(rot32, u)
    rotated *= v
    return rotated.sum(axis=-2)


def _rotated_dot32_one(rot32: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(R u) . v in float32 for one rotation: rot32 [3, 3], u and v [3, P] -> [P].

    Written out per channel: a [3, 3] x [3, P] sgemm is slower here (BLAS threads). The
    identity (iteration 0, often the winner for good predictions) rotates nothing.
    """
    identity = np.array_equal(rot32, np.eye(3))
    for i in range(3):
        if identity:
            r_i = u[i] * v[i]
        else:
            r_i = rot32[i, 0] * u[0]
            r_i += rot32[i, 1] * u[1]
            r_i += rot32[i, 2] * u[2]
            r_i *= v[i]
        if i == 0:
            dot = r_i
        else:
            dot += r_i
    return dot


def _exact_flags(rotations: np.ndarray, pixel_ids: np.ndarray, pred_colours: np.ndarray,
                 gt_colours: np.ndarray, degrees: float) -> np.ndarray:
    """Official inlier flags for pixel_ids[g] under rotations[g], for G rotations.

    Args:
        rotations: [G, 3, 3] float64.
        pixel_ids: [G, M] int64 indices into the colour tables, M >= 1.
        pred_colours, gt_colours: [P, 3] uint8 colour tables.

    Returns:
        [G, M] bool.
    """
    width = pixel_ids.shape[1]
    if width == 1:  # one row would take BLAS's gemv path: pad to a gemm block
        pixel_ids = np.concatenate([pixel_ids, pixel_ids], axis=1)
    u = official_unit_rows(pred_colours[pixel_ids.reshape(-1)]).reshape(pixel_ids.shape + (3,))
    v = official_unit_rows(gt_colours[pixel_ids.reshape(-1)]).reshape(pixel_ids.shape + (3,))
    return below_angle(official_dot(rotate(rotations, u), v), degrees)[:, :width]


def subset_inlier_counts(rotations: np.ndarray, pixel_ids: np.ndarray, pred32: np.ndarray,
                         gt32: np.ndarray, pred_colours: np.ndarray, gt_colours: np.ndarray,
                         degrees: float = INLIER_DEG) -> np.ndarray:
    """Official inlier count of hypothesis k on its own consensus subset, for every k.

    Args:
        rotations: [K, 3, 3] float64 hypotheses.
        pixel_ids: [K, S] int64 flat pixel indices of each hypothesis' subset.
        pred32, gt32: [3, P] float32 unit normals from `unit_planar32`.
        pred_colours, gt_colours: [P, 3] uint8 colours of the same pixels.
        degrees: inlier threshold.

    Returns:
        [K] int64 counts, equal to the official `num_inliers(R_k.apply(U[idx_k]), V[idx_k])`.
    """
    # [3, K, S] gathers, seen as [K, 3, S] for one batched sgemm.
    u = pred32.take(pixel_ids, axis=1).transpose(1, 0, 2)
    v = gt32.take(pixel_ids, axis=1).transpose(1, 0, 2)
    sure, undecided = _screen(_rotated_dot32(rotations.astype(np.float32), u, v), degrees)
    counts = np.count_nonzero(sure, axis=1)
    flat = np.flatnonzero(undecided)
    _add_rechecked(counts, rotations, flat // pixel_ids.shape[1], pixel_ids.reshape(-1)[flat],
                   pred_colours, gt_colours, degrees)
    return counts


def valid_subset_inlier_counts(rotations: np.ndarray, subsets: np.ndarray,
                               pixel_ids: np.ndarray, pred32: np.ndarray, gt32: np.ndarray,
                               pred_colours: np.ndarray, gt_colours: np.ndarray,
                               degrees: float = INLIER_DEG) -> np.ndarray:
    """``subset_inlier_counts(rotations, pixel_ids[subsets], ...)``, computed by screening
    every hypothesis on every valid pixel once: cheaper than gathering K x S pixels when
    the N valid pixels are at most a few subset sizes (small maps).

    Args:
        subsets: [K, S] int64 indices into range(N) (valid pixels).
        pixel_ids: [N] int64 flat pixel index of each valid pixel.
        Others: as in `subset_inlier_counts`.
    """
    u = pred32.take(pixel_ids, axis=1)[None]  # [1, 3, N]
    v = gt32.take(pixel_ids, axis=1)[None]
    sure, undecided = _screen(_rotated_dot32(rotations.astype(np.float32), u, v), degrees)
    rows = np.arange(subsets.shape[0])[:, None]
    counts = np.count_nonzero(sure[rows, subsets], axis=1)
    flat = np.flatnonzero(undecided[rows, subsets])
    _add_rechecked(counts, rotations, flat // subsets.shape[1],
                   pixel_ids.take(subsets.reshape(-1)[flat]), pred_colours, gt_colours, degrees)
    return counts


def _add_rechecked(counts: np.ndarray, rotations: np.ndarray, hyp: np.ndarray, ids: np.ndarray,
                   pred_colours: np.ndarray, gt_colours: np.ndarray, degrees: float) -> None:
    """Add the official verdicts of undecided (hypothesis, pixel) pairs to ``counts``.

    Args:
        hyp: [D] hypothesis of each undecided pair, ascending.
        ids: [D] its flat pixel index.
    """
    if hyp.size == 0:
        return
    groups, starts, sizes = np.unique(hyp, return_index=True, return_counts=True)
    # One padded block per hypothesis (repeating its first pixel), one batched matmul.
    width = int(sizes.max())
    slot = np.arange(width)
    take = np.minimum(slot, sizes[:, None] - 1) + starts[:, None]
    flags = _exact_flags(rotations[groups], ids[take], pred_colours, gt_colours, degrees)
    counts[groups] += np.count_nonzero(flags & (slot < sizes[:, None]), axis=1)


def mask_inlier_count(rotation: np.ndarray, mask: np.ndarray, pred32: np.ndarray,
                      gt32: np.ndarray,
                      pred_colours: np.ndarray, gt_colours: np.ndarray,
                      degrees: float = INLIER_DEG) -> int:
    """Official inlier count of one rotation over the pixels where `mask` is True.

    Args:
        rotation: [3, 3] float64.
        mask: [P] bool, the pixels scored.
        pred32, gt32, pred_colours, gt_colours: as in `subset_inlier_counts`.

    Returns:
        The official `num_inliers(R.apply(U), V)` over the masked pixels.
    """
    sure, undecided = _screen(_rotated_dot32_one(rotation.astype(np.float32), pred32, gt32),
                              degrees)
    sure &= mask
    undecided &= mask
    count = int(np.count_nonzero(sure))
    ids = np.flatnonzero(undecided)
    if ids.size:
        count += int(np.count_nonzero(
            _exact_flags(rotation[None], ids[None], pred_colours, gt_colours, degrees)))
    return count
