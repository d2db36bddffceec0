"""Segmentation: mask IoU, stuff merging, resizing, documented error choices, properties."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.errors import UnscorableInput
from metrics.rle import rle_encode
from metrics.segmentation import is_stuff_query, mask_iou_matrix, segmentation_score, segmentation_score_dense


def _rect(shape, y0, y1, x0, x1):
    m = np.zeros(shape, dtype=np.uint8)
    m[y0:y1, x0:x1] = 1
    return m


def _rles(masks):
    return [rle_encode(m) for m in masks]


def test_hand_computed_iou_and_score():
    gt = _rect((20, 30), 0, 10, 0, 10)  # 100 px
    pred = _rect((20, 30), 0, 10, 5, 15)  # overlaps 50 px, union 150
    assert mask_iou_matrix([pred], [gt])[0, 0] == 50 / (150 + 1e-6)
    assert segmentation_score(_rles([pred]), _rles([gt]), False) == 50 / (150 + 1e-6)


def test_empty_cases_follow_the_official_code():
    gt = _rles([_rect((8, 8), 0, 4, 0, 4)])
    assert segmentation_score([], [], False) == 1.0
    assert segmentation_score([], gt, False) == 0.0
    assert segmentation_score(gt, [], False) == 0.0
    # all-zero GT vs all-zero prediction: IoU 0 -> not kept -> 0, not 1
    zero = _rles([np.zeros((8, 8), np.uint8)])
    assert segmentation_score(zero, zero, False) == 0.0


def test_stuff_merges_predictions_and_ground_truth():
    a, b = _rect((20, 30), 0, 10, 0, 10), _rect((20, 30), 10, 20, 10, 20)
    preds = _rles([a, b, a])  # a duplicate does not hurt a stuff query
    assert segmentation_score(preds, _rles([a, b]), True) == 200 / (200 + 1e-6)
    # The same masks as a thing query: two matches out of 3 predictions.
    assert segmentation_score(preds, _rles([a, b]), False) == pytest.approx(2 * (100 / (100 + 1e-6)) / 3, abs=1e-15)


def test_is_stuff_query():
    assert is_stuff_query("grass (Stuff)")
    assert not is_stuff_query("grass (stuff)")
    assert not is_stuff_query(None)


def test_size_mismatch_is_resized_like_cv2():
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(3)
    gt = (rng.random((37, 50)) < 0.4).astype(np.uint8)
    pred = (rng.random((19, 23)) < 0.4).astype(np.uint8)
    big = cv2.resize(pred, (50, 37)) != 0
    expected = np.logical_and(big, gt).sum() / (np.logical_or(big, gt).sum() + 1e-6)
    assert mask_iou_matrix([pred], [gt])[0, 0] == expected
    # Documented choice: a stuff prediction of another size is resized the same way
    # (the official code crashes there).
    assert segmentation_score(_rles([pred]), _rles([gt]), True) == expected


def test_stuff_choices_where_the_official_code_crashes():
    a = _rect((10, 10), 0, 5, 0, 5)
    with pytest.raises(UnscorableInput, match="no ground-truth mask"):
        segmentation_score(_rles([a]), [], True)
    assert segmentation_score([], [], True) == 0.0  # official: [] vs scalar False -> 0
    with pytest.raises(UnscorableInput, match="different sizes"):
        segmentation_score(_rles([a, _rect((12, 10), 0, 5, 0, 5)]), _rles([a]), True)


def test_malformed_masks_raise_clear_errors():
    good = rle_encode(_rect((4, 5), 1, 3, 2, 4))
    with pytest.raises(UnscorableInput, match="must be a list of RLE dicts, got dict"):
        segmentation_score(good, [good], False)
    with pytest.raises(UnscorableInput, match="predicted mask 1 has a 'shape' key"):
        segmentation_score([good, {"shape": [4, 5], "counts": good["counts"]}], [good], False)
    with pytest.raises(UnscorableInput, match="ground-truth mask 0 is an uncompressed RLE"):
        segmentation_score([good], [{"size": [4, 5], "counts": [9, 2, 2, 2, 5]}], False)


def test_dense_and_rle_entry_points_agree():
    rng = np.random.default_rng(5)
    preds = [(rng.random((16, 16)) < 0.5).astype(np.uint8) for _ in range(3)]
    gts = [(rng.random((16, 16)) < 0.5).astype(np.uint8) for _ in range(2)]
    for stuff in (False, True):
        assert segmentation_score(_rles(preds), _rles(gts), stuff) == segmentation_score_dense(preds, gts, stuff)


blob = st.tuples(st.integers(0, 15), st.integers(1, 16), st.integers(0, 15), st.integers(1, 16))


def _blobs(specs):
    return [_rect((16, 16), y, min(16, y + h), x, min(16, x + w)) for y, h, x, w in specs]


@settings(max_examples=40, deadline=None)
@given(st.lists(blob, min_size=1, max_size=4), st.lists(blob, min_size=1, max_size=4), st.randoms(), st.booleans())
def test_bounded_deterministic_and_permutation_invariant(pred_specs, gt_specs, rnd, stuff):
    preds, gts = _blobs(pred_specs), _blobs(gt_specs)
    score = segmentation_score_dense(preds, gts, stuff)
    assert 0 <= score <= 1 and segmentation_score_dense(preds, gts, stuff) == score
    rnd.shuffle(preds)
    rnd.shuffle(gts)
    assert segmentation_score_dense(preds, gts, stuff) == pytest.approx(score, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.lists(blob, min_size=1, max_size=4))
def test_perfect_prediction_scores_official_maximum(specs):
    gts = _blobs(specs)
    areas = np.array([m.sum() for m in gts], dtype=np.float64)
    assert segmentation_score_dense(gts, gts, False) == pytest.approx(np.mean(areas / (areas + 1e-6)), abs=1e-12)
