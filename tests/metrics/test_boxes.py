"""Box IoU: official area rule (no +1 pixel, degenerate = 0) and +1e-6 in the denominator."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.boxes import as_boxes, box_iou
from metrics.errors import UnscorableInput


def test_hand_computed_overlap():
    # 10x10 boxes overlapping in a 5x5 square: 25 / (100 + 100 - 25 + 1e-6).
    iou = box_iou([[0, 0, 10, 10]], [[5, 5, 15, 15]])
    assert iou.shape == (1, 1)
    assert iou[0, 0] == 25 / (175 + 1e-6)


def test_identical_box_is_just_below_one():
    # The docs' example: a 40x50 box scores 2000 / (2000 + 1e-6) = 0.9999999995.
    assert box_iou([[10, 10, 50, 60]], [[10, 10, 50, 60]])[0, 0] == 2000 / (2000 + 1e-6)


def test_degenerate_and_touching_boxes_have_zero_iou():
    iou = box_iou([[10, 0, 5, 10], [0, 0, 10, 0], [10, 0, 20, 10]], [[0, 0, 10, 10]])
    np.testing.assert_array_equal(iou[:, 0], [0.0, 0.0, 0.0])


def test_matrix_layout_and_empty_sides():
    pred = [[0, 0, 10, 10], [100, 100, 110, 110], [0, 0, 5, 10]]
    gt = [[0, 0, 10, 10], [0, 0, 5, 10]]
    iou = box_iou(pred, gt)
    assert iou.shape == (3, 2)
    assert iou[2, 1] == 50 / (50 + 1e-6)
    assert iou[0, 1] == 50 / (100 + 1e-6)
    assert iou[1].max() == 0.0
    assert box_iou([], gt).shape == (0, 2)
    assert box_iou(pred, []).shape == (3, 0)


def test_array_input_equals_list_input():
    pred = [[0.5, 1.25, 7.0, 9.5], [-3, -3, 4, 4]]
    gt = [[1, 1, 8, 8]]
    np.testing.assert_array_equal(box_iou(np.array(pred), np.array(gt)), box_iou(pred, gt))


@pytest.mark.parametrize(
    "boxes, message",
    [
        ([[0, 0, 10, 10], [0, 0, 10]], "predicted box 1 has 3 numbers"),
        ([[0, 0, 10, 10, 1]], "predicted box 0 has 5 numbers"),
        ([[0, 0, float("nan"), 10]], "not a finite number"),
        ([[0, 0, "a", 10]], "not 4 numbers"),
        ([5], "not a list of 4 numbers"),
        ({"bbox": [0, 0, 1, 1]}, "must be a list"),
    ],
)
def test_malformed_boxes_raise_clear_errors(boxes, message):
    with pytest.raises(UnscorableInput, match=message):
        as_boxes(boxes, "predicted")


def test_non_finite_array_input_is_rejected():
    with pytest.raises(UnscorableInput, match="ground-truth box 1"):
        as_boxes(np.array([[0, 0, 1, 1], [0, 0, np.inf, 1]]), "ground-truth")


coord = st.floats(-100, 100, allow_nan=False)
box = st.tuples(coord, coord, coord, coord).map(list)


@settings(max_examples=60, deadline=None)
@given(st.lists(box, min_size=1, max_size=5), st.lists(box, min_size=1, max_size=5))
def test_iou_bounded_and_symmetric(pred, gt):
    iou = box_iou(pred, gt)
    assert np.all(iou >= 0) and np.all(iou < 1)
    np.testing.assert_array_equal(iou, box_iou(gt, pred).T)
