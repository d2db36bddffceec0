"""The shared one-to-one matching rule: empty cases, kept pairs, denominator, costs."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from metrics.matching import one_to_one_score


@pytest.mark.parametrize("cost", ["one_minus", "negative"])
def test_empty_cases(cost):
    assert one_to_one_score(np.zeros((0, 0)), cost=cost) == 1.0
    assert one_to_one_score(np.zeros((0, 3)), cost=cost) == 0.0
    assert one_to_one_score(np.zeros((2, 0)), cost=cost) == 0.0


@pytest.mark.parametrize("cost", ["one_minus", "negative"])
def test_zero_similarity_pairs_are_not_kept(cost):
    # One real match (0.5); the other assigned pair has similarity 0 and is dropped, so the
    # second GT counts as missed: 0.5 / (2 predictions + 1 missed).
    sim = np.array([[0.5, 0.0], [0.0, 0.0]])
    assert one_to_one_score(sim, cost=cost) == 0.5 / 3


def test_assignment_maximises_total_similarity():
    # Greedy would take 0.9 and leave 0.1; the optimum is 0.8 + 0.8.
    sim = np.array([[0.9, 0.8], [0.8, 0.1]])
    assert one_to_one_score(sim, cost="one_minus") == pytest.approx((0.8 + 0.8) / 2, abs=0)


def test_extra_predictions_enlarge_the_denominator():
    sim = np.array([[1.0], [0.0], [0.0]])
    assert one_to_one_score(sim, cost="negative") == 1.0 / 3


def test_cost_must_be_named():
    with pytest.raises(TypeError):
        one_to_one_score(np.ones((1, 1)))  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="cost must be"):
        one_to_one_score(np.ones((1, 1)), cost="minus")  # type: ignore[arg-type]


def test_non_finite_similarity_is_rejected():
    with pytest.raises(ValueError, match="NaN"):
        one_to_one_score(np.array([[np.nan]]), cost="negative")


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 5)), elements=st.floats(0, 1)))
def test_score_bounded_and_costs_agree_without_ties(sim):
    a = one_to_one_score(sim, cost="one_minus")
    b = one_to_one_score(sim, cost="negative")
    assert 0 <= a <= 1 and 0 <= b <= 1
    # Both costs have the same optimum value; only tie-breaking may differ.
    assert a == pytest.approx(b, abs=1e-12) or len(np.unique(sim)) < sim.size
