"""The float32 screen of the normal metric and its exact recheck (`metrics.normal_inliers`,
`metrics.normal_decode`): the proven error bound, counts equal to the official float64 ones
right at the thresholds, and the BLAS property the recheck relies on."""
from __future__ import annotations

import math

import numpy as np
from scipy.spatial.transform import Rotation

from metrics import normal_inliers
from metrics import normal_ransac as nr
from metrics.normal import decode_normals, valid_mask_from_gt
from metrics.normal_decode import SCREEN_BAND, official_unit_rows, unit_planar32
from metrics.normal_inliers import _rotated_dot32, _rotated_dot32_one


def test_blas_rows_are_independent_of_the_block_they_are_computed_in():
    # The exact recheck rotates only the undecided rows; that equals the official bits only
    # if a row of the [M, 3] matmul does not depend on the other rows (M >= 2). A single row
    # goes through gemv and can differ, which is why the recheck pads to two rows.
    rng = np.random.default_rng(11)
    r_hat = Rotation.random(random_state=3)
    rot = nr.quat_to_matrix(r_hat.as_quat()[None])[0]  # the matrix scipy's apply uses
    # 300k rows: the size of the official final count, where BLAS may split rows over threads.
    vecs = rng.normal(size=(300_000, 3))
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    full = r_hat.apply(vecs)
    for m in (2, 3, 5, 17, 500, 4099):
        idx = rng.choice(300_000, m, replace=False)
        assert np.array_equal(nr.rotate(rot[None], vecs[idx][None])[0], full[idx]), m
    blocks = nr.rotate(np.stack([rot] * 3), vecs[:1500].reshape(3, 500, 3))  # batched, too
    assert np.array_equal(blocks.reshape(-1, 3), full[:1500])


def test_float32_screen_error_is_within_its_proven_bound():
    rng = np.random.default_rng(12)
    colours = rng.integers(0, 256, (2, 400, 500, 3), dtype=np.uint8)
    rots = Rotation.random(400, random_state=4).as_matrix()
    u32, v32 = unit_planar32(colours[0]), unit_planar32(colours[1])  # [3, 400, 500]
    # The subset path: one [3, 3] x [3, 500] sgemm per rotation.
    dot32 = _rotated_dot32(rots.astype(np.float32), u32.transpose(1, 0, 2),
                           v32.transpose(1, 0, 2))
    u = official_unit_rows(colours[0].reshape(-1, 3)).reshape(400, 500, 3)
    v = official_unit_rows(colours[1].reshape(-1, 3)).reshape(400, 500, 3)
    exact = np.einsum("kij,ksj,ksi->ks", rots, u, v)
    bound = 14 * 2.0**-24  # normal_decode's analysis
    assert np.abs(dot32 - exact).max() <= bound < SCREEN_BAND / 4
    # The final-count path: one rotation, written out per channel.
    one = _rotated_dot32_one(rots[0].astype(np.float32), u32.reshape(3, -1), v32.reshape(3, -1))
    exact_one = np.einsum("ij,kj,ki->k", rots[0], u.reshape(-1, 3), v.reshape(-1, 3))
    assert np.abs(one - exact_one).max() <= bound
    plain = _rotated_dot32_one(np.eye(3, dtype=np.float32), u32.reshape(3, -1),
                               v32.reshape(3, -1))
    assert np.abs(plain - (u * v).sum(-1).reshape(-1)).max() <= bound


def _colour_pairs_near_angle(degrees, n, seed):
    """Colour pairs whose official angle is within ~1e-4 deg of `degrees` (random search)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (2_000_000, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (2_000_000, 3), dtype=np.uint8)
    dot = (decode_normals(a) * decode_normals(b)).sum(1)
    pick = np.argsort(np.abs(dot - np.cos(np.radians(degrees))))[:n]
    return a[pick], b[pick]


def test_screened_counts_equal_official_counts_at_the_threshold(monkeypatch):
    near_a, near_b = _colour_pairs_near_angle(11.25, 300, 13)  # pixels 0..299, closest first
    rng = np.random.default_rng(14)
    pred = np.concatenate([near_a, rng.integers(0, 256, (700, 3), dtype=np.uint8)])
    gt = np.concatenate([near_b, rng.integers(0, 256, (700, 3), dtype=np.uint8)])
    rotations = np.stack([np.eye(3), Rotation.random(random_state=5).as_matrix(), np.eye(3),
                          np.eye(3), Rotation.random(random_state=6).as_matrix()])
    ids = np.stack([rng.permutation(1000)[:400], np.arange(400, 800),
                    np.r_[0, np.arange(601, 1000)],  # one undecided pixel: the padded block
                    np.arange(400), rng.permutation(1000)[:400]])
    blocks = []
    exact_flags = normal_inliers._exact_flags
    monkeypatch.setattr(normal_inliers, "_exact_flags",
                        lambda r, i, *a: blocks.append(i.shape) or exact_flags(r, i, *a))
    p32, g32 = unit_planar32(pred), unit_planar32(gt)
    u, v = official_unit_rows(pred), official_unit_rows(gt)
    official = [int(nr.count_below_angle(Rotation.from_matrix(r).apply(u[k]), v[k]))
                for r, k in zip(rotations, ids)]
    assert list(normal_inliers.subset_inlier_counts(rotations, ids, p32, g32, pred, gt)) \
        == official
    assert blocks and blocks[0][0] >= 3  # several hypotheses were rechecked, one of 1 pixel
    mask = rng.random(1000) < 0.7
    mask[:8] = True
    expected = int(nr.count_below_angle(u[mask], v[mask]))
    assert normal_inliers.mask_inlier_count(np.eye(3), mask, p32, g32, pred, gt) == expected
    assert len(blocks) == 2 and 0 < expected < mask.sum()
    # A single undecided pixel (padded to a gemm block), once an inlier and once not, both
    # alone in the mask and as the only undecided pixel of a subset.
    inside = nr.count_below_angle(u[:8, None], v[:8, None]).astype(bool)
    assert inside.any() and not inside.all()
    for pixel in (int(np.argmax(inside)), int(np.argmin(inside))):
        one = np.zeros(1000, dtype=bool)
        one[[pixel, *range(700, 1000)]] = True
        expected = int(nr.count_below_angle(u[one], v[one]))
        assert normal_inliers.mask_inlier_count(np.eye(3), one, p32, g32, pred, gt) == expected
        assert blocks[-1] == (1, 1)
        sub = np.r_[pixel, np.arange(701, 1000)][None]
        expected = int(nr.count_below_angle(u[sub[0]], v[sub[0]]))
        assert list(normal_inliers.subset_inlier_counts(np.eye(3)[None], sub, p32, g32, pred,
                                                        gt)) == [expected]
        assert blocks[-1] == (1, 1)


def test_screening_every_valid_pixel_gives_the_subset_counts():
    # Small maps screen every hypothesis on every valid pixel, then pick the subsets: the
    # counts must equal the official ones, near-threshold (rechecked) pixels included.
    near_a, near_b = _colour_pairs_near_angle(11.25, 300, 13)
    rng = np.random.default_rng(21)
    pred = np.concatenate([near_a, rng.integers(0, 256, (700, 3), dtype=np.uint8)])
    gt = np.concatenate([near_b, rng.integers(0, 256, (700, 3), dtype=np.uint8)])
    rotations = np.stack([np.eye(3), *Rotation.random(6, random_state=8).as_matrix()])
    valid = np.sort(rng.permutation(1000)[:900])  # flat pixel id of each valid pixel
    subsets = np.stack([rng.permutation(900)[:500] for _ in rotations])
    p32, g32 = unit_planar32(pred), unit_planar32(gt)
    u, v = official_unit_rows(pred), official_unit_rows(gt)
    official = [int(nr.count_below_angle(Rotation.from_matrix(r).apply(u[valid[k]]), v[valid[k]]))
                for r, k in zip(rotations, subsets)]
    got = normal_inliers.valid_subset_inlier_counts(rotations, subsets, valid, p32, g32, pred, gt)
    assert list(got) == official
    assert list(normal_inliers.subset_inlier_counts(rotations, valid[subsets], p32, g32, pred,
                                                    gt)) == official


def test_sharp_edge_screen_matches_official_near_40_degrees():
    a, b = _colour_pairs_near_angle(40.0, 64, 15)
    n_a, n_b = decode_normals(a), decode_normals(b)
    # Official get_mask_from_normals on one pair: arccos(min(1, dot)) / pi * 180 > 40.
    sharp = np.arccos(np.minimum(1, (n_a * n_b).sum(1))) / math.pi * 180 > 40
    assert 0 < sharp.sum() < 64  # both outcomes occur among the near-threshold pairs
    for k in range(64):  # each pair alone in a 1x2 map, so no other neighbour interferes
        valid = valid_mask_from_gt(np.stack([a[k], b[k]])[None])
        assert valid.tolist() == [[not sharp[k]] * 2], k
