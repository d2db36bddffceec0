"""Unified-IO encoder (UNIFIED_IO.md 3.2): text + image patches -> hidden states (jax)."""
from __future__ import annotations

from typing import Optional

import jax
import jax.numpy as jnp

from model_adapters.unified_io import layers
from model_adapters.unified_io.config import UnifiedIOConfig
from model_adapters.unified_io.relpos import relative_bias


def patchify(image: jax.Array, patch: int) -> jax.Array:
    """[B, H, W, 3] -> [B, (H/p)*(W/p), p*p*3]: raster order over patches, each flattened
    (row-in-patch, col-in-patch, channel) as einops ``b (h dh) (w dw) c -> b (h w) (dh dw c)``."""
    b, h, w, c = image.shape
    x = image.reshape(b, h // patch, patch, w // patch, patch, c)
    x = x.transpose(0, 1, 3, 2, 4, 5)
    return x.reshape(b, (h // patch) * (w // patch), patch * patch * c)


def encode(params: dict, config: UnifiedIOConfig, text_ids: jax.Array, image: jax.Array,
           image_mask: jax.Array, capture: Optional[dict] = None):
    """Runs the encoder.

    Args:
        params: the full param dict (uses ``token_embedder`` and ``encoder``).
        config: model configuration.
        text_ids: [B, Lt] int, 0 = padding (text mask = ids > 0).
        image: [B, 384, 384, 3] float32, preprocessed (ImageNet-normalised, padded).
        image_mask: [B, 576] int, 1 = real patch.
        capture: optional dict that receives intermediates (debug/parity): the two embedding
            pre-norms and the first layer's output.

    Returns:
        (hidden [B, Lt+576, D] float32 after ``encoder_norm``, mask [B, Lt+576] int32,
        normalised position embedding PE [Lt+576, D]).
    """
    p = params["encoder"]
    emb = params["token_embedder"]["embedding"]
    lt = text_ids.shape[1]
    pos_table = p["position_embedding"]["embedding"].astype(jnp.float32)
    seg = p["segment_embedding"]["embedding"].astype(jnp.float32)
    text_pos = pos_table[:lt]
    n_img = config.encoder_max_image_length
    image_pos = pos_table[config.encoder_max_text_length:config.encoder_max_text_length + n_img]

    txt = jnp.take(emb, text_ids, axis=0).astype(jnp.float32) + seg[0] + text_pos
    txt = layers.rms_norm(txt, p["txt_emb_pre_ln"]["scale"])
    patches = patchify(image.astype(jnp.float32), config.image_patch_size)
    img = layers.dense(patches, p["image_projection"]["kernel"]) + seg[1] + image_pos
    img = layers.rms_norm(img, p["img_emb_pre_ln"]["scale"])
    if capture is not None:
        capture["txt_emb_pre_ln"], capture["img_emb_pre_ln"] = txt, img

    x = jnp.concatenate([txt, img], axis=1)
    mask = jnp.concatenate([(text_ids > 0).astype(jnp.int32), image_mask.astype(jnp.int32)], 1)
    pe = layers.rms_norm(jnp.concatenate([text_pos, image_pos], 0), p["pe_pre_ln"]["scale"])
    bias = relative_bias(p["relpos_bias"]["rel_embedding"], p["relpos_bias"]["image_rel_embedding"],
                         lt, n_img, config.encoder_grid[1], bidirectional=True)
    bias = bias + layers.absolute_position_bias(
        pe, p["position_q_linear"]["kernel"], p["position_k_linear"]["kernel"],
        config.num_heads, config.emb_dim)
    bias = layers.mask_bias(mask, mask) + bias[None]

    for i in range(config.num_encoder_layers):
        lp = p[f"layers_{i}"]
        h = layers.rms_norm(x, lp["pre_attention_layer_norm"]["scale"])
        q, k, v = layers.project_qkv(h, lp["attention"], ("query", "key", "value"), config.num_heads)
        x = x + layers.dense(layers.attend(q, k, v, bias), lp["attention"]["out"]["kernel"])
        h = layers.rms_norm(x, lp["pre_mlp_layer_norm"]["scale"])
        x = x + layers.gated_gelu_mlp(h, lp["mlp"])
        if capture is not None and i == 0:  # first layer only: cheap enough to return always
            capture["layers_0"] = x
    return layers.rms_norm(x, p["encoder_norm"]["scale"]), mask, pe
