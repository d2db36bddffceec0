"""Pure-Python PTB tokenization against the official Java PTBTokenizer output (golden).

Golden provenance: ``shared/golden/captioning/cider_example.json`` (``official_ptb`` and the
``ptb`` column of ``tokenizer_divergence``) is Stanford CoreNLP 3.4.1 ``PTBTokenizer
-preserveLines -lowerCase`` + pycocoevalcap's punctuation removal. Every expected string in
the parametrised cases below was produced by that same jar (pycocoevalcap 1.2's
``PTBTokenizer().tokenize``, Java 17) on 2026-11-26, not by this module.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics.ptb_tokenize import ptb_tokenize, ptb_tokenize_lines, ptb_tokens


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
        ("wow!! really?!", "wow !! really ?!"),
        ("dog.. dog....", "dog dog"),
        ("a man's-best friend", "a man 's best friend"),
        ("don't-care", "do n't care"),
        ("rock'n'roll at 5 o'clock", "rock 'n' roll at 5 o'clock"),
        ("a rock 'n' roll band", "a rock 'n' roll band"),
        ("'tis y'all", "'t is y' all"),
        ("No. 5 bus", "no. 5 bus"),
        ("the no. ", "the no"),
        ("plan b. now", "plan b. now"),
        ("x a. Y", "x a. y"),
        ("x a. The y", "x a the y"),  # initial before a sentence starter: period split off
        ("x u.s. The y", "x u.s. the y"),  # ... but only single-letter initials
        ("at 5 p.m.", "at 5 p.m."),
        ("the 80's", "the 80 's"),
        ("a 3-d tv, 3/4 cup", "a 3-d tv 3/4 cup"),
        ("www.google.com", "www.google.com"),
        ("a cafe\u0301", "a cafe\u0301"),
    ],
)
def test_ptb_conventions(raw, want):
    assert ptb_tokenize(raw) == want


def test_initial_at_line_end_looks_at_the_next_line():
    # pycocoevalcap tokenizes a whole file; PTB's look-ahead crosses the newline.
    lines = ["x a.", "A dog", "x a.", "Red dog", "x b. ", "The end", "x i.", "I dog", "x a."]
    got = [" ".join(t) for t in ptb_tokenize_lines(lines)]
    assert got == ["x a", "a dog", "x a.", "red dog", "x b", "the end", "x i.", "i dog", "x a."]


@given(st.text(alphabet="abcXYZ 019.,;:!?'\"()-\n", max_size=40))
def test_output_is_lowercase_and_punctuation_free(text):
    tokens = ptb_tokens(text)
    dropped = {".", ",", ";", ":", "!", "?", "'", '"', "-", "--", "...", "``", "''", "`"}
    assert all(t == t.lower() and t and " " not in t for t in tokens)
    assert not dropped & set(tokens)


@given(st.lists(st.sampled_from(["the", "dog", "sat", "on", "mat"]), max_size=8))
def test_fast_path_agrees_with_full_path(words):
    # A plain caption goes through the fast path; adding a digit forces the full regex path.
    plain = " ".join(words).capitalize() + "."
    assert ptb_tokens(plain) + ["7"] == ptb_tokens(plain.rstrip(".") + " 7.")
