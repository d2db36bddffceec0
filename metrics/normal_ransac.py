"""R-RANSAC rotation search of the GRIT surface-normal metric, vectorised and stream-exact.

The official `get_rotation_matrix_RANSAC(mode="R-RANSAC", n_iters=500, r_size=500)` in
`grit_official/metrics/normal.py` runs a Python loop of 500 hypotheses. This module computes
the same hypotheses, the same inlier counts and the same choice in a handful of batched numpy
calls:

* the random draws come from the official streams, but from generators local to the call:
  `np.random.RandomState(0)` is the legacy stream that `np.random.seed(0)` resets, and
  `np.random.default_rng(0)` is the consensus-subset stream. Each stream is drawn in the same
  order as the official loop, so the indices are identical; the caller's global RNG is never
  touched (the official code reseeds it, spec section 6 item 14).
* the 499 two-vector rotations repeat, operation for operation, what scipy's
  `Rotation.align_vectors` does for two unweighted vectors (Kabsch: 3x3 SVD, reflection fix,
  Shepperd matrix->quaternion, quaternion->matrix), so they are bit-identical to scipy's,
  degenerate pairs included (LAPACK's answer for a rank-1 matrix is the same batched or not).
* inlier counts use the official angle test, evaluated exactly only where it matters: a dot
  product far from cos(11.25 deg) is decided by comparison, one within 1e-9 of it goes
  through the official `degrees(arccos(clip(dot)))` expression.
"""
from __future__ import annotations

import numpy as np

# Official defaults (sn_metric -> get_rotation_matrix_RANSAC).
N_ITERS = 500
SUBSET_SIZE = 500
INLIER_DEG = 11.25

# Dot products closer than this to the cosine of a threshold angle are re-evaluated with
# the official arccos expression. Rounding in our dot products is ~1e-15; 1e-9 is generous.
_BAND = 1e-9


def draw_pair_indices(population: int, n_pairs: int, seed: int = 0) -> np.ndarray:
    """The official hypothesis pairs: `np.random.seed(0)` then `np.random.choice(population,
    2, replace=False)` once per hypothesis, from a private `RandomState`.

    Legacy `choice` without replacement is `permutation(population)[:2]`, i.e. a shuffle of
    `arange(population)`; shuffling a reused buffer consumes the same stream and is cheaper.

    Args:
        population: size of the range drawn from (the official code passes the image height).
        n_pairs: number of pairs (n_iters - 1; iteration 0 is the identity).
        seed: legacy seed; the official code uses 0.

    Returns:
        [n_pairs, 2] int64 indices into range(population).
    """
    state = np.random.RandomState(seed)
    base = np.arange(population, dtype=np.int64)
    buf = np.empty_like(base)
    pairs = np.empty((n_pairs, 2), dtype=np.int64)
    for k in range(n_pairs):
        buf[:] = base
        state.shuffle(buf)
        pairs[k] = buf[:2]
    return pairs


def draw_subsets(n_valid: int, n_subsets: int, subset_size: int = SUBSET_SIZE,
                 seed: int = 0) -> np.ndarray:
    """The official consensus subsets: `rng = np.random.default_rng(0)`, then
    `rng.choice(n_valid, subset_size, replace=False)` once per iteration.

    Returns:
        [n_subsets, subset_size] int64 indices into range(n_valid).
    """
    rng = np.random.default_rng(seed)
    out = np.empty((n_subsets, subset_size), dtype=np.int64)
    for k in range(n_subsets):
        out[k] = rng.choice(n_valid, subset_size, replace=False)
    return out


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


def rotate(rotations: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """`Rotation.apply` for a stack: rotations [K, 3, 3], vectors [K, M, 3] -> [K, M, 3].

    The matmul call is the one scipy's `apply` makes for one rotation and many vectors, so
    each slice gets the same BLAS call and the same bits.
    """
    return np.matmul(rotations, vectors, axes=[(-2, -1), (-1, -2), (-1, -2)])


def count_below_angle(a: np.ndarray, b: np.ndarray, degrees: float = INLIER_DEG) -> np.ndarray:
    """Official `num_inliers` along the last axis: #(degrees(arccos(clip(a.b))) < degrees).

    Args:
        a, b: [..., M, 3] float64 unit vectors.
        degrees: threshold angle; strict `<` as in the official code.

    Returns:
        [...] int64 counts.
    """
    # (a0*b0 + a1*b1) + a2*b2 is what the official np.multiply(a, b).sum(axis=1) adds up,
    # in the same order, without numpy's slow reduction over a length-3 axis.
    dot = a[..., 0] * b[..., 0]
    dot += a[..., 1] * b[..., 1]
    dot += a[..., 2] * b[..., 2]
    cos_t = np.cos(np.radians(degrees))
    above = dot > cos_t + _BAND
    counts = np.count_nonzero(above, axis=-1)
    near = (dot >= cos_t - _BAND) & ~above
    if near.any():
        angles = np.degrees(np.arccos(np.clip(dot[near], -1.0, 1.0)))
        extra = np.zeros(dot.shape, dtype=np.int64)
        extra[near] = angles < degrees
        counts = counts + extra.sum(axis=-1)
    return counts


def select_hypothesis(counts: np.ndarray) -> int | None:
    """Official selection: `best` starts at 0 and is replaced on a strictly larger count, so
    the first maximum wins; None when no hypothesis has any inlier (the official code then
    raises UnboundLocalError, spec section 6 item 12)."""
    best = int(np.argmax(counts))
    return best if counts[best] > 0 else None


def ransac_rotation(pred: np.ndarray, gt: np.ndarray, pair_population: int,
                    n_iters: int = N_ITERS, subset_size: int = SUBSET_SIZE,
                    inlier_deg: float = INLIER_DEG) -> np.ndarray:
    """The rotation the official R-RANSAC returns.

    Args:
        pred: [N, 3] float64 unit predicted normals at the valid pixels (official U_flat).
        gt: [N, 3] float64 unit GT normals at the valid pixels (official V_flat).
        pair_population: hypothesis pairs are drawn from range(pair_population); the official
            code passes the image height. Must be <= N.
        n_iters, subset_size, inlier_deg: official 500, 500, 11.25.

    Returns:
        [3, 3] float64 rotation to apply to `pred` (identity when no hypothesis found an
        inlier; the official code crashes there).
    """
    pairs = draw_pair_indices(pair_population, n_iters - 1)
    subsets = draw_subsets(pred.shape[0], n_iters, subset_size)
    rotations = np.empty((n_iters, 3, 3))
    rotations[0] = np.eye(3)  # iteration 0 keeps the identity (the prediction as given)
    rotations[1:] = align_vector_pairs(gt[pairs], pred[pairs])
    # Contiguous [n_iters, subset_size, 3] gathers: each slice then reaches BLAS exactly as
    # the official pred[idx] does.
    rotated = rotate(rotations, np.take(pred, subsets, axis=0))
    counts = count_below_angle(rotated, np.take(gt, subsets, axis=0), inlier_deg)
    best = select_hypothesis(counts)
    return rotations[0 if best is None else best]
