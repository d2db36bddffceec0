"""Paired comparison: hand-computed differences, sign-test p-values, bootstrap behaviour."""
from __future__ import annotations

import pandas as pd
import pytest

from results.paired import PAIRED_COLUMNS, paired_comparison


def _records(rows):
    return pd.DataFrame(rows, columns=["example_id", "task", "src", "dist", "acc"])


# vqa: sameSrc A [100, 0, 100] vs B [0, 0, 100]; newSrc A [100, 100] vs B [100, 0].
# refexp: every pair A 100 vs B 0. Plus a distorted copy (ignored) and a sample only in A.
A = _records([
    ("v1", "vqa", "sameSrc", "undist", 100.0), ("v2", "vqa", "sameSrc", "undist", 0.0),
    ("v3", "vqa", "sameSrc", "undist", 100.0), ("v4", "vqa", "newSrc", "undist", 100.0),
    ("v5", "vqa", "newSrc", "undist", 100.0), ("v1_dist", "vqa", "sameSrc", "dist", 100.0),
    ("v6", "vqa", "newSrc", "undist", 0.0),
    ("r1", "refexp", "sameSrc", "undist", 100.0), ("r2", "refexp", "sameSrc", "undist", 100.0),
    ("r3", "refexp", "newSrc", "undist", 100.0),
])
B = _records([
    ("v1", "vqa", "sameSrc", "undist", 0.0), ("v2", "vqa", "sameSrc", "undist", 0.0),
    ("v3", "vqa", "sameSrc", "undist", 100.0), ("v4", "vqa", "newSrc", "undist", 100.0),
    ("v5", "vqa", "newSrc", "undist", 0.0), ("v1_dist", "vqa", "sameSrc", "dist", 0.0),
    ("r1", "refexp", "sameSrc", "undist", 0.0), ("r2", "refexp", "sameSrc", "undist", 0.0),
    ("r3", "refexp", "newSrc", "undist", 0.0),
])


def test_hand_computed_differences_and_sign_tests():
    out = paired_comparison(A, B, n_boot=2000, seed=1).set_index("task")
    assert list(out.reset_index().columns) == list(PAIRED_COLUMNS)
    assert list(out.index) == ["vqa", "ref", "all"]
    vqa = out.loc["vqa"]
    # agg-style: mean of the sameSrc and newSrc means; v1_dist and the A-only v6 are left out
    assert vqa["n"] == 5 and vqa["only_a"] == 1 and vqa["only_b"] == 0
    assert vqa["mean_a"] == pytest.approx((200 / 3 + 100) / 2)
    assert vqa["mean_b"] == pytest.approx((100 / 3 + 50) / 2)
    assert vqa["diff"] == pytest.approx((100 / 3 + 50) / 2)
    assert (vqa["wins"], vqa["losses"], vqa["ties"]) == (2, 0, 3)
    assert vqa["p_sign"] == pytest.approx(0.5)  # 2 wins of 2 untied: 2 * 0.5**2
    ref = out.loc["ref"]
    assert ref["diff"] == 100 and ref["lower"] == 100 and ref["upper"] == 100  # no variance
    assert ref["p_sign"] == pytest.approx(0.25)
    every = out.loc["all"]
    assert every["diff"] == pytest.approx(((100 / 3 + 50) / 2 + 100) / 2)
    assert (every["n"], every["wins"], every["only_a"]) == (8, 5, 1)
    assert every["p_sign"] == pytest.approx(2 * 0.5**5)
    for row in out.itertuples():
        assert row.lower <= row.diff <= row.upper


def test_bootstrap_is_seeded_and_the_comparison_antisymmetric():
    first = paired_comparison(A, B, n_boot=500, seed=3)
    again = paired_comparison(A, B, n_boot=500, seed=3)
    pd.testing.assert_frame_equal(first, again)
    swapped = paired_comparison(B, A, n_boot=500, seed=3)
    assert list(swapped["diff"]) == pytest.approx(list(-first["diff"]))
    assert list(swapped["wins"]) == list(first["losses"])
    assert list(swapped["p_sign"]) == pytest.approx(list(first["p_sign"]))
    # the vqa interval is wide but inside the range a difference of agg scores can take
    assert -100 <= first.loc[0, "lower"] < first.loc[0, "diff"] < first.loc[0, "upper"] <= 100


def test_identical_runs_tie_everywhere():
    out = paired_comparison(A, A, n_boot=100)
    assert (out["diff"] == 0).all() and (out["p_sign"] == 1.0).all()
    assert (out["lower"] == 0).all() and (out["upper"] == 0).all()


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="run B lack the column"):
        paired_comparison(A, B.drop(columns="src"))
    with pytest.raises(ValueError, match="share no undistorted sample"):
        paired_comparison(A, B.assign(example_id=B["example_id"] + "x"))
    with pytest.raises(ValueError, match="n_boot"):
        paired_comparison(A, B, n_boot=0)
