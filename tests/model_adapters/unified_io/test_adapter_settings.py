"""``UnifiedIOAdapter.from_settings``: every bad setting is a SettingsError that names it, raised
before any weights are loaded (so before jax is imported), and prompt / option settings reach
the adapter that answers."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest
from PIL import Image

from grit_eval.types import SettingsError
from grit_eval.settings import ModelSettings
from grit_eval.types import Request

# name -> (ModelSettings keyword arguments, words the message must contain)
BAD_SETTINGS = {
    "no_checkpoint": (dict(size="tiny"), ["model.checkpoint", "random"]),
    "real_weights_no_tokenizer": (dict(size="tiny", checkpoint="{ckpt}"), ["model.tokenizer"]),
    "checkpoint_not_found": (dict(size="xl", checkpoint="/nonexistent/xl_1000k.bin",
                                  tokenizer="{spm}"), ["/nonexistent/xl_1000k.bin", "not found"]),
    "tokenizer_not_found": (dict(size="tiny", checkpoint="random",
                                 tokenizer="/nonexistent/spiece.model"),
                            ["/nonexistent/spiece.model", "not found"]),
    "tokenizer_not_spm": (dict(size="tiny", checkpoint="random", tokenizer="{ckpt}"),
                          ["model.tokenizer", "sentencepiece"]),
    "unknown_size": (dict(size="huge", checkpoint="random"), ["model.size", "'huge'", "xl"]),
    "unknown_option": (dict(size="tiny", checkpoint="random", tokenizer="{spm}",
                            options={"beam_size": 4}), ["model.options", "beam_size"]),
    "template_without_slot": (dict(size="tiny", checkpoint="random", tokenizer="{spm}",
                                   prompts={"refexp": "Where is it?"}),
                              ["model.prompts", "refexp", "Where is it?"]),
    "prompt_for_unknown_task": (dict(size="tiny", checkpoint="random", tokenizer="{spm}",
                                     prompts={"refxp": 'Where is the "{{}}"?'}),
                                ["model.prompts", "'refxp'", "did you mean 'refexp'"]),
}

_SCRIPT = """
import json, sys
from grit_eval.types import SettingsError
from grit_eval.settings import ModelSettings
from model_adapters.unified_io.adapter import UnifiedIOAdapter

out = {}
for name, kwargs in json.loads(sys.argv[1]).items():
    try:
        UnifiedIOAdapter.from_settings(ModelSettings(name="unified_io", **kwargs))
        out[name] = "no error"
    except SettingsError as exc:
        out[name] = "SettingsError: " + str(exc)
    except Exception as exc:
        out[name] = type(exc).__name__ + ": " + str(exc)
out["jax imported"] = "jax" in sys.modules
print(json.dumps(out))
"""


def _fill(value, paths: dict):
    if isinstance(value, str):
        return value.format(**paths)
    return value


def test_bad_settings_are_config_errors_before_loading(tmp_path, uio_spm_path):
    ckpt = tmp_path / "tiny_1000k.bin"
    ckpt.write_bytes(b"\x00" * 64)  # exists; never read, the checks come first
    paths = {"ckpt": str(ckpt), "spm": str(uio_spm_path)}
    cases = {name: {k: _fill(v, paths) for k, v in kwargs.items()}
             for name, (kwargs, _) in BAD_SETTINGS.items()}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(_SCRIPT), json.dumps(cases)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for name, (_, words) in BAD_SETTINGS.items():
        message = result[name]
        assert message.startswith("SettingsError: "), (name, message)
        for word in words:
            assert word in message, (name, word, message)
    assert result["jax imported"] is False


@pytest.fixture
def fake_model_module(monkeypatch):
    """Replaces the jax model module: ``load_model`` records its arguments."""
    loaded = []
    module = types.ModuleType("model_adapters.unified_io.model")

    def load_model(checkpoint, size, dtype="float32", seed=0, per_device_batch=8):
        loaded.append((checkpoint, size, dtype, seed, per_device_batch))
        return types.SimpleNamespace(num_parameters=lambda: 7)

    module.load_model = load_model
    monkeypatch.setitem(sys.modules, "model_adapters.unified_io.model", module)
    return loaded


def test_settings_prompts_and_options_reach_the_adapter(tmp_path, uio_spm_path, fake_uio,
                                                        fake_model_module):
    from model_adapters.unified_io.adapter import UnifiedIOAdapter

    settings = ModelSettings(name="unified_io", size="tiny", checkpoint="random",
                             tokenizer=str(uio_spm_path), dtype="bfloat16", seed=5,
                             prompts={"refexp": 'Where is the "{}"?', "vqa": "Q: {} A:"},
                             options={"max_people": 3, "per_device_batch": 2})
    adapter = UnifiedIOAdapter.from_settings(settings)
    assert fake_model_module == [("random", "tiny", "bfloat16", 5, 2)]
    assert adapter.num_parameters() == 7
    assert adapter.options["seed"] == 5 and adapter.options["max_people"] == 3
    assert adapter.options["box_max_length"] == 32  # untouched defaults stay

    # The adapter built from settings prompts the model with the study's templates.
    _, model, spy = fake_uio(text=lambda prompt, mask: spy.real.encode("yes"))
    adapter.model, adapter.tokenizer = model, spy
    img = tmp_path / "img.png"
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(img)
    adapter.predict([Request("r", "refexp", str(img), "the Dog"),
                     Request("v", "vqa", str(img), "Is it RED?"),
                     Request("c", "localization", str(img), "dog")])
    assert [c["texts"] for c in model.calls] == [
        ['Where is the "the Dog"?'], ["Q: is it red? A:"],
        ['Which region does the text " dog " describe ?']]  # tasks not overridden: paper's


def test_default_prompt_set_without_settings_prompts(uio_spm_path, fake_model_module):
    from model_adapters.unified_io.adapter import UnifiedIOAdapter
    from model_adapters.unified_io.prompts import PromptSet

    adapter = UnifiedIOAdapter.from_settings(ModelSettings(
        name="unified_io", size="tiny", checkpoint="random", tokenizer=str(uio_spm_path)))
    assert adapter.prompt_set.name == "default"
    assert dict(adapter.prompt_set.templates) == dict(PromptSet().templates)


def test_unknown_option_in_the_constructor(fake_uio):
    with pytest.raises(SettingsError, match="beam_size"):
        fake_uio(options={"beam_size": 4})
    for bad in (0, "4", True):
        with pytest.raises(SettingsError, match="per_device_batch must be a positive integer"):
            fake_uio(options={"per_device_batch": bad})
