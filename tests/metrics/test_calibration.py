"""Per-sample leaderboard measures (spec section 3), hand-computed."""
from __future__ import annotations

import numpy as np
import pytest

from metrics.calibration import MEASURES, sample_measures


def test_hand_computed_values():
    m = sample_measures(np.array([1.0, 0.0, 0.5]), np.array([0.9, 0.2, 0.5]))
    assert tuple(m) == MEASURES
    np.testing.assert_allclose(m["acc"], [100, 0, 50])
    np.testing.assert_allclose(m["inf"], [90, 0, 25])
    np.testing.assert_allclose(m["misinf"], [0, 20, 25])
    np.testing.assert_allclose(m["conf"], [90, 20, 50])
    np.testing.assert_allclose(m["sa"], [90, 80, 50])
    np.testing.assert_allclose(m["rmse"], [100, 400, 0])


def test_confidence_is_not_clipped_and_nan_passes_through():
    m = sample_measures(np.array([1.0, 1.0]), np.array([1.5, np.nan]))
    assert m["conf"][0] == 150 and m["sa"][0] == 150 and m["rmse"][0] == pytest.approx(2500)
    assert np.isnan(m["conf"][1])


def test_vectorised_equals_elementwise():
    rng = np.random.default_rng(0)
    s, c = rng.random(50), rng.random(50)
    batch = sample_measures(s, c)
    for i in range(50):
        one = sample_measures(s[i], c[i])
        for name in MEASURES:
            assert batch[name][i] == one[name]


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="shape"):
        sample_measures(np.zeros(3), np.zeros(2))
