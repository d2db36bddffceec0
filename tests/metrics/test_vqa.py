"""VQA: GRIT normalisation and score, and the official VQAv2 accuracy (hand-computed)."""
from __future__ import annotations

from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.errors import UnscorableInput
from metrics.vqa import CONTRACTIONS, grit_vqa_score, normalize_answer, vqav2_accuracy


@pytest.mark.parametrize(
    "text, expected",
    [
        (" The Tennis-Racket. ", "tennis racket"),
        ("3,000", "3000"),
        ("1,000 dollars!", "1000 dollars"),  # a digit-comma-digit deletes every mark
        ("hello,world", "hello world"),  # mark not next to a space -> a space
        ("yes - no", "yes no"),  # mark next to a space -> deleted
        ("a-b", "b"),  # "-" becomes a space, then the article "a" is dropped
        ("none", "0"),
        ("Ten", "10"),
        ("3.5", "3.5"),
        ("3.", "3"),
        ("mr. smith", "mr smith"),
        ("Dont", "don't"),
        ("whats", "what's"),
        ("Im", "im"),  # the table's capitalised keys never match
        ("\tNo\n", "no"),
        ("dogs", "dogs"),
        ("it's: #1 & $5 * 2%", "it's: #1 & $5 * 2%"),  # ' : # & $ * % are not punctuation here
        ("." * 40 + "yes", "." * 8 + "yes"),  # re.UNICODE (32) passed as count: 32 removed
    ],
)
def test_normalize_answer(text, expected):
    assert normalize_answer(text) == expected


def test_contraction_table_has_the_toolkit_oddities():
    assert len(CONTRACTIONS) == 120
    assert CONTRACTIONS["somebody'd"] == "somebodyd"
    assert CONTRACTIONS["twas"] == "'twas"


RACKET = ["racket", "racket", "tennis racket", "racket", "racket",
          "tennis racket", "tennis racket", "racquet", "tennis racket", "tennis racket"]


@pytest.mark.parametrize(
    "pred, gts, expected",
    [
        ("racket", RACKET, 1.0),
        ("racquet", RACKET, 1 / 3),
        ("Red", ["red"] * 2 + ["blue"] * 8, 2 / 3),
        ("two", ["two"] * 4 + ["2"] + ["dog"] * 5, 1.0),
        ("yes", ["Yes"] * 10, 1.0),
        ("", ["yes"] * 10, 0.0),
        ("dog", ["dogs"] * 10, 0.0),
    ],
)
def test_grit_vqa_score(pred, gts, expected):
    assert grit_vqa_score(pred, gts) == expected


# Hand computed. With m matching GT answers out of 10, leaving out a matching one gives
# min(1, (m - 1) / 3), leaving out another min(1, m / 3); the score is their mean.
LEGACY_CASES = [
    ("two", ["2"] * 10, 1.0),
    ("Yes", ["yes"] * 10, 1.0),  # the prediction is lower-cased ...
    ("yes", ["Yes"] * 10, 0.0),  # ... identical GT answers are not
    ("1,000", ["1000"] * 10, 1.0),
    ("a dog", ["dog"] * 10, 1.0),  # the prediction loses its article
    # GT answers differ -> punctuation step only: "two" stays "two", pred becomes "2".
    # Leaving out "2" leaves 0 matches, else 1: (9 * 1/3 + 0) / 10.
    ("two", ["two"] * 4 + ["2"] + ["dog"] * 5, 0.3),
    # "a dog" keeps its article in GT: (2 * 1/3 + 8 * 2/3) / 10.
    ("the dog", ["dog"] * 2 + ["a dog"] * 8, 0.6),
    # "yes!" -> "yes " (a space, not stripped) in GT: (8 * 2/3 + 2 * 1/3) / 10.
    ("yes", ["yes!"] * 8 + ["yes"] * 2, 0.6),
    ("red", ["red"] * 2 + ["blue"] * 8, 0.6),
    ("red", ["red"] * 3 + ["blue"] * 7, 0.9),
    ("red", ["red"] * 4 + ["blue"] * 6, 1.0),
    ("RED", ["Red"] * 2 + ["blue"] * 8, 0.0),  # GT never lower-cased
    ("2", ["two"] * 3 + ["three"] * 7, 0.0),  # GT number words stay words
    ("t-shirt", ["t shirt"] * 3 + ["shirt"] * 7, 0.9),  # "-" -> " " on the prediction
]
OFFICIAL_CASES = [
    # Unanimous GT: exact comparison after strip only.
    ("two", ["2"] * 10, 0.0),
    ("Yes", ["yes"] * 10, 0.0),
    ("Yes", ["Yes"] * 10, 1.0),
    (" yes\n", ["yes"] * 10, 1.0),  # newline -> space, then strip
    ("yes", ["yes\t"] * 10, 1.0),  # GT answers are stripped too
    ("1,000", ["1000"] * 10, 0.0),
    ("a dog", ["dog"] * 10, 0.0),
    ("yes!", ["yes"] * 10, 0.0),
    # Not unanimous: both sides fully normalised. "two" and "2" -> "2" (5 of 10 match).
    ("two", ["two"] * 4 + ["2"] + ["dog"] * 5, 1.0),
    ("the dog", ["dog"] * 2 + ["a dog"] * 8, 1.0),  # every GT -> "dog"
    ("yes", ["yes!"] * 8 + ["yes"] * 2, 1.0),
    ("RED", ["Red"] * 2 + ["blue"] * 8, 0.6),  # GT lower-cased: (2 * 1/3 + 8 * 2/3) / 10
    ("2", ["two"] * 3 + ["three"] * 7, 0.9),  # (3 * 2/3 + 7 * 1) / 10
    ("none", ["0", "zero"] + ["1"] * 8, 0.6),  # (2 * 1/3 + 8 * 2/3) / 10
    ("3,000", ["3000"] * 3 + ["three thousand"] * 7, 0.9),
    ("red", ["red"] * 4 + ["blue"] * 6, 1.0),
]


@pytest.mark.parametrize("pred, gts, expected", LEGACY_CASES)
def test_vqav2_accuracy_legacy_hand_computed(pred, gts, expected):
    assert vqav2_accuracy(pred, gts, rule="legacy") == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("pred, gts, expected", OFFICIAL_CASES)
def test_vqav2_accuracy_official_hand_computed(pred, gts, expected):
    assert vqav2_accuracy(pred, gts) == pytest.approx(expected, abs=1e-12)
    assert vqav2_accuracy(pred, gts, rule="official") == vqav2_accuracy(pred, gts)


def test_vqav2_unknown_rule():
    with pytest.raises(ValueError, match="unknown VQAv2 rule"):
        vqav2_accuracy("yes", ["yes"] * 10, rule="lmms")


def test_grit_and_vqav2_differ_where_documented():
    gts = ["red"] * 3 + ["blue"] * 7
    assert grit_vqa_score("red", gts) == 1.0
    assert vqav2_accuracy("red", gts) == pytest.approx(0.9)


@pytest.mark.parametrize("call", [grit_vqa_score, vqav2_accuracy, partial(vqav2_accuracy, rule="legacy")])
def test_bad_inputs_are_unscorable(call):
    with pytest.raises(UnscorableInput, match="must be a string"):
        call(["yes"], ["yes"] * 10)
    with pytest.raises(UnscorableInput, match="non-empty list"):
        call("yes", [])
    with pytest.raises(UnscorableInput, match="ground-truth answer 1"):
        call("yes", ["yes", None])


answers = st.lists(st.sampled_from(["yes", "no", "2", "two", "Red", "a dog", "dog!", "3,000"]), min_size=1, max_size=10)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(["yes", "No", "two", "red", "the dog", "3000"]), answers)
def test_scores_bounded_and_deterministic(pred, gts):
    for fn in (grit_vqa_score, vqav2_accuracy, partial(vqav2_accuracy, rule="legacy")):
        s = fn(pred, gts)
        assert 0 <= s <= 1 and fn(pred, gts) == s
