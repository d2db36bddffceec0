import pytest

from grit_eval.errors import ConfigError
from grit_eval.splits import limit_samples
from grit_eval.types import Sample


def _samples():
    out = []
    for task in ("vqa", "refexp"):
        for i in range(6):
            out.append(Sample(f"{task}{i}", task, "x.png"))
            out.append(Sample(f"{task}{i}_dist", task, "x.png"))
    return out


def test_limit_is_per_task_and_keeps_dist_copies_with_their_originals():
    kept = limit_samples(_samples(), 2, "first", 0)
    assert [s.example_id for s in kept] == ["vqa0", "vqa0_dist", "vqa1", "vqa1_dist",
                                            "refexp0", "refexp0_dist", "refexp1", "refexp1_dist"]


def test_random_limit_is_seeded_in_file_order_and_paired():
    a = limit_samples(_samples(), 3, "random", 7)
    assert a == limit_samples(_samples(), 3, "random", 7)
    ids = [s.example_id for s in a]
    assert len(ids) == 12 and all(i.removesuffix("_dist") in ids for i in ids)
    order = [s.example_id for s in _samples()]
    assert [order.index(i) for i in ids] == sorted(order.index(i) for i in ids)
    assert limit_samples(_samples(), None, "bogus", 0) == _samples()
    with pytest.raises(ConfigError, match="limit_mode"):
        limit_samples(_samples(), 2, "bogus", 0)
