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


def test_adapters_resolve_from_built_in_names_import_strings_and_entry_points():
    from grit_eval.registry import resolve_adapter
    from model_adapters.prior import PriorAdapter

    assert resolve_adapter("prior") is PriorAdapter
    assert resolve_adapter("model_adapters.prior:PriorAdapter") is PriorAdapter
    with pytest.raises(ConfigError, match="Did you mean 'prior'"):
        resolve_adapter("priorr")
    with pytest.raises(ConfigError, match="cannot import 'no_such_pkg.mod'"):
        resolve_adapter("no_such_pkg.mod:Adapter")
    with pytest.raises(ConfigError, match="has no from_settings"):
        resolve_adapter("grit_eval.types:Request")
