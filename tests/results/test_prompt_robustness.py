"""Per-sample prompt robustness against hand-computed values."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from results.prompt_robustness import robustness


def _records(scores: dict[str, float]) -> pd.DataFrame:
    rows = [{"example_id": e, "task": "refexp", "score": s, "dist": "undist"} for e, s in scores.items()]
    # a _dist copy and another task never count
    rows += [{"example_id": "a_dist", "task": "refexp", "score": 1.0, "dist": "dist"},
             {"example_id": "a", "task": "vqa", "score": 0.0, "dist": "undist"}]
    return pd.DataFrame(rows)


def test_measures_match_hand_computed_values():
    # four samples a..d under three templates
    records = {"T1 {}": _records({"a": 1, "b": 1, "c": 0, "d": 1}),   # 75 %
               "T2 {}": _records({"a": 1, "b": 0, "c": 0, "d": 1}),   # 50 %
               "T3 {}": _records({"a": 1, "b": 1, "c": 0, "d": 0})}   # 50 %
    result = robustness(records, "refexp")
    assert list(result.per_template.index) == ["T1 {}", "T2 {}", "T3 {}"]
    assert list(result.per_template["accuracy"]) == [75.0, 50.0, 50.0]
    # T1's interval: mean 0.75, sample std sqrt(0.25) = 0.5, sem 0.25, t(0.975, 3) = 3.182446
    half = 3.182446305284263 * (0.25 + 1e-6) * 100
    assert result.per_template.loc["T1 {}", "lower"] == pytest.approx(75 - half, abs=1e-6)
    assert result.per_template.loc["T1 {}", "upper"] == pytest.approx(75 + half, abs=1e-6)
    summary = result.summary
    assert summary["best-worst gap"] == 25.0
    assert summary["std across templates"] == pytest.approx(math.sqrt(((75 - 175 / 3) ** 2 + 2 * (50 - 175 / 3) ** 2) / 2))
    assert summary["worst template"] == 50.0
    assert summary["flip rate (%)"] == 50.0  # b and d change, a and c never
    # pairs: T1-T2 agree on a, c, d (3/4); T1-T3 on a, b, c (3/4); T2-T3 on a, c (2/4)
    assert summary["agreement between templates (%)"] == pytest.approx(100 * (0.75 + 0.75 + 0.5) / 3)


def test_one_template_is_refused():
    with pytest.raises(ValueError, match="2\\+ templates"):
        robustness({"T1": _records({"a": 1, "b": 0})}, "refexp")
