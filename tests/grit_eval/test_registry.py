import pytest

from grit_eval.errors import ConfigError
from grit_eval.registry import REGISTRY, resolve


@pytest.mark.parametrize("kind,name", [(k, n) for k, t in REGISTRY.items() for n in t])
def test_every_entry_resolves(kind, name):
    assert resolve(kind, name) is not None


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ConfigError, match="Did you mean 'oracle'"):
        resolve("adapter", "oracel")


def test_unknown_kind():
    with pytest.raises(ConfigError, match="unknown registry kind"):
        resolve("adaptor", "prior")
