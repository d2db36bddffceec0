"""A config unlike the public kit's (cross-attention every 2nd decoder layer, 4 decoder layers,
3 ViT layers, a 5x5 ViT position grid, another VQGAN layout) saved in the released torch-zip
format with mixed bfloat16: it loads, and every entry point runs with its shapes."""
from __future__ import annotations

import json

import ml_dtypes
import numpy as np

from model_adapters.unified_io_2 import decoding as D
from model_adapters.unified_io_2.checkpoint import load_checkpoint
from model_adapters.unified_io_2.checkpoint_torch import write_torch_zip
from model_adapters.unified_io_2.parity_cases import image_batch, text_batch
from model_adapters.unified_io_2.presets import preset, random_params
from model_adapters.unified_io_2.runtime import UIO2Runtime


def _other_config():
    raw = json.loads(json.dumps(preset("tiny").raw))
    raw["t5_config"].update(num_decoder_layers=4, decoder_xattention_internval=2, emb_dim=48,
                            num_heads=3, head_dim=16, mlp_dim=40, image_vocab_size=96)
    raw["image_vit_cfg"].update(num_layers=3, num_pos=26)
    raw["image_vqgan"].update(n_embed=64, ch_mult=[1, 2, 2, 2], num_res_blocks=2)
    return raw


def test_release_format_of_another_config_loads_and_runs(tmp_path):
    raw = _other_config()
    from model_adapters.unified_io_2.config import config_from_dict
    cfg = config_from_dict(raw)
    params = random_params(cfg, seed=1)
    mixed = {k: (v.astype(ml_dtypes.bfloat16) if v.ndim >= 2 else v) for k, v in params.items()}
    mixed["audio_token_embedder.weight"] = np.zeros((8, 48), np.float32)  # ignored, but listed
    (tmp_path / "config.json").write_text(json.dumps(raw))
    write_torch_zip(mixed, tmp_path / "pytorch_model.bin")
    ck = load_checkpoint(tmp_path)
    assert ck.ignored == ["audio_token_embedder.weight"]
    assert "decoder.layers_1.encoder_decoder_attention.query.weight" not in ck.params
    assert "decoder.layers_2.encoder_decoder_attention.query.weight" in ck.params
    for k, v in ck.params.items():
        np.testing.assert_array_equal(np.asarray(v, np.float32), np.asarray(mixed[k], np.float32))

    rt = UIO2Runtime.from_checkpoint(ck)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (50, 70, 3), dtype=np.uint8)
    enc = rt.encode(text_batch(np.array([33218, 300, 301, 1], np.int32)), image_batch([image]))
    assert enc[0].shape == (1, 4 + 576, 48)
    text = rt.generate(*enc, "text", 5, D.Processors(location_threshold=0.0))
    assert ((text["tokens"][0, 1:] >= 32000) & (text["tokens"][0, 1:] < 33000)).all()
    scores = rt.score(*enc, np.array([[300, 1, 1], [301, 302, 1]], np.int32))
    assert scores.shape == (2,) and np.isfinite(scores).all()
    codes = rt.image_codes(rng.uniform(-1, 1, (1, 256, 256, 3)).astype(np.float32))
    assert codes.shape == (1, 1024) and codes.max() < 64
    img = rt.decode_image(codes)
    assert img.shape == (1, 256, 256, 3) and 0 <= img.min() and img.max() <= 1
