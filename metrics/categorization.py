"""GRIT categorization score (grit_official ``metrics/categorization.py``, spec section 2.1)."""
from __future__ import annotations

from typing import Any, Sequence

from metrics.errors import UnscorableInput


def categorization_score(pred_words: Any, gt_words: Sequence[str]) -> float:
    """1.0 if the prediction equals the first ground-truth word exactly, else 0.0.

    Plain Python string equality, as the official code: no lower-casing, no stripping, no
    synonyms, and the options list is not consulted. A non-string prediction (e.g. a list)
    is simply unequal and scores 0, as in the official code.

    Args:
        pred_words: the predicted category name (str).
        gt_words: the ground-truth ``words`` list; only ``gt_words[0]`` is used.

    Raises:
        UnscorableInput: the ground truth has no word (the official code raises IndexError).
    """
    if isinstance(gt_words, str):
        raise UnscorableInput("categorization ground truth 'words' must be a list of strings, got a string")
    if len(gt_words) == 0:
        raise UnscorableInput("categorization ground truth has an empty 'words' list")
    return float(pred_words == gt_words[0])
