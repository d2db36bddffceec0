"""RefCOCO Acc@0.5 and mean IoU with the plain IoU (no +1 pixel, no epsilon)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics.errors import UnscorableInput
from metrics.refexp_accuracy import paired_iou, refexp_accuracy


def test_hand_computed():
    gt = [[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]]
    pred = [[0, 0, 10, 10],   # IoU 1
            [0, 0, 10, 5],    # IoU exactly 0.5: a miss with the strict rule
            [5, 0, 15, 10],   # 50 / 150 = 1/3
            [20, 20, 30, 30]]  # 0
    np.testing.assert_allclose(paired_iou(pred, gt), [1.0, 0.5, 1 / 3, 0.0])
    r = refexp_accuracy(pred, gt)
    assert r["accuracy"] == 0.25
    assert r["mean_iou"] == pytest.approx((1 + 0.5 + 1 / 3) / 4)
    assert refexp_accuracy(pred, gt, inclusive=True)["accuracy"] == 0.5


def test_degenerate_boxes_score_zero():
    assert paired_iou([[1, 1, 1, 1]], [[1, 1, 1, 1]])[0] == 0.0


@pytest.mark.parametrize("pred, gt", [([[0, 0, 1]], [[0, 0, 1, 1]]),
                                      ([[0, 0, 1, 1]], [[0, 0, 1, 1], [0, 0, 1, 1]]),
                                      ([[0, 0, np.nan, 1]], [[0, 0, 1, 1]]),
                                      ([], [])])
def test_bad_input(pred, gt):
    with pytest.raises(UnscorableInput):
        refexp_accuracy(pred, gt)


_coord = st.floats(-50, 50, allow_nan=False)


@given(st.lists(st.tuples(_coord, _coord, st.floats(0.5, 40), st.floats(0.5, 40)),
                min_size=1, max_size=8))
def test_identity_is_one_and_symmetric(rows):
    boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in rows])
    np.testing.assert_allclose(paired_iou(boxes, boxes), 1.0)
    shifted = boxes + 3.0
    np.testing.assert_allclose(paired_iou(boxes, shifted), paired_iou(shifted, boxes))
    assert np.all((paired_iou(boxes, shifted) >= 0) & (paired_iou(boxes, shifted) <= 1))
