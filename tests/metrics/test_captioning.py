"""CIDEr-D against pycocoevalcap 1.2's own output (golden) and an oracle of its algorithm.

Golden provenance: ``shared/golden/captioning/cider_example.json`` was produced by running
pycocoevalcap==1.2 (Java PTBTokenizer, ``Cider().compute_score``) on the captions it holds.
"""
from __future__ import annotations

import importlib.util
import json
import math
import shutil
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.captioning import cider_d
from metrics.errors import UnscorableInput


@pytest.fixture(scope="module")
def golden(golden_dir):
    return json.loads((golden_dir / "captioning" / "cider_example.json").read_text())


def _assert_matches(result, expected):
    corpus, per_image = result
    assert corpus == pytest.approx(expected["corpus_cider"], abs=1e-6)
    assert per_image.keys() == expected["per_image_cider"].keys()
    for k, v in expected["per_image_cider"].items():
        assert per_image[k] == pytest.approx(v, abs=1e-6), k


def test_golden_official_ptb(golden):
    result = cider_d(golden["inputs"]["res"], golden["inputs"]["gts"])
    _assert_matches(result, golden["official_ptb"])


def test_golden_no_tokenizer(golden):
    result = cider_d(golden["inputs"]["res"], golden["inputs"]["gts"], tokenizer="none")
    _assert_matches(result, golden["raw_no_tokenizer"])


def test_golden_empty_hypothesis_scores_zero(golden):
    res = dict(golden["inputs"]["res"], img4="")
    _assert_matches(cider_d(res, golden["inputs"]["gts"]), golden["empty_hypothesis_img4"])


def test_subset_is_rescored_not_averaged(golden):
    ids = ["img1", "img2"]
    res = {k: golden["inputs"]["res"][k] for k in ids}
    gts = {k: golden["inputs"]["gts"][k] for k in ids}
    subset = cider_d(res, gts)
    _assert_matches(subset, golden["subset_img1_img2_ptb"])
    full = golden["official_ptb"]["per_image_cider"]
    averaged = (full["img1"] + full["img2"]) / 2
    # IDF is over the evaluated corpus: the subset's score differs from the full run's average.
    assert abs(subset[0] - averaged) > 1e-3
    assert subset[1]["img1"] != pytest.approx(full["img1"], abs=1e-6)


def test_ids_follow_reference_order(golden):
    gts = dict(reversed(list(golden["inputs"]["gts"].items())))
    assert list(cider_d(golden["inputs"]["res"], gts)[1]) == list(gts)


@pytest.mark.parametrize(
    "cands, refs, match",
    [
        ({"a": "x"}, {"b": ["x"]}, "ids differ"),
        ({"a": "x"}, {"a": []}, "non-empty list"),
        ({"a": "x"}, {"a": "x y"}, "non-empty list"),
        ({"a": 3}, {"a": ["x"]}, "strings"),
        ({}, {}, "empty"),
    ],
)
def test_bad_input_is_named(cands, refs, match):
    with pytest.raises(UnscorableInput, match=match):
        cider_d(cands, refs)


def test_unknown_tokenizer():
    with pytest.raises(UnscorableInput, match="tokenizer"):
        cider_d({"a": "x"}, {"a": ["x"]}, tokenizer="spacy")


def _oracle(cands, refs, n=4, sigma=6.0):
    """Transcription of pycocoevalcap's cider_scorer.py: per-sentence dicts, pre-split text."""

    def cook(s):
        w = s.split()
        return Counter(tuple(w[i:i + k]) for k in range(1, n + 1) for i in range(len(w) - k + 1))

    ids = list(refs)
    ctest = [cook(cands[i]) for i in ids]
    crefs = [[cook(r) for r in refs[i]] for i in ids]
    df = Counter(g for rs in crefs for g in {g for r in rs for g in r})
    ref_len = math.log(float(len(ids)))

    def vec(c):
        v, norm, length = [{} for _ in range(n)], [0.0] * n, 0
        for g, tf in c.items():
            v[len(g) - 1][g] = tf * (ref_len - math.log(max(1.0, df[g])))
            norm[len(g) - 1] += v[len(g) - 1][g] ** 2
            length += tf if len(g) == 2 else 0
        return v, [math.sqrt(x) for x in norm], length

    out = {}
    for i, t, rs in zip(ids, ctest, crefs):
        vt, nt, lt = vec(t)
        total = [0.0] * n
        for r in rs:
            vr, nr, lr = vec(r)
            for k in range(n):
                s = sum(min(x, vr[k].get(g, 0.0)) * vr[k].get(g, 0.0) for g, x in vt[k].items())
                if nt[k] != 0 and nr[k] != 0:
                    s /= nt[k] * nr[k]
                total[k] += s * math.exp(-((lt - lr) ** 2) / (2 * sigma**2))
        out[i] = 10.0 * (sum(total) / n) / len(rs)
    return sum(out.values()) / len(out), out


_caption = st.lists(st.sampled_from(["a", "b", "c", "dog", "cat", "x"]), max_size=8).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_caption, st.lists(_caption, min_size=1, max_size=4)), min_size=1,
                max_size=6))
def test_matches_oracle_of_official_algorithm(data):
    cands = {f"i{k}": c for k, (c, _) in enumerate(data)}
    refs = {f"i{k}": rs for k, (_, rs) in enumerate(data)}
    corpus, per_image = cider_d(cands, refs, tokenizer="none")
    want_corpus, want = _oracle(cands, refs)
    assert corpus == pytest.approx(want_corpus, abs=1e-9)
    for k in refs:
        assert per_image[k] == pytest.approx(want[k], abs=1e-9)
        assert per_image[k] >= 0.0


def test_perfect_candidate_beats_partial():
    refs = {"a": ["a dog on a couch"], "b": ["two cats in a box"], "c": ["a red bus"]}
    perfect = cider_d({"a": "A dog on a couch.", "b": "x", "c": "y"}, refs)[1]["a"]
    partial = cider_d({"a": "A dog on a bed.", "b": "x", "c": "y"}, refs)[1]["a"]
    assert perfect > partial > 0.0


@pytest.mark.skipif(
    importlib.util.find_spec("pycocoevalcap") is None or shutil.which("java") is None,
    reason="pycocoevalcap and Java are needed for the java tokenizer mode",
)
def test_java_tokenizer_matches_golden(golden):  # pragma: no cover - environment dependent
    result = cider_d(golden["inputs"]["res"], golden["inputs"]["gts"], tokenizer="java")
    _assert_matches(result, golden["official_ptb"])
