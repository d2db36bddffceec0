"""Categorization: exact string equality with the first GT word, nothing else."""
from __future__ import annotations

import pytest

from metrics.categorization import categorization_score
from metrics.errors import UnscorableInput


@pytest.mark.parametrize(
    "pred, gt, expected",
    [
        ("dog", ["dog"], 1.0),
        ("Dog", ["dog"], 0.0),
        ("dog ", ["dog"], 0.0),
        ("hot dog", ["hot dog", "sausage"], 1.0),
        ("sausage", ["hot dog", "sausage"], 0.0),
        (["dog"], ["dog"], 0.0),  # official: a list is simply unequal to the string
    ],
)
def test_exact_equality(pred, gt, expected):
    assert categorization_score(pred, gt) == expected


def test_bad_ground_truth_is_unscorable():
    with pytest.raises(UnscorableInput, match="empty"):
        categorization_score("dog", [])
    with pytest.raises(UnscorableInput, match="list"):
        categorization_score("dog", "dog")
