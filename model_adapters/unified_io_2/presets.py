"""Configs for ``model.checkpoint=random`` (no files): ``tiny`` for plumbing and tests, and the
released sizes' transformer widths (docs/UNIFIED_IO_2.md, section 2). A real checkpoint folder
always uses its own config.json instead."""
from __future__ import annotations

import copy

import numpy as np

from model_adapters.unified_io_2.config import UIO2Config, config_from_dict, param_shapes

_BASE = {
    "t5_config": {
        "vocab_size": 33280, "image_vocab_size": 16512, "audio_vocab_size": 8320,
        "emb_dim": 1024, "num_heads": 16, "head_dim": 64, "mlp_dim": 2816,
        "num_encoder_layers": 24, "num_decoder_layers": 24, "mlp_activations": ["silu", "linear"],
        "decoder_xattention_internval": 1, "qk_norm": True, "float32_attention_logits": True,
        "encoder_max_image_length": 576, "encoder_max_text_length": 512,
        "decoder_max_image_length": 1024, "decoder_max_text_length": 512,
        "default_image_size": [256, 256], "default_image_vit_size": [384, 384],
        "image_vit_patch_size": 16, "image_patch_size": 16,
    },
    "image_vit_cfg": {"patch_size": 16, "emb_dim": 768, "num_heads": 12, "num_layers": 11,
                      "head_dim": 64, "mlp_dim": 3072, "num_pos": 197},
    "image_vqgan": {"embed_dim": 4, "n_embed": 16384, "double_z": False, "z_channels": 4,
                    "resolution": 256, "in_channels": 3, "out_ch": 3, "ch": 128,
                    "ch_mult": [1, 2, 2, 4], "num_res_blocks": 2, "attn_resolutions": [32],
                    "default_input_size": [256, 256], "patch_size": [8, 8]},
}
_SIZES = {
    "large": {"emb_dim": 1024, "num_heads": 16, "head_dim": 64, "mlp_dim": 2816},
    "xl": {"emb_dim": 2048, "num_heads": 16, "head_dim": 128, "mlp_dim": 5120},
    "xxl": {"emb_dim": 3072, "num_heads": 24, "head_dim": 128, "mlp_dim": 8192},
}
SIZES = ("tiny",) + tuple(_SIZES)


def preset(size: str) -> UIO2Config:
    raw = copy.deepcopy(_BASE)
    if size == "tiny":
        raw["t5_config"].update(emb_dim=32, num_heads=2, head_dim=16, mlp_dim=64, num_encoder_layers=2,
                                num_decoder_layers=3, image_vocab_size=256)
        raw["image_vit_cfg"].update(emb_dim=32, num_heads=2, head_dim=16, mlp_dim=64, num_layers=2, num_pos=17)
        raw["image_vqgan"].update(n_embed=128, ch=32, ch_mult=[1, 1, 2, 2], num_res_blocks=1)
    elif size in _SIZES:
        raw["t5_config"].update(_SIZES[size])
    else:
        raise ValueError(f"unknown Unified-IO 2 size {size!r}; one of {', '.join(SIZES)}")
    return config_from_dict(raw, f"preset {size}")


def random_params(cfg: UIO2Config, seed: int = 0) -> dict[str, np.ndarray]:
    """N(0, 0.02) weights, norm scales 1 + N(0, 0.1): enough to run every code path."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in param_shapes(cfg).items():
        if name.endswith(("scale", "ln_1.weight", "ln_2.weight", "pre_ln.weight", "norm1.weight",
                          "norm2.weight", "norm.weight", "norm_out.weight")):
            out[name] = (1 + 0.1 * rng.standard_normal(shape)).astype(np.float32)
        else:
            out[name] = (0.02 * rng.standard_normal(shape)).astype(np.float32)
    return out
