"""Angular error of surface normals: hand-computed angles and pooled summaries."""
from __future__ import annotations

import numpy as np
import pytest

from metrics.errors import UnscorableInput
from metrics.normal_angular import angular_errors, decode_normal_png, summarize_angular_errors


def _map(*vectors):
    return np.array([vectors], dtype=np.float64)  # [1, K, 3]


def test_hand_computed_angles():
    gt = _map([0, 0, 1], [0, 0, 1], [0, 0, 1], [1, 0, 0])
    pred = _map([0, 0, 5], [1, 0, 1], [0, 1, 0], [-1, 0, 0])  # lengths do not matter
    np.testing.assert_allclose(angular_errors(pred, gt), [0.0, 45.0, 90.0, 180.0], atol=1e-6)


def test_invalid_pixels_skipped_and_zero_prediction_is_worst():
    gt = _map([0, 0, 1], [0, 0, 0])
    pred = _map([0, 0, 1], [0, 0, 1])
    np.testing.assert_allclose(angular_errors(pred, gt), [0.0])
    valid = np.array([[True, False]])
    assert angular_errors(_map([0, 0, 0], [0, 0, 1]), gt, valid)[0] == pytest.approx(180.0)


def test_summary_pools_pixels_over_images():
    errors = [np.array([5.0, 20.0, 40.0]), np.array([10.0])]
    s = summarize_angular_errors(errors)
    assert s["mean"] == pytest.approx(18.75)
    assert s["median"] == pytest.approx(15.0)  # pooled median of 5, 10, 20, 40
    assert s["rmse"] == pytest.approx(np.sqrt((25 + 400 + 1600 + 100) / 4))
    assert (s["within_11.25"], s["within_22.5"], s["within_30"]) == (0.5, 0.75, 0.75)
    assert s["n_pixels"] == 4


def test_decode_png_roundtrip_and_black_is_invalid():
    n = np.array([[[0.0, 0.0, 1.0], [0.6, 0.0, -0.8]]])
    rgb = np.round((n + 1) / 2 * 255).astype(np.uint8)
    rgb = np.concatenate([rgb, np.zeros((1, 1, 3), np.uint8)], axis=1)
    decoded, valid = decode_normal_png(rgb)
    assert valid.tolist() == [[True, True, False]]
    errs = angular_errors(decoded, np.concatenate([n, np.zeros((1, 1, 3))], axis=1), valid)
    assert np.all(errs < 0.5)  # 8-bit quantisation only


@pytest.mark.parametrize("pred, gt", [(np.ones((2, 2, 3)), np.ones((2, 3, 3))),
                                      (np.ones((2, 2)), np.ones((2, 2)))])
def test_bad_shapes(pred, gt):
    with pytest.raises(UnscorableInput, match="shape"):
        angular_errors(pred, gt)


def test_empty_summary():
    with pytest.raises(UnscorableInput):
        summarize_angular_errors([np.zeros(0)])
