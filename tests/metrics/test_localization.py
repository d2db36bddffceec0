"""Localization score: hand-computed cases and properties (bounds, permutations, maximum)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.errors import UnscorableInput
from metrics.localization import localization_score


def test_hand_computed_two_gt_one_pred():
    # Pred equals GT 0 (area 100): (100 / (100 + 1e-6)) / (1 pred + 1 missed).
    assert localization_score([[0, 0, 10, 10]], [[0, 0, 10, 10], [50, 50, 60, 60]]) == (100 / (100 + 1e-6)) / 2


def test_empty_cases():
    assert localization_score([], []) == 1.0
    assert localization_score([], [[0, 0, 1, 1]]) == 0.0
    assert localization_score([[0, 0, 1, 1]], []) == 0.0


def test_degenerate_prediction_counts_as_a_prediction():
    score = localization_score([[0, 0, 10, 10], [5, 5, 5, 9]], [[0, 0, 10, 10]])
    assert score == (100 / (100 + 1e-6)) / 2


def test_malformed_box_is_unscorable():
    with pytest.raises(UnscorableInput, match="ground-truth box 0 has 2 numbers"):
        localization_score([[0, 0, 1, 1]], [[0, 0]])


def _box(draw_xywh):
    x, y, w, h = draw_xywh
    return [x, y, x + w, y + h]


generic_box = st.tuples(
    st.floats(0, 500), st.floats(0, 500), st.floats(1, 200), st.floats(1, 200)
).map(_box)


@settings(max_examples=60, deadline=None)
@given(st.lists(generic_box, min_size=1, max_size=6), st.lists(generic_box, min_size=1, max_size=6), st.randoms())
def test_bounded_deterministic_and_permutation_invariant(pred, gt, rnd):
    score = localization_score(pred, gt)
    assert 0 <= score <= 1
    assert localization_score(pred, gt) == score
    p2, g2 = pred[:], gt[:]
    rnd.shuffle(p2)
    rnd.shuffle(g2)
    assert localization_score(p2, g2) == pytest.approx(score, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(generic_box, min_size=1, max_size=6))
def test_perfect_prediction_scores_official_maximum(gt):
    areas = np.array([(b[2] - b[0]) * (b[3] - b[1]) for b in gt])
    assert localization_score(gt, gt) == pytest.approx(np.mean(areas / (areas + 1e-6)), abs=1e-12)
