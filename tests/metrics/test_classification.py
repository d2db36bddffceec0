"""Top-1 accuracy on class names."""
from __future__ import annotations

import pytest

from metrics.classification import top1_accuracy, top1_correct
from metrics.errors import UnscorableInput


def test_case_and_whitespace_insensitive_but_otherwise_exact():
    assert top1_correct("  Golden  Retriever ", "golden retriever") == 1.0
    assert top1_correct("retriever", "golden retriever") == 0.0
    assert top1_correct("golden-retriever", "golden retriever") == 0.0


def test_accuracy_hand_computed():
    assert top1_accuracy(["cat", "dog", "car", "Dog"], ["cat", "cat", "car", "dog"]) == 0.75


@pytest.mark.parametrize("preds, labels", [(["a"], ["a", "b"]), ([], [])])
def test_bad_lengths(preds, labels):
    with pytest.raises(UnscorableInput):
        top1_accuracy(preds, labels)


def test_non_string():
    with pytest.raises(UnscorableInput, match="strings"):
        top1_correct(3, "cat")
