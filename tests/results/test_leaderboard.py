"""Leaderboard aggregation against the official output (golden) and hand-computed cases.

Golden provenance: ../shared/golden/grit/example_aggregate_*.json, produced by the official
evaluate.py at allenai/grit_official f1860b39 (see that folder's README).
"""
from __future__ import annotations

import json
import logging
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from results.leaderboard import leaderboard_metrics, raw_metrics, round_metrics
from results.records import RECORD_COLUMNS, records_frame


def _load(path):
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def aggregate(golden_dir):
    folder = golden_dir / "grit"
    cases = _load(folder / "example_aggregate_cases.json")
    scores = {s["id"]: s for s in _load(folder / "example_aggregate_scores.json")}
    outcomes, expected_records = [], []
    for task, items in cases.items():
        if task == "_comment":
            continue
        for case in items:
            meta = case["sample"]["meta"]
            outcomes.append(dict(
                example_id=case["sample"]["input"]["example_id"], task=task,
                score=scores[case["id"]]["score"],
                confidence=case["prediction"].get("confidence", 1.0),
                is_new_source=meta["is_new_source"], has_new_concept=meta["has_new_concept"],
                is_distorted=meta["is_distorted"], lemmas=[c["lemma"] for c in meta["concepts"]],
            ))
            expected_records.append(scores[case["id"]]["record"])
    lemma2groups = _load(folder / "example_aggregate_lemma2groups.json")
    return outcomes, expected_records, lemma2groups, _load(folder / "example_aggregate_metrics.json")


def test_records_match_official_per_sample_measures(aggregate):
    outcomes, expected, lemma2groups, _ = aggregate
    frame = records_frame(outcomes, lemma2groups)
    assert list(frame.columns) == list(RECORD_COLUMNS)
    for name in ("acc", "inf", "misinf", "conf", "sa", "rmse"):
        # Bit for bit (the official per-sample values, rmse's pow(x, 2) included).
        np.testing.assert_array_equal(frame[name], [r[name] for r in expected])


def test_golden_aggregation_all_keys(aggregate):
    outcomes, _, lemma2groups, golden = aggregate
    got = leaderboard_metrics(records_frame(outcomes, lemma2groups), params=1)
    assert set(got) == set(golden)
    assert len(golden) == 1398
    for key, want in golden.items():
        if key.endswith(".cnt") or key == "params":
            assert got[key] == want and isinstance(got[key], int), key
        else:
            # Exactly the official printed value (no tolerance); clipped bounds are the ints
            # 0 / 100 in the official output.
            assert got[key] == want and type(got[key]) is type(want), (key, got[key], want)


def test_golden_aggregation_task_interleaving_invariant(aggregate):
    # Tasks may come in any order; each task's rows keep the samples file order (the official
    # row order within a task, which the summation order depends on).
    outcomes, _, lemma2groups, golden = aggregate
    by_task = {}
    for o in outcomes:
        by_task.setdefault(o["task"], []).append(o)
    lists = list(by_task.values())[::-1]
    interleaved = [rows[i] for i in range(max(map(len, lists))) for rows in lists if i < len(rows)]
    assert [o["task"] for o in interleaved] != [o["task"] for o in outcomes]
    got = leaderboard_metrics(records_frame(interleaved, lemma2groups), params=1)
    assert got == golden


def test_missing_task_counts_as_zero(aggregate):
    outcomes, _, lemma2groups, golden = aggregate
    kept = [o for o in outcomes if o["task"] != "normal"]
    got = leaderboard_metrics(records_frame(kept, lemma2groups), params=1)
    assert not any(".sn." in k for k in got)
    # all = mean over 7 tasks of each task's agg, normal contributing 0 (official).
    others = [golden[f"acc.any.agg.{t}.mean"] for t in ("cat", "loc", "vqa", "ref", "seg", "kp")]
    assert got["acc.any.agg.all.mean"] == pytest.approx(sum(others) / 7, abs=1e-3)
    assert got["overall.mean"] == got["acc.any.agg.all.mean"]


def _outcome(eid, task, score, conf=0.5, new_src=False, dist=False):
    return dict(example_id=eid, task=task, score=score, confidence=conf, is_new_source=new_src,
                has_new_concept=False, is_distorted=dist, lemmas=["dog"])


def test_hand_computed_agg_and_intervals():
    # sameSrc acc [100, 0]: mean 50, var 5000, sem 50; newSrc acc [100, 100]: mean 100, var 0.
    rows = [_outcome("a", "vqa", 1.0), _outcome("b", "vqa", 0.0),
            _outcome("c", "vqa", 1.0, new_src=True), _outcome("d", "vqa", 1.0, new_src=True)]
    got = leaderboard_metrics(records_frame(rows, {"dog": ["animals"]}), params=7)
    assert got["acc.any.sameSrc.vqa.mean"] == 50.0
    assert got["acc.any.sameSrc.vqa.cnt"] == 2
    # t(0.975, 1) = 12.7062047...; 50 -/+ 12.7062 * (50 + 1e-6) is clipped to [0, 100].
    assert got["acc.any.sameSrc.vqa.lower"] == 0 and got["acc.any.sameSrc.vqa.upper"] == 100
    # agg: (50 + 100) / 2 = 75, d = sqrt(5000/2 + 0/2) / 2 = 25, bounds 75 -/+ 49.
    assert got["acc.any.agg.vqa.mean"] == 75.0
    assert got["acc.any.agg.vqa.lower"] == 26.0
    assert got["acc.animals.agg.vqa.mean"] == 75.0
    # rmse: sameSrc squared errors [2500, 2500] -> mean 2500 -> root 50.
    assert got["rmse.any.sameSrc.vqa.mean"] == 50.0
    # all over 7 tasks, 6 missing (0, 0, 100) twice each: mean = (50 + 100) / 14.
    assert got["acc.any.agg.all.mean"] == round(150 / 14, 4)
    assert got["params"] == 7
    assert "acc.animals.sameSrc.vqa.mean" not in got


def test_deldist_pairs_undistorted_minus_distorted():
    rows = [_outcome("a", "refexp", 1.0), _outcome("a_dist", "refexp", 0.0, dist=True),
            _outcome("b", "refexp", 1.0), _outcome("b_dist", "refexp", 1.0, dist=True),
            _outcome("c", "refexp", 0.0)]
    frame = records_frame(rows)
    assert frame["undistp"].tolist() == [True, False, True, False, False]
    got = leaderboard_metrics(frame, params=0)
    # deltas [100, 0]; deldist is only rounded, never clipped: t interval 50 -/+ 12.7062*50.
    assert got["acc.any.deldist.ref.mean"] == 50.0
    assert got["acc.any.deldist.ref.lower"] == pytest.approx(50 - 12.7062047 * 50, abs=1e-3)
    assert got["acc.any.undist.ref.cnt"] == 2
    assert "rmse.any.deldist.ref.mean" not in got


def test_tiny_set_omits_uncomputable_all_keys_with_warning(caplog):
    rows = [_outcome("a", "vqa", 1.0), _outcome("b", "vqa", 0.0), _outcome("c", "vqa", 1.0, new_src=True)]
    with caplog.at_level(logging.WARNING, logger="results.leaderboard"):
        got = leaderboard_metrics(records_frame(rows), params=1)
    assert got["acc.any.sameSrc.vqa.cnt"] == 2
    assert "acc.any.newSrc.vqa.mean" not in got and "acc.any.agg.vqa.mean" not in got
    assert "acc.any.agg.all.mean" not in got and "overall.mean" not in got
    # sameSrc has 2 samples in every task that has predictions: its "all" exists.
    assert "acc.any.sameSrc.all.mean" in got
    messages = [r.getMessage() for r in caplog.records]
    assert any("acc.any.agg.all omitted" in m and "vqa newSrc" in m for m in messages)


def test_round_metrics_official_post_processing():
    raw = {"rmse.any.dist.cat.lower": -5.0, "rmse.any.dist.cat.mean": 2500.0,
           "acc.any.dist.cat.upper": 130.0, "acc.any.dist.cat.lower": -3.0,
           "acc.any.deldist.cat.lower": -141.86934, "acc.any.dist.cat.cnt": 4,
           "overall.upper": 101.0, "acc.any.dist.cat.mean": 12.345678, "params": 3.9}
    got = round_metrics(raw)
    assert got["rmse.any.dist.cat.lower"] == 0 and got["rmse.any.dist.cat.mean"] == 50.0
    assert got["acc.any.dist.cat.upper"] == 100 and isinstance(got["acc.any.dist.cat.upper"], int)
    assert got["acc.any.dist.cat.lower"] == 0
    assert got["acc.any.deldist.cat.lower"] == -141.8693
    assert got["overall.upper"] == 100 and got["acc.any.dist.cat.mean"] == 12.3457
    assert got["params"] == 3 and got["acc.any.dist.cat.cnt"] == 4
    assert list(got) == sorted(got)


def test_unknown_task_and_missing_conflict_raise():
    with pytest.raises(ValueError, match="not GRIT tasks"):
        leaderboard_metrics(records_frame([_outcome("a", "depth", 1.0)]), params=1)
    with pytest.raises(ValueError, match="listed as missing"):
        raw_metrics(records_frame([_outcome("a", "vqa", 1.0)]), 1, missing_tasks=["vqa"])


@settings(max_examples=8, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1), st.booleans()), min_size=4, max_size=30))
def test_properties_bounds_and_counts(values):
    rows = [_outcome(f"s{i}", "localization", s, c, new_src=n) for i, (s, c, n) in enumerate(values)]
    got = leaderboard_metrics(records_frame(rows), params=1)
    n_new = sum(n for _, _, n in values)
    for part, n in (("sameSrc", len(values) - n_new), ("newSrc", n_new)):
        if n >= 2:
            assert got[f"acc.any.{part}.loc.cnt"] == n
            mean = got[f"acc.any.{part}.loc.mean"]
            assert got[f"acc.any.{part}.loc.lower"] <= mean + 1e-4 <= got[f"acc.any.{part}.loc.upper"] + 2e-4
        else:
            assert f"acc.any.{part}.loc.cnt" not in got
    for key, value in got.items():
        if key.split(".")[-1] in ("upper", "lower", "mean") and ".deldist." not in key:
            assert 0 <= value <= 100 and not math.isnan(value), key


def test_records_frame_numeric_columns_are_floats():
    frame = records_frame([_outcome("a", "vqa", 1.0), _outcome("b_dist", "vqa", 0.5, dist=True)])
    assert all(frame[c].dtype == np.float64 for c in ("score", "acc", "rmse"))
    assert frame["undistp"].dtype == bool
    assert isinstance(frame, pd.DataFrame) and frame["groups"].tolist() == [(), ()]
