"""Keypoints: OKS with the labeled-keypoint box area, matching, documented errors, properties."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.errors import UnscorableInput
from metrics.keypoint import COCO_SIGMAS, keypoint_score, oks_matrix


def _person(x0=100.0, y0=100.0, v=2):
    """A 4-column grid of 17 points, 10 px apart; box of all points is 30 x 80."""
    pts = []
    for k in range(17):
        pts += [x0 + 10 * (k % 4), y0 + 20 * (k // 4), v]
    return pts


def test_hand_computed_oks_two_labeled_points():
    gt = [0.0] * 51
    gt[0:3] = [0, 0, 2]  # nose
    gt[3:6] = [10, 10, 1]  # left eye, labeled but occluded: still counts
    pred = [0.0] * 51
    pred[0:3] = [1, 0, 0]  # nose 1 px off; predicted v is ignored
    pred[3:6] = [10, 10, 0]
    area = 10 * 10  # the box of the labeled GT points
    e = 1 / (2 * 0.026) ** 2 / (area + 2.220446049250313e-16) / 2
    expected = (math.exp(-e) + 1.0) / 2
    assert oks_matrix([pred], [gt])[0, 0] == pytest.approx(expected, rel=1e-15)
    assert keypoint_score([pred], [gt]) == pytest.approx(expected, rel=1e-15)


def test_oks_matrix_equals_per_pair_formula():
    rng = np.random.default_rng(0)
    gts = [np.array(_person(), dtype=float), np.array(_person(300, 50), dtype=float)]
    gts[1][2::3][[0, 3, 9]] = 0  # another labeled pattern
    preds = [g + np.repeat(rng.normal(0, 3, 17), 3) * np.tile([1, 1, 0], 17) for g in gts] + [gts[0] + 1.0]
    oks = oks_matrix(preds, gts)
    var = (2 * COCO_SIGMAS) ** 2
    for i, d in enumerate(preds):
        for j, g in enumerate(gts):
            lab = g[2::3] > 0
            area = (g[1::3][lab].max() - g[1::3][lab].min()) * (g[0::3][lab].max() - g[0::3][lab].min())
            e = ((d[0::3] - g[0::3]) ** 2 + (d[1::3] - g[1::3]) ** 2) / var / (area + np.spacing(1)) / 2
            assert oks[i, j] == np.sum(np.exp(-e[lab])) / lab.sum()


def test_single_labeled_point_has_zero_area():
    gt = _person()
    gt[5::3] = [0] * 16  # only the nose stays labeled
    exact, off = _person(), _person(101.0)
    assert keypoint_score([exact], [gt]) == 1.0
    assert keypoint_score([off], [gt]) == 0.0


def test_far_false_positive_counts_in_the_denominator():
    assert keypoint_score([_person(), _person(5000, 5000)], [_person()]) == 0.5


def test_empty_cases():
    assert keypoint_score([], []) == 1.0
    assert keypoint_score([], [_person()]) == 0.0
    assert keypoint_score([_person()], []) == 0.0


def test_gt_without_labeled_keypoint_is_unscorable_only_when_scored():
    unlabeled = _person(v=0)
    with pytest.raises(UnscorableInput, match="ground-truth keypoint instance 1 has no labeled keypoint"):
        keypoint_score([_person()], [_person(), unlabeled])
    assert keypoint_score([], [unlabeled]) == 0.0  # official: the empty prediction short-cuts


@pytest.mark.parametrize(
    "pred, message",
    [
        ([_person()[:50]], "predicted keypoint instance 0 has 50 values"),
        ([_person(), _person()[:34]], "predicted keypoint instance 1 has 34 values"),
        ([_person()[:-1] + [float("nan")]], "not a finite number"),
        ([[[100, 100, 2]] * 17], "has 17 values; it must be a flat list"),
        ([_person()[:-1] + ["x"]], "not 51 numbers"),
        ([_person()[:-1] + [None]], "not a finite number"),
        ([17], "not a flat list"),
    ],
)
def test_malformed_predictions_are_unscorable(pred, message):
    with pytest.raises(UnscorableInput, match=message):
        keypoint_score(pred, [_person()])


offset = st.tuples(st.floats(0, 2000), st.floats(0, 2000))


@settings(max_examples=40, deadline=None)
@given(st.lists(offset, min_size=1, max_size=4), st.lists(offset, min_size=1, max_size=4), st.randoms())
def test_bounded_deterministic_and_permutation_invariant(pred_xy, gt_xy, rnd):
    preds = [_person(x, y) for x, y in pred_xy]
    gts = [_person(x + 3.0, y - 2.0) for x, y in gt_xy]
    score = keypoint_score(preds, gts)
    assert 0 <= score <= 1 and keypoint_score(preds, gts) == score
    rnd.shuffle(preds)
    rnd.shuffle(gts)
    assert keypoint_score(preds, gts) == pytest.approx(score, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.lists(offset, min_size=1, max_size=4, unique=True))
def test_perfect_prediction_scores_one(xy):
    people = [_person(x, y) for x, y in xy]
    assert keypoint_score(people, people) == 1.0
