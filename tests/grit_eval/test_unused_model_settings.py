"""Settings that do nothing are errors: the model fields only some models have (checkpoint,
tokenizer, size, dtype, seed, predictions) are refused by adapters that do not read them."""
from __future__ import annotations

import subprocess
import sys

import pytest

from grit_eval.errors import ConfigError
from grit_eval.registry import resolve_adapter
from grit_eval.run.runner import SHARED_MODEL_FIELDS, check_adapter_settings
from grit_eval.settings import ModelSettings

NON_DEFAULT = {"size": "base", "checkpoint": "/weights.bin", "tokenizer": "/spiece.model",
               "dtype": "bfloat16", "seed": 7, "predictions": "/submission.zip"}
READS = {
    "prior": (),
    "oracle": (),
    "replay": ("predictions",),
    "unified_io": ("size", "checkpoint", "tokenizer", "dtype", "seed"),
    "unified_io_2": ("size", "checkpoint", "tokenizer", "dtype", "seed"),
}


@pytest.mark.parametrize("name", sorted(READS))
@pytest.mark.parametrize("field", SHARED_MODEL_FIELDS)
def test_each_shared_field_is_accepted_only_by_adapters_that_read_it(name, field):
    adapter_cls = resolve_adapter(name)
    model = ModelSettings(name=name, **{field: NON_DEFAULT[field]})
    if field in READS[name]:
        check_adapter_settings(adapter_cls, model)
    else:
        with pytest.raises(ConfigError, match=rf"model={name} does not read model\.{field} "):
            check_adapter_settings(adapter_cls, model)


def test_defaults_are_never_refused():
    for name in READS:
        check_adapter_settings(resolve_adapter(name), ModelSettings(name=name))


def test_an_adapter_that_declares_nothing_reads_none_of_them():
    class Bare:
        name = "bare"

    check_adapter_settings(Bare, ModelSettings(name="bare"))
    with pytest.raises(ConfigError, match=r"reads: none of them"):
        check_adapter_settings(Bare, ModelSettings(name="bare", checkpoint="/w.bin"))


def test_the_command_refuses_with_one_line_before_writing(tmp_path):
    run_dir = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "grit_eval.cli", f"run.dir={run_dir}", "model=prior",
                             "model.checkpoint=/weights.bin"], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "grit-eval: error: model=prior does not read model.checkpoint (=/weights.bin): it would change "
        "nothing (this model reads: none of them)"]
    assert not run_dir.exists()
