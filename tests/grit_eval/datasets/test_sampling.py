"""limit / subset: first N, and a seeded random N that is deterministic and keeps file order."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grit_eval.datasets.sampling import limit, subset
from grit_eval.errors import ConfigError

ITEMS = [f"s{k}" for k in range(50)]


def test_limit_first_n():
    assert limit(ITEMS, 3) == ["s0", "s1", "s2"]
    assert limit(ITEMS, None) == ITEMS and limit(ITEMS, 500) == ITEMS
    assert limit(ITEMS, 0) == []


def test_subset_is_seeded_and_stable():
    a = subset(ITEMS, 10, seed=1)
    assert a == subset(ITEMS, 10, seed=1)
    assert a != subset(ITEMS, 10, seed=2)
    assert a != ITEMS[:10]
    # random.Random(1).sample is specified to be reproducible: pin the draw.
    assert a == [ITEMS[i] for i in sorted(__import__("random").Random(1).sample(range(50), 10))]


@given(st.integers(0, 60), st.integers(0, 2**31))
def test_subset_properties(n, seed):
    out = subset(ITEMS, n, seed)
    assert len(out) == min(n, len(ITEMS))
    assert len(set(out)) == len(out)
    assert out == sorted(out, key=ITEMS.index)  # file order kept


@pytest.mark.parametrize("n", [-1, 2.5, "3", True])
def test_bad_n(n):
    with pytest.raises(ConfigError, match="non-negative integer"):
        limit(ITEMS, n)
    with pytest.raises(ConfigError, match="non-negative integer"):
        subset(ITEMS, n)
