"""GRIT surface-normal metric: golden vectors, a straightforward port of the official loop,
bit-exactness of the batched pieces, and every official crash turned into a clear outcome.

Golden provenance: `shared/golden/grit/example_scores*.json`, produced by
allenai/grit_official f1860b39 (README there); the modern-env file is the one that applies
to numpy 2.4 / scipy 1.17.
"""
from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from scipy.spatial.transform import Rotation

from metrics import normal_ransac as nr
from metrics.errors import UnscorableInput
from metrics.normal import decode_normals, normal_score, valid_mask_from_gt


# ---------------------------------------------------------------- the slow official reference
def _official_decode(rgb):
    n = (rgb - 122.5) / 122.5
    n /= np.linalg.norm(n, ord=2, axis=2, keepdims=True)
    return n


def _official_mask(gt):
    """get_mask_from_normals, except the sharp-edge dot is clipped below at -1 too (the
    documented fix; the official min(1, dot) would warn on antipodal neighbours)."""
    n = _official_decode(gt)
    lr = np.arccos(np.clip((n[:, 1:] * n[:, :-1]).sum(2), -1, 1)) / math.pi * 180 > 40
    ud = np.arccos(np.clip((n[1:] * n[:-1]).sum(2), -1, 1)) / math.pi * 180 > 40
    ud_mask = np.zeros(gt.shape[:2])
    ud_mask[1:, :] = ud
    ud_mask[:-1, :] = ud_mask[:-1, :] + ud
    lr_mask = np.zeros(gt.shape[:2])
    lr_mask[:, 1:] = lr
    lr_mask[:, :-1] = lr_mask[:, :-1] + lr
    sharp = (ud_mask > 0) | (lr_mask > 0)
    v0 = (gt != 0).sum(axis=2) != 0
    v128 = (gt != 128).sum(axis=2) != 0
    v201 = (gt != 201).sum(axis=2) != 0
    return np.logical_and.reduce((v0, v128, v201, ~sharp))


def _num_inliers(a, b):
    dot = np.multiply(a, b).sum(axis=1).clip(-1.0, 1.0)
    return np.sum(np.degrees(np.arccos(dot)) < 11.25)


def official_sn_metric(pred, gt, pair_population=None):
    """Straightforward port of sn_metric(mode="R-RANSAC") with the global legacy RNG, one
    scipy align_vectors per hypothesis. `pair_population` overrides range(H) (tall images)."""
    pred, gt = pred[:, :, :3], gt[:, :, :3]
    m = _official_mask(gt)
    h, w = m.shape
    flat = np.argwhere(m.reshape(h * w)).squeeze()
    u = _official_decode(pred).reshape(h * w, 3)[flat]
    u /= np.linalg.norm(u, ord=2, axis=1, keepdims=True)
    v = _official_decode(gt).reshape(h * w, 3)[flat]
    v /= np.linalg.norm(v, ord=2, axis=1, keepdims=True)
    np.random.seed(0)
    best, r_hat, best_r = 0, Rotation.from_matrix(np.eye(3)), None
    rng = np.random.default_rng(0)
    for i in range(500):
        if i > 0:
            ind = np.random.choice(pair_population or h, size=2, replace=False)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r_hat, _ = Rotation.align_vectors(v[ind, :], u[ind, :])
        idx = rng.choice(u.shape[0], size=500, replace=False)
        inliers = _num_inliers(r_hat.apply(u[idx]), v[idx])
        if inliers > best:
            best, best_r = inliers, r_hat
    score = 100 * _num_inliers(best_r.apply(u), v) / u.shape[0]
    return score / 100.0


@pytest.fixture
def keep_global_rng():
    state = np.random.get_state()
    yield
    np.random.set_state(state)


# ---------------------------------------------------------------------- synthetic normal maps
def _encode(n):
    return ((n + 1.0) / 2.0 * 255.0).astype(np.uint8)  # official normal2rgb


def room_normals(h, w, tilt_deg=20.0, hole=True):
    """[H, W, 3] unit normals of a box room seen by a pinhole camera (x right, y down,
    z forward), tilted down; optionally a (128,128,128)-style hole is left to the caller."""
    f = 0.9 * w
    ys, xs = np.mgrid[0:h, 0:w]
    rays = np.stack([(xs - w / 2) / f, (ys - h / 2) / f, np.ones((h, w))], -1)
    t = np.radians(tilt_deg)
    tilt = np.array([[1, 0, 0], [0, np.cos(t), -np.sin(t)], [0, np.sin(t), np.cos(t)]])
    rays = rays @ tilt.T
    walls = [(0, -2.0), (0, 2.0), (1, -1.2), (1, 1.5), (2, 5.0)]
    best_t = np.full((h, w), np.inf)
    normal = np.zeros((h, w, 3))
    for axis, pos in walls:
        with np.errstate(divide="ignore"):
            tt = pos / rays[..., axis]
        hit = (tt > 0) & (tt < best_t)
        best_t[hit] = tt[hit]
        normal[hit] = 0.0
        normal[hit, axis] = -np.sign(pos)  # facing the camera
    return normal @ tilt  # back to the camera frame


def noisy_rotated(n, rotvec, sigma, seed):
    r = Rotation.from_rotvec(rotvec).as_matrix()
    out = n @ r.T + np.random.default_rng(seed).normal(0, sigma, n.shape)
    return out / np.linalg.norm(out, axis=-1, keepdims=True)


# ------------------------------------------------------------------------------ golden cases
def _golden(golden_dir):
    root = golden_dir / "grit"
    cases = json.loads((root / "example_cases.json").read_text())["normal"]
    modern = {r["id"]: r for r in json.loads((root / "example_scores_modern_env.json").read_text())}
    era = {r["id"]: r for r in json.loads((root / "example_scores.json").read_text())}

    def load(name):
        name = name.replace("data/examples/images/", "official_examples/images/")
        return np.asarray(Image.open(root / name))

    return [(c["id"], load(c["prediction"]["normal"]), load(c["sample"]["output"]["out_image_name"]),
             modern[c["id"]], era[c["id"]]) for c in cases]


def test_golden_scores_match_modern_env(golden_dir):
    scored = 0
    for cid, pred, gt, modern, era in _golden(golden_dir):
        if modern["error"] is not None:
            continue
        assert normal_score(pred, gt) == pytest.approx(modern["score"], abs=1e-9), cid
        scored += 1
        if cid != "sn_random":  # the one case the numpy build moves (spec 2.8)
            assert modern["score"] == pytest.approx(era["score"], abs=1e-12), cid
    assert scored == 11


def test_golden_sn_random_differs_from_era_env_as_documented(golden_dir):
    case = {c[0]: c for c in _golden(golden_dir)}["sn_random"]
    _, pred, gt, modern, era = case
    score = normal_score(pred, gt)
    assert score == pytest.approx(0.012411347517730495, abs=1e-12) == modern["score"]
    assert era["score"] == pytest.approx(0.013829787234042554, abs=1e-12)


def test_golden_official_crashes_become_clear_outcomes(golden_dir):
    cases = {c[0]: c for c in _golden(golden_dir)}
    for cid, n_valid in (("sn_all_invalid", 0), ("sn_few_valid", 323)):
        _, pred, gt, modern, _ = cases[cid]
        assert modern["error"].startswith("ValueError")
        with pytest.raises(UnscorableInput, match=f"has {n_valid} valid pixels; the official "
                                                  "metric needs at least 500"):
            normal_score(pred, gt)
    _, pred, gt, _, _ = cases["sn_shape_mismatch"]
    with pytest.raises(UnscorableInput, match=r"\(40, 64, 3\).*\(48, 64, 3\)"):
        normal_score(pred, gt)


def test_golden_tall_image_draws_pairs_from_valid_pixels(golden_dir, keep_global_rng):
    _, pred, gt, modern, _ = {c[0]: c for c in _golden(golden_dir)}["sn_tall_image"]
    assert modern["error"].startswith("IndexError")
    n_valid = int(valid_mask_from_gt(gt).sum())
    assert (n_valid, gt.shape[0]) == (792, 900)
    assert normal_score(pred, gt) == official_sn_metric(pred, gt, pair_population=n_valid)
    with pytest.raises(UnscorableInput, match="792 valid pixels but 900 rows"):
        normal_score(pred, gt, height_exceeds_valid="raise")


def test_golden_antipodal_neighbours_are_a_sharp_edge(golden_dir):
    _, pred, gt, modern, _ = {c[0]: c for c in _golden(golden_dir)}["sn_antipodal_neighbours"]
    assert modern["error"].startswith("RuntimeWarning")
    n = decode_normals(gt)
    dots = (n[:, 1:] * n[:, :-1]).sum(2)
    assert (dots < -1).any()  # the rounding that makes the official arccos warn
    rows, cols = np.nonzero(dots < -1)
    valid = valid_mask_from_gt(gt)  # no RuntimeWarning: pytest turns warnings into errors
    assert not valid[rows, cols].any() and not valid[rows, cols + 1].any()
    assert normal_score(pred, gt) == 1.0  # pred == GT on every remaining pixel


# ------------------------------------------------------------- equality with the slow loop
def _cases_for_reference(golden_dir):
    real = np.asarray(Image.open(golden_dir / "grit/official_examples/images/normal_out_0.png"))
    real_n = decode_normals(real[:, :, :3])
    room = room_normals(60, 80)
    gt_room = _encode(room)
    gt_room[10:25, 30:50] = 128  # a hole, as missing depth leaves
    rng = np.random.default_rng(5)
    yield "real_rot_noise", _encode(noisy_rotated(real_n, [0.3, -0.2, 0.1], 0.08, 1)), real
    yield "real_random", rng.integers(0, 256, real.shape, dtype=np.uint8), real[:, :, :3]
    yield "room_rot", _encode(noisy_rotated(room, [0.0, 0.5, 0.0], 0.02, 2)), gt_room
    yield "room_noisy", _encode(noisy_rotated(room, [0.1, 0.1, 0.1], 0.3, 3)), gt_room
    yield "room_random", rng.integers(0, 256, gt_room.shape, dtype=np.uint8), gt_room
    blocks = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8).repeat(10, 0).repeat(10, 1)
    yield "blocks_vs_random", rng.integers(0, 256, blocks.shape, dtype=np.uint8), blocks


def test_equals_straightforward_official_loop(golden_dir, keep_global_rng):
    for name, pred, gt in _cases_for_reference(golden_dir):
        assert normal_score(pred, gt) == official_sn_metric(pred, gt), name


# --------------------------------------------------------------------- bit-exact components
def test_align_vector_pairs_is_bit_identical_to_scipy():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 2, 3))
    b = rng.normal(size=(400, 2, 3))
    colours = rng.integers(0, 256, (200, 2, 3), dtype=np.uint8)
    a[:200] = decode_normals(colours)  # normals as the metric sees them
    b[:100] = a[:100] @ Rotation.random(random_state=1).as_matrix().T
    a[200:260, 1] = a[200:260, 0]  # degenerate: parallel GT vectors (one plane)
    b[200:230, 1] = b[200:230, 0]
    a[260:290, 1] = -a[260:290, 0]
    b[290:320] = a[290:320]  # already aligned
    b[320:340] = -a[320:340]
    a /= np.linalg.norm(a, axis=-1, keepdims=True)
    b /= np.linalg.norm(b, axis=-1, keepdims=True)
    ours = nr.align_vector_pairs(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns on the degenerate pairs
        ref = np.stack([Rotation.align_vectors(a[k], b[k])[0].as_matrix() for k in range(400)])
    assert np.array_equal(ours, ref)


def test_rotate_is_bit_identical_to_rotation_apply():
    rng = np.random.default_rng(1)
    q = rng.normal(size=(20, 4))
    vecs = rng.normal(size=(20, 500, 3))
    rots = [Rotation.from_quat(qk) for qk in q]
    mats = nr.quat_to_matrix(np.stack([r.as_quat() for r in rots]))
    out = nr.rotate(mats, vecs)
    assert all(np.array_equal(out[k], rots[k].apply(vecs[k])) for k in range(20))


def test_decode_normals_is_bit_identical_to_official():
    rgb = np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    assert np.array_equal(decode_normals(rgb), _official_decode(rgb))
    n = _official_decode(rgb).reshape(-1, 3)
    assert np.allclose(np.linalg.norm(n, axis=1), 1.0)


def test_valid_mask_equals_official_definition():
    rng = np.random.default_rng(3)
    gt = _encode(room_normals(40, 50))
    gt[rng.random(gt.shape[:2]) < 0.05] = [128, 128, 128]
    gt[rng.random(gt.shape[:2]) < 0.05] = [0, 0, 0]
    gt[rng.random(gt.shape[:2]) < 0.05] = [201, 201, 201]
    gt[rng.random(gt.shape[:2]) < 0.02] = [201, 201, 200]  # not an invalid colour
    assert np.array_equal(valid_mask_from_gt(gt), _official_mask(gt))


def test_count_below_angle_at_the_threshold():
    # Vectors exactly 11.25 deg apart, and one ulp-sized step either side.
    angles = np.radians([11.25 - 1e-6, 11.25, 11.25 + 1e-6, 0.0, 90.0, 180.0])
    a = np.zeros((6, 3))
    a[:, 0] = 1.0
    b = np.stack([np.cos(angles), np.sin(angles), np.zeros(6)], axis=1)
    expected = int(np.sum(np.degrees(np.arccos(np.clip((a * b).sum(1), -1, 1))) < 11.25))
    assert int(nr.count_below_angle(a, b)) == expected
    assert expected in (2, 3)  # the 11.25 one is decided by the arccos rounding


def test_select_hypothesis_first_strict_maximum_and_no_inlier():
    assert nr.select_hypothesis(np.array([3, 5, 5, 1])) == 1
    assert nr.select_hypothesis(np.array([4, 4])) == 0
    assert nr.select_hypothesis(np.zeros(500, dtype=np.int64)) is None


def test_global_rng_untouched_and_streams_match_official(keep_global_rng):
    np.random.seed(1234)
    before = np.random.get_state()
    pairs = nr.draw_pair_indices(480, 499)
    subsets = nr.draw_subsets(3000, 5)
    after = np.random.get_state()
    assert before[0] == after[0] and np.array_equal(before[1], after[1]) and before[2:] == after[2:]
    np.random.seed(0)
    assert np.array_equal(pairs, [np.random.choice(480, 2, replace=False) for _ in range(499)])
    rng = np.random.default_rng(0)
    assert np.array_equal(subsets, [rng.choice(3000, 500, replace=False) for _ in range(5)])


def test_normal_score_leaves_global_rng_alone(keep_global_rng):
    gt = _encode(room_normals(30, 40))
    np.random.seed(99)
    expected_next = np.random.RandomState(99).random_sample()
    normal_score(gt, gt)
    assert np.random.random_sample() == expected_next


# ------------------------------------------------------------------------ properties, inputs
def corner_normals(h, w):
    """Left wall, back wall and right wall in vertical stripes over a floor (bottom third):
    the first rows already hold three non-parallel normals, so RANSAC pairs are not
    degenerate."""
    s = np.sqrt(0.5)
    n = np.zeros((h, w, 3))
    n[:, : w // 3] = [s, 0.0, -s]
    n[:, w // 3: 2 * w // 3] = [0.0, 0.0, -1.0]
    n[:, 2 * w // 3:] = [-s, 0.0, -s]
    n[2 * h // 3:] = [0.0, -1.0, 0.0]
    return n


def test_perfect_and_globally_rotated_predictions_score_one():
    corner = corner_normals(48, 63)
    gt = _encode(corner)
    assert normal_score(gt, gt) == 1.0
    rotated = _encode(noisy_rotated(corner, [0.2, 0.4, -0.3], 0.0, 0))
    assert normal_score(rotated, gt) == 1.0


def test_rotation_not_recovered_when_first_rows_are_one_plane():
    # Official quirk (spec 6 item 10): pairs come from the first H valid pixels only; in the
    # room below they are all ceiling, every hypothesis is degenerate, and a 30 deg global
    # rotation is not undone (as in golden case sn_ceiling_rot30).
    room = room_normals(48, 64)
    assert (_encode(room)[:1] == _encode(room)[0, 0]).all()  # first row: one plane
    score = normal_score(_encode(noisy_rotated(room, [0.0, np.radians(30), 0.0], 0.0, 0)),
                         _encode(room))
    assert 0.0 < score < 0.9


def test_mirrored_prediction_is_not_a_rotation():
    corner = corner_normals(48, 63)
    mirrored = corner * np.array([-1.0, 1.0, 1.0])
    score = normal_score(_encode(mirrored), _encode(corner))
    # The walls can be matched by a 180 deg turn about z, which flips the floor (1/3 of
    # the image): a reflection is never fully undone.
    assert 0.5 < score < 0.8


def test_alpha_channels_are_dropped_on_both_sides():
    gt = _encode(corner_normals(30, 42))
    pred = _encode(noisy_rotated(corner_normals(30, 42), [0, 0, 0.3], 0.2, 4))
    alpha = np.full(gt.shape[:2] + (1,), 7, dtype=np.uint8)
    plain = normal_score(pred, gt)
    assert normal_score(np.concatenate([pred, alpha], 2), np.concatenate([gt, alpha], 2)) == plain


@pytest.mark.parametrize("bad, message", [
    (np.zeros((30, 40), dtype=np.uint8), r"shape \(30, 40\).*grayscale"),
    (np.zeros((30, 40, 2), dtype=np.uint8), r"shape \(30, 40, 2\)"),
    (np.zeros((30, 40, 3), dtype=np.uint16), "dtype uint16.*16-bit"),
    (np.zeros((30, 40, 3), dtype=np.float64), "dtype float64"),
    (np.zeros((0, 40, 3), dtype=np.uint8), "empty"),
    ([[1, 2, 3]], "is a list, not an array"),
])
def test_malformed_maps_raise_clear_errors(bad, message):
    good = _encode(room_normals(30, 40))
    with pytest.raises(UnscorableInput, match=message):
        normal_score(bad, good)
    with pytest.raises(UnscorableInput, match="ground truth"):
        normal_score(good, bad)


def test_single_row_map_is_unscorable_not_a_numpy_error():
    row = _encode(corner_normals(1, 900))
    assert valid_mask_from_gt(row).sum() >= 500
    with pytest.raises(UnscorableInput, match="single row"):
        normal_score(row, row)


def test_sixteen_bit_png_is_rejected(tmp_path):
    path = tmp_path / "n16.png"
    Image.fromarray(np.full((30, 40), 40000, dtype=np.uint16)).save(path)
    arr = np.asarray(Image.open(path))
    with pytest.raises(UnscorableInput):
        normal_score(arr, _encode(room_normals(30, 40)))


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), block=st.integers(4, 12))
def test_property_bounds_and_identity(seed, block):
    rng = np.random.default_rng(seed)
    gt = rng.integers(0, 256, (40 // block + 1, 60 // block + 1, 3), dtype=np.uint8)
    gt = gt.repeat(block, 0).repeat(block, 1)[:40, :60]
    if valid_mask_from_gt(gt).sum() < 500:
        with pytest.raises(UnscorableInput, match="valid pixels"):
            normal_score(gt, gt)
        return
    # Iteration 0 (identity) already has 500/500 inliers, and later ties do not replace it.
    assert normal_score(gt, gt) == 1.0
    score = normal_score(rng.integers(0, 256, gt.shape, dtype=np.uint8), gt)
    assert 0.0 <= score <= 1.0


# ------------------------------------------------- speed-ups: caches, float32 screen, BLAS rows
def test_scoring_twice_and_with_cold_caches_gives_the_same_score(golden_dir):
    real = np.asarray(Image.open(golden_dir / "grit/official_examples/images/normal_out_0.png"))
    pred = _encode(noisy_rotated(decode_normals(real[:, :, :3]), [0.2, 0.1, -0.3], 0.1, 7))
    nr._cached_pairs.cache_clear()
    nr._cached_subsets.cache_clear()
    cold = normal_score(pred, real)
    assert nr._cached_subsets.cache_info().currsize == 1
    assert normal_score(pred, real) == cold == normal_score(pred.copy(), real.copy())
    assert nr._cached_subsets.cache_info().hits >= 2


def test_stream_caches_are_bounded_and_read_only():
    assert 0 < nr._cached_subsets.cache_info().maxsize <= 8
    assert 0 < nr._cached_pairs.cache_info().maxsize <= 64
    subsets = nr.draw_subsets(3000, 4)
    with pytest.raises(ValueError):
        subsets[0, 0] = 1  # a caller cannot corrupt the memoised stream
    with pytest.raises(ValueError):
        nr.draw_pair_indices(50, 3)[0, 0] = 1
    unordered = nr.draw_subsets(3000, 4, ordered=False)
    assert np.array_equal(np.sort(unordered, axis=1), np.sort(subsets, axis=1))


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), block=st.integers(4, 9), noise=st.integers(0, 60))
def test_property_equals_official_loop_on_random_maps(seed, block, noise):
    # Blocky GT (sharp edges between blocks) and a noisy prediction: exercises the float32
    # screens near both thresholds, and different valid-pixel counts N each time.
    rng = np.random.default_rng(seed)
    gt = rng.integers(0, 256, (36 // block + 1, 48 // block + 1, 3), dtype=np.uint8)
    gt = gt.repeat(block, 0).repeat(block, 1)[:36, :48]
    pred = np.clip(gt + rng.integers(-noise, noise + 1, gt.shape), 0, 255).astype(np.uint8)
    if valid_mask_from_gt(gt).sum() < 500:
        return
    state = np.random.get_state()
    try:
        assert normal_score(pred, gt) == official_sn_metric(pred, gt)
    finally:
        np.random.set_state(state)
