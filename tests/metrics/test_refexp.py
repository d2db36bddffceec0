"""Refexp: first box only, strict IoU > 0.5 with the +1e-6 in the denominator."""
from __future__ import annotations

import pytest

from metrics.errors import UnscorableInput
from metrics.refexp import refexp_score


def test_exact_half_iou_fails_and_just_above_passes():
    assert refexp_score([[0, 0, 10, 5]], [[0, 0, 10, 10]]) == 0.0  # 50 / (100 + 1e-6) < 0.5
    assert refexp_score([[0, 0, 100, 51]], [[0, 0, 100, 100]]) == 1.0


def test_only_first_boxes_count_and_extras_are_not_validated():
    assert refexp_score([[50, 50, 60, 60], [0, 0, 10, 10]], [[0, 0, 10, 10]]) == 0.0
    assert refexp_score([[0, 0, 10, 10], [1, 2]], [[0, 0, 10, 10]]) == 1.0


def test_empty_prediction_scores_zero():
    assert refexp_score([], [[0, 0, 10, 10]]) == 0.0


def test_missing_ground_truth_or_bad_first_box_is_unscorable():
    with pytest.raises(UnscorableInput, match="no box"):
        refexp_score([[0, 0, 1, 1]], [])
    with pytest.raises(UnscorableInput, match="predicted box 0 has 3 numbers"):
        refexp_score([[0, 0, 1]], [[0, 0, 1, 1]])
