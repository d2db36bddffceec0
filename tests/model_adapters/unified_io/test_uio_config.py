"""Config presets and the reference-name constructor; the package imports without jax."""
from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

from model_adapters.unified_io.config import PRESETS, UnifiedIOConfig, VQGANConfig
from model_adapters.unified_io.param_tree import parameter_shapes


def _read_tsv(path) -> dict:
    shapes = {}
    for line in path.read_text().splitlines():
        cols = line.split("\t")
        if cols[0] == "path":
            continue
        shapes[cols[0].removeprefix("params/")] = tuple(ast.literal_eval(cols[1]))
    return shapes


@pytest.mark.parametrize("size", ["small", "base", "large", "xl"])
def test_preset_tree_equals_released_tree(size, golden_dir):
    # params_{size}.tsv: jax.eval_shape of the released module (UNIFIED_IO.md section 5).
    assert parameter_shapes(PRESETS[size]) == _read_tsv(golden_dir / "unified_io" / f"params_{size}.tsv")


def test_tiny_tree_equals_parity_tree(golden_dir):
    tsv = golden_dir / "unified_io" / "parity_public" / "params_tiny.tsv"
    assert parameter_shapes(PRESETS["tiny"]) == _read_tsv(tsv)


def test_parameter_counts_match_the_spec():
    # UNIFIED_IO.md section 1: whole checkpoint = transformer + VQ-GAN (76,073,859).
    def count(cfg):
        total = 0
        for shape in parameter_shapes(cfg).values():
            n = 1
            for d in shape:
                n *= d
            total += n
        return total

    assert count(PRESETS["small"]) == 147_767_043
    assert count(PRESETS["xl"]) == 2_925_235_075
    assert count(PRESETS["tiny"]) == 4_433_955  # parity README


def test_from_reference_builds_the_tiny_preset(golden_dir):
    ref = json.loads((golden_dir / "unified_io" / "parity_public" / "tiny_config.json").read_text())
    cfg = UnifiedIOConfig.from_reference(ref["UnifiedIOConfig"], ref["VAEConfig"])
    assert cfg == PRESETS["tiny"]
    assert hash(cfg) == hash(PRESETS["tiny"])  # usable as a jit-cache key


def test_from_reference_names_unknown_fields():
    with pytest.raises(ValueError, match=r"unknown transformer config field\(s\) \['emb_dimm'\]"):
        UnifiedIOConfig.from_reference({"emb_dimm": 4}, {})
    with pytest.raises(ValueError, match=r"unknown vqgan config field\(s\) \['channels'\]"):
        UnifiedIOConfig.from_reference({}, {"channels": 3})


def test_from_reference_rejects_unsupported_values():
    with pytest.raises(ValueError, match="mlp_activations"):
        UnifiedIOConfig.from_reference({"mlp_activations": ["relu"]}, {})
    with pytest.raises(ValueError, match="logits_via_embedding"):
        UnifiedIOConfig.from_reference({"logits_via_embedding": False}, {})


def test_from_reference_converts_lists_to_tuples():
    cfg = UnifiedIOConfig.from_reference({"default_image_size": [384, 384]},
                                         {"ch_mult": [1, 2], "attn_resolutions": [16]})
    assert cfg.default_image_size == (384, 384)
    assert cfg.vqgan == VQGANConfig(ch_mult=(1, 2), attn_resolutions=(16,))


def test_derived_numbers():
    small = PRESETS["small"]
    assert (small.total_vocab, small.inner_dim, small.image_start_id) == (49536, 384, 33151)
    assert small.encoder_grid == (24, 24) and small.vqgan.code_grid == 16
    with pytest.raises(ValueError, match="unknown Unified-IO size 'huge'"):
        UnifiedIOConfig.preset("huge")


def test_package_import_does_not_import_jax():
    code = ("import sys; import model_adapters.unified_io as u; u.UnifiedIOConfig; "
            "import model_adapters.unified_io.checkpoint; "
            "assert 'jax' not in sys.modules, 'jax imported'; "
            "assert callable(u.load_model); assert 'jax' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
