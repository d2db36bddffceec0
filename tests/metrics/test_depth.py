"""Depth metrics on hand-computed maps; aggregation is the mean of per-image values."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from metrics.depth import aggregate_depth, depth_metrics
from metrics.errors import UnscorableInput


def test_hand_computed_values():
    gt = np.array([[1.0, 2.0], [4.0, 0.0]])  # the 0 is "no reading": ignored
    pred = np.array([[1.0, 3.0], [2.0, 9.0]])
    m = depth_metrics(pred, gt)
    # errors: 0, 1, -2 -> rmse sqrt(5/3); abs_rel (0 + 1/2 + 2/4)/3; ratios 1, 1.5, 2.
    assert m["rmse"] == pytest.approx(math.sqrt(5 / 3))
    assert m["abs_rel"] == pytest.approx(1 / 3)
    assert m["delta1"] == pytest.approx(1 / 3)  # only ratio 1 < 1.25
    assert m["delta2"] == pytest.approx(2 / 3)  # 1.5 < 1.5625
    assert m["delta3"] == pytest.approx(2 / 3)  # 2 >= 1.953125
    assert m["n_valid"] == 3


def test_out_of_range_gt_ignored_and_pred_clipped():
    gt = np.array([[1.0, 12.0]])  # 12 m is beyond NYUv2's 10 m cap
    pred = np.array([[0.0, 1.0]])  # a zero prediction is clipped to 1e-3, not divided by
    m = depth_metrics(pred, gt)
    assert m["n_valid"] == 1
    assert m["rmse"] == pytest.approx(1.0 - 1e-3)
    assert depth_metrics(pred, gt, max_depth=None)["n_valid"] == 2


def test_corpus_is_mean_of_per_image_rmse_not_pooled():
    a = depth_metrics(np.array([[2.0]]), np.array([[1.0]]))  # rmse 1
    c = depth_metrics(np.array([[3.0]]), np.array([[1.0]]))  # rmse 2
    assert aggregate_depth([a, c])["rmse"] == pytest.approx(1.5)  # pooled: sqrt(5/2) = 1.58
    assert aggregate_depth([a, c])["n_images"] == 2


def test_eigen_crop_ignores_border():
    gt = np.full((480, 640), 2.0)
    pred = gt.copy()
    pred[0, :] = 9.0  # row 0 is outside the crop
    assert depth_metrics(pred, gt, eigen_crop=True)["rmse"] == 0.0
    assert depth_metrics(pred, gt)["rmse"] > 0.0


@pytest.mark.parametrize(
    "pred, gt, match",
    [
        (np.ones((2, 2)), np.ones((2, 3)), "equal in shape"),
        (np.ones((2, 2)), np.zeros((2, 2)), "no valid"),
        (np.full((1, 1), np.nan), np.ones((1, 1)), "NaN"),
    ],
)
def test_bad_input(pred, gt, match):
    with pytest.raises(UnscorableInput, match=match):
        depth_metrics(pred, gt)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (4, 5), elements=st.floats(0.1, 7.6)))  # 1.3x stays < 10 m
def test_perfect_prediction_and_bounds(gt):
    m = depth_metrics(gt, gt)
    assert m["rmse"] == 0.0 and m["abs_rel"] == 0.0 and m["delta1"] == 1.0
    noisy = depth_metrics(gt * 1.3, gt)
    assert 0.0 <= noisy["delta1"] <= noisy["delta2"] <= noisy["delta3"] <= 1.0
    assert noisy["delta1"] == 0.0 and noisy["abs_rel"] == pytest.approx(0.3)
