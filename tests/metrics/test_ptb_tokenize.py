"""Pure-Python PTB tokenization against the official Java PTBTokenizer output (golden).

Golden provenance: ``shared/golden/captioning/cider_example.json`` (``official_ptb`` and the
``ptb`` column of ``tokenizer_divergence``) is Stanford CoreNLP 3.4.1 ``PTBTokenizer
-preserveLines -lowerCase`` + pycocoevalcap's punctuation removal. The hand cases follow the
PTB conventions documented for that tokenizer.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics.ptb_tokenize import ptb_tokenize, ptb_tokens


@pytest.fixture(scope="module")
def golden(golden_dir):
    return json.loads((golden_dir / "captioning" / "cider_example.json").read_text())


def test_golden_captions(golden):
    for key, captions in golden["inputs"]["gts"].items():
        want = golden["official_ptb"]["tokenized_gts"][key]
        assert [ptb_tokenize(c) for c in captions] == want
    for key, caption in golden["inputs"]["res"].items():
        assert ptb_tokenize(caption) == golden["official_ptb"]["tokenized_res"][key][0]


def test_golden_divergence_strings(golden):
    # These are the strings where a naive regex tokenizer differs from PTB.
    for case in golden["tokenizer_divergence"]:
        assert ptb_tokenize(case["raw"]) == case["ptb"], case["raw"]


@pytest.mark.parametrize(
    "raw, want",
    [
        ("I can't", "i ca n't"),
        ("It won't", "it wo n't"),
        ("They're here, we've gone; I'll stay.", "they 're here we 've gone i 'll stay"),
        ("He'd say I'm fine", "he 'd say i 'm fine"),
        ("The dogs' toys", "the dogs toys"),  # possessive s' -> "'" which is dropped
        ("Mr. Smith at 10:30, 1,000 cats", "mr. smith at 10:30 1,000 cats"),
        ("[a] {b} (c)", "-lsb- a -rsb- -lcb- b -rcb- -lrb- c -rrb-"),
        ("I cannot go", "i can not go"),
        ("a -- b - c ... d", "a b c d"),
        ("\u201cQuoted\u201d `word' here", "quoted word here"),
        ("The man\u2019s hat", "the man 's hat"),
        ("Two\nlines", "two lines"),
        ("", ""),
        ("...", ""),
    ],
)
def test_ptb_conventions(raw, want):
    assert ptb_tokenize(raw) == want


@given(st.text(alphabet="abcXYZ 019.,;:!?'\"()-\n", max_size=40))
def test_output_is_lowercase_and_punctuation_free(text):
    tokens = ptb_tokens(text)
    dropped = {".", ",", ";", ":", "!", "?", "'", '"', "-", "--", "...", "``", "''", "`"}
    assert all(t == t.lower() and t and " " not in t for t in tokens)
    assert not dropped & set(tokens)


@given(st.lists(st.sampled_from(["a", "dog", "sat", "on", "mat"]), max_size=8))
def test_fast_path_agrees_with_full_path(words):
    # A plain caption goes through the fast path; adding a digit forces the full regex path.
    plain = " ".join(words).capitalize() + "."
    assert ptb_tokens(plain) + ["7"] == ptb_tokens(plain.rstrip(".") + " 7.")
