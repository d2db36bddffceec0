"""R-RANSAC rotation search of the GRIT surface-normal metric, vectorised and stream-exact.

The official `get_rotation_matrix_RANSAC(mode="R-RANSAC", n_iters=500, r_size=500)` in
`grit_official/metrics/normal.py` runs a Python loop of 500 hypotheses. This module computes
the same hypotheses, the same inlier counts and the same choice in a handful of batched numpy
calls:

* the random draws are the official streams, reproduced without touching the caller's
  global RNG (the official code reseeds it, spec section 6 item 14): `np.random.seed(0)`
  pairs and `np.random.default_rng(0)` subsets (`metrics.numpy_streams`). Both streams are
  reset on every official call, so they depend only on sizes and are memoised per size
  (bounded LRU caches of read-only arrays).
* the 499 two-vector rotations repeat, operation for operation, what scipy's
  `Rotation.align_vectors` does for two unweighted vectors (Kabsch: 3x3 SVD, reflection fix,
  Shepperd matrix->quaternion, quaternion->matrix), so they are bit-identical to scipy's,
  degenerate pairs included (LAPACK's answer for a rank-1 matrix is the same batched or not).
* inlier counts use the official angle test, screened in float32 and rechecked exactly where
  the screen cannot decide (`metrics.normal_inliers`).
"""
from __future__ import annotations

import functools

import numpy as np

from metrics.normal_inliers import (INLIER_DEG, count_below_angle, rotate, subset_inlier_counts,
                                    valid_subset_inlier_counts)
from metrics.numpy_streams import generator_choice, legacy_choice

__all__ = ["N_ITERS", "SUBSET_SIZE", "INLIER_DEG", "align_vector_pairs", "count_below_angle",
           "draw_pair_indices", "draw_subsets", "matrix_to_quat", "quat_to_matrix",
           "ransac_rotation", "rotate", "select_hypothesis"]

# Official defaults (sn_metric -> get_rotation_matrix_RANSAC).
N_ITERS = 500
SUBSET_SIZE = 500
# Up to N = this x subset size valid pixels, every hypothesis is screened on every valid pixel
# (no K x S gathers); beyond, only the subsets' pixels are gathered and screened.
_SCREEN_ALL_FACTOR = 4


def draw_pair_indices(population: int, n_pairs: int, seed: int = 0) -> np.ndarray:
    """The official hypothesis pairs: `np.random.seed(0)` then `np.random.choice(population,
    2, replace=False)` once per hypothesis, from a private `RandomState`.

    Args:
        population: size of the range drawn from (the official code passes the image height).
        n_pairs: number of pairs (n_iters - 1; iteration 0 is the identity).
        seed: legacy seed; the official code uses 0.

    Returns:
        [n_pairs, 2] int64 indices into range(population), read-only (memoised per size).
    """
    return _cached_pairs(int(population), int(n_pairs), int(seed))


def draw_subsets(n_valid: int, n_subsets: int, subset_size: int = SUBSET_SIZE,
                 seed: int = 0, *, ordered: bool = True) -> np.ndarray:
    """The official consensus subsets: `rng = np.random.default_rng(0)`, then
    `rng.choice(n_valid, subset_size, replace=False)` once per iteration.

    Args:
        ordered: False gives each row's indices in an unspecified order (the set is exact);
            it is faster to compute and all the metric needs.

    Returns:
        [n_subsets, subset_size] int64 indices into range(n_valid), read-only (memoised
        per size).
    """
    return _cached_subsets(int(n_valid), int(n_subsets), int(subset_size), int(seed),
                           bool(ordered))


@functools.lru_cache(maxsize=32)
def _cached_pairs(population: int, n_pairs: int, seed: int) -> np.ndarray:
    pairs = legacy_choice(population, 2, n_pairs, seed)
    pairs.setflags(write=False)
    return pairs


# 8 entries of [500, 500] int64: 16 MB at most.
@functools.lru_cache(maxsize=8)
def _cached_subsets(n_valid: int, n_subsets: int, size: int, seed: int,
                    ordered: bool) -> np.ndarray:
    subsets = generator_choice(n_valid, size, n_subsets, seed, ordered=ordered)
    subsets.setflags(write=False)
    return subsets


def align_vector_pairs(targets: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """Batched `Rotation.align_vectors(targets[k], sources[k])[0].as_matrix()` for pairs.

    Follows scipy's steps for two unweighted vectors so that every bit matches: B = sum of
    outer products, SVD, flip the last left singular vector when det(u @ vh) < 0, C = u @ vh,
    Shepperd's matrix->quaternion (largest of the diagonal and the trace), normalise, and the
    quaternion->matrix formula that `Rotation.apply` uses.

    Args:
        targets: [K, 2, 3] float64, the vectors to rotate onto (official: GT normals).
        sources: [K, 2, 3] float64, the vectors rotated (official: predicted normals).

    Returns:
        [K, 3, 3] float64 rotation matrices R with R @ sources[k, j] ~ targets[k, j].
    """
    b_mat = (targets[:, 0, :, None] * sources[:, 0, None, :]
             + targets[:, 1, :, None] * sources[:, 1, None, :])
    u, _, vh = np.linalg.svd(b_mat)
    improper = np.linalg.det(u @ vh) < 0
    u[improper, :, -1] = -u[improper, :, -1]
    return quat_to_matrix(matrix_to_quat(u @ vh))


def matrix_to_quat(c: np.ndarray) -> np.ndarray:
    """scipy's `_from_matrix_orthogonal` for a stack: [K, 3, 3] -> [K, 4] (x, y, z, w)."""
    d0, d1, d2 = c[:, 0, 0], c[:, 1, 1], c[:, 2, 2]
    trace = d0 + d1 + d2
    # scipy's _argmax4 keeps the first maximum, as np.argmax does.
    choice = np.argmax(np.stack([d0, d1, d2, trace], axis=1), axis=1)
    q = np.empty((c.shape[0], 4))
    for i in range(3):
        j, k = (i + 1) % 3, (i + 2) % 3
        m = choice == i
        cm = c[m]
        q[m, i] = 1 - trace[m] + 2 * cm[:, i, i]
        q[m, j] = cm[:, j, i] + cm[:, i, j]
        q[m, k] = cm[:, k, i] + cm[:, i, k]
        q[m, 3] = cm[:, k, j] - cm[:, j, k]
    m = choice == 3
    cm = c[m]
    q[m, 0] = cm[:, 2, 1] - cm[:, 1, 2]
    q[m, 1] = cm[:, 0, 2] - cm[:, 2, 0]
    q[m, 2] = cm[:, 1, 0] - cm[:, 0, 1]
    q[m, 3] = 1 + trace[m]
    x, y, z, w = q.T
    # Same summation order as scipy's _normalize4: ((x*x + y*y) + z*z) + w*w.
    norm = np.sqrt(x * x + y * y + z * z + w * w)
    return q / norm[:, None]


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """scipy's `as_matrix` for a stack: [K, 4] (x, y, z, w) -> [K, 3, 3]."""
    x, y, z, w = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    x2, y2, z2, w2 = x * x, y * y, z * z, w * w
    xy, zw, xz, yw, yz, xw = x * y, z * w, x * z, y * w, y * z, x * w
    m = np.empty((q.shape[0], 3, 3))
    m[:, 0, 0] = x2 - y2 - z2 + w2
    m[:, 1, 0] = 2 * (xy + zw)
    m[:, 2, 0] = 2 * (xz - yw)
    m[:, 0, 1] = 2 * (xy - zw)
    m[:, 1, 1] = -x2 + y2 - z2 + w2
    m[:, 2, 1] = 2 * (yz + xw)
    m[:, 0, 2] = 2 * (xz + yw)
    m[:, 1, 2] = 2 * (yz - xw)
    m[:, 2, 2] = -x2 - y2 + z2 + w2
    return m


def select_hypothesis(counts: np.ndarray) -> int | None:
    """Official selection: `best` starts at 0 and is replaced on a strictly larger count, so
    the first maximum wins; None when no hypothesis has any inlier (the official code then
    raises UnboundLocalError, spec section 6 item 12)."""
    best = int(np.argmax(counts))
    return best if counts[best] > 0 else None


def ransac_rotation(pair_pred: np.ndarray, pair_gt: np.ndarray, n_valid: int,
                    pixel_ids: np.ndarray, pred32: tuple, gt32: tuple,
                    pred_colours: np.ndarray, gt_colours: np.ndarray,
                    n_iters: int = N_ITERS, subset_size: int = SUBSET_SIZE,
                    inlier_deg: float = INLIER_DEG) -> np.ndarray:
    """The rotation the official R-RANSAC returns.

    Args:
        pair_pred: [P, 3] float64 official unit predicted normals of the first P valid
            pixels (official U_flat[:P]); hypothesis pairs are drawn from range(P) (the
            official code draws from range(image height)).
        pair_gt: [P, 3] float64, the same for the GT (official V_flat[:P]).
        n_valid: N, the number of valid pixels.
        pixel_ids: [N] int64 flat pixel index of each valid pixel, in row-major order.
        pred32, gt32: planar float32 unit normals of all pixels (`unit_planar32`).
        pred_colours, gt_colours: [pixels, 3] uint8 colours.
        n_iters, subset_size, inlier_deg: official 500, 500, 11.25.

    Returns:
        [3, 3] float64 rotation to apply to the prediction (identity when no hypothesis
        found an inlier; the official code crashes there).
    """
    pairs = draw_pair_indices(pair_pred.shape[0], n_iters - 1)
    subsets = draw_subsets(n_valid, n_iters, subset_size, ordered=False)
    rotations = np.empty((n_iters, 3, 3))
    rotations[0] = np.eye(3)  # iteration 0 keeps the identity (the prediction as given)
    rotations[1:] = align_vector_pairs(pair_gt[pairs], pair_pred[pairs])
    # Inlier counts do not depend on the order inside a subset: its set is enough.
    if n_valid <= _SCREEN_ALL_FACTOR * subset_size:
        counts = valid_subset_inlier_counts(rotations, subsets, pixel_ids, pred32, gt32,
                                            pred_colours, gt_colours, inlier_deg)
    else:
        counts = subset_inlier_counts(rotations, pixel_ids.take(subsets), pred32, gt32,
                                      pred_colours, gt_colours, inlier_deg)
    best = select_hypothesis(counts)
    return rotations[0 if best is None else best]
