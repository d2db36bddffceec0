"""Unified-IO 2's T5-style encoder and decoder in JAX (port ``uio2/model.py``).

Pre-norm layers with qk-norm and RoPE on queries and keys of every attention (cross-attention:
queries with the decoder table, keys with the encoder table). A decoder layer has
cross-attention only if ``layer % decoder_xattention_internval == 0`` or it is the last one.
The port builds "dalle" row/column/conv patterns for image targets but adds them to the logits
only when an extra attention bias is also given, which never happens: they have no effect, so
we do not build them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from model_adapters.unified_io_2.config import UIO2Config
from model_adapters.unified_io_2.image_embedder import embed_image, resized_positional_embedding
from model_adapters.unified_io_2.layers import (attend, linear, mask_bias, mlp, project_qkv,
                                                rope_1d, rope_2d, uio_norm)


@dataclass(frozen=True)
class Tables:
    """Recomputed buffers: RoPE tables and the resized ViT positional embedding."""
    text_in: np.ndarray
    text_out: np.ndarray
    image_in: np.ndarray
    image_out: np.ndarray
    vit_pos: np.ndarray


def build_tables(cfg: UIO2Config, params: dict) -> Tables:
    t5, d = cfg.t5, cfg.head_dim
    res = math.sqrt(int(t5["decoder_max_image_length"]) / int(t5["encoder_max_image_length"]))
    return Tables(
        text_in=rope_1d(int(t5["encoder_max_text_length"]), d),
        text_out=rope_1d(int(t5["decoder_max_text_length"]), d),
        image_in=rope_2d(cfg.vit_patch_grid, d, res),
        image_out=rope_2d(cfg.target_grid, d, 1.0),
        vit_pos=resized_positional_embedding(
            np.asarray(params["input_embedders.image.image_encoder.vision_transformer.positional_embedding"]),
            cfg.vit_patch_grid),
    )


def encode_inputs(p: dict, cfg: UIO2Config, tables: Tables, text: dict, image: dict | None):
    """Input sequence (text then image): embeddings [b, n, E], mask [b, n], rope [b, n, d]."""
    emb = jnp.take(p["text_token_embedder.weight"], text["tokens"], axis=0)
    emb = emb + p["input_embedders.text.modality_embedding"].astype(emb.dtype)
    parts = [(emb, text["mask"], jnp.take(jnp.asarray(tables.text_in), text["pos_ids"], axis=0))]
    if image is not None:
        x = embed_image(p, cfg, image["input"], image["mask"], image["pos_ids"], jnp.asarray(tables.vit_pos))
        parts.append((x.astype(emb.dtype), image["mask"],
                      jnp.take(jnp.asarray(tables.image_in), image["pos_ids"], axis=0)))
    return (jnp.concatenate([a for a, _, _ in parts], 1),
            jnp.concatenate([m.astype(jnp.int32) for _, m, _ in parts], 1),
            jnp.concatenate([r for _, _, r in parts], 1))


def encoder(p: dict, cfg: UIO2Config, x, mask, rope):
    bias = mask_bias(mask[:, :, None] * mask[:, None, :])
    qk, h = bool(cfg.t5["qk_norm"]), cfg.num_heads
    acts = list(cfg.t5["mlp_activations"])
    for i in range(int(cfg.t5["num_encoder_layers"])):
        b = f"encoder.layers_{i}."
        y = uio_norm(x, p[b + "pre_attention_norm.scale"])
        q, k, v = project_qkv(p, b + "attention.", y, y, h, qk, rope, rope)
        x = x + attend(p, b + "attention.", q, k, v, bias)
        x = x + mlp(p, b, uio_norm(x, p[b + "pre_mlp_norm.scale"]), cfg.mlp_names, acts)
    return uio_norm(x, p["encoder.encoder_norm.scale"])


def embed_targets(p: dict, modality: str, ids, rope_table, positions):
    """Decoder input embeddings (shared embedding + target modality embedding) and rope rows."""
    table = p[f"{modality}_token_embedder.weight"]
    x = jnp.take(table, ids, axis=0)
    x = x + p[f"target_embedders.{modality}.modality_embedding"].astype(x.dtype)
    return x, jnp.take(jnp.asarray(rope_table), positions, axis=0)


def cross_kv(p: dict, cfg: UIO2Config, encoded, enc_rope):
    """Per cross-attention layer, the encoder keys/values (computed once per generation)."""
    out = {}
    for i in range(int(cfg.t5["num_decoder_layers"])):
        if cfg.has_cross_attention(i):
            pre = f"decoder.layers_{i}.encoder_decoder_attention."
            _, k, v = project_qkv(p, pre, encoded[:, :1], encoded, cfg.num_heads,
                                  bool(cfg.t5["qk_norm"]), None, enc_rope)
            out[i] = (k, v)
    return out


def decoder_layer(p: dict, cfg: UIO2Config, i: int, y, dec_rope, self_kv_fn, self_bias, xkv, cross_bias):
    """One decoder layer; ``self_kv_fn(k, v) -> (k_all, v_all)`` lets the caller add a cache."""
    b, qk, h = f"decoder.layers_{i}.", bool(cfg.t5["qk_norm"]), cfg.num_heads
    z = uio_norm(y, p[b + "pre_self_attention_norm.scale"])
    q, k, v = project_qkv(p, b + "self_attention.", z, z, h, qk, dec_rope, dec_rope)
    k, v = self_kv_fn(k, v)
    y = y + attend(p, b + "self_attention.", q, k, v, self_bias)
    if cfg.has_cross_attention(i):
        z = uio_norm(y, p[b + "pre_cross_attention_norm.scale"])
        pre = b + "encoder_decoder_attention."
        q, _, _ = project_qkv(p, pre, z, z[:, :1], h, qk, dec_rope, None)
        y = y + attend(p, pre, q, xkv[i][0], xkv[i][1], cross_bias)
    return y + mlp(p, b, uio_norm(y, p[b + "pre_mlp_norm.scale"]), cfg.mlp_names, list(cfg.t5["mlp_activations"]))


def decoder(p: dict, cfg: UIO2Config, y, dec_mask, dec_rope, encoded, enc_mask, enc_rope, segments=None):
    """Teacher-forced decoder: causal, both positions valid (and same segment when given)."""
    n = y.shape[1]
    causal = jnp.tril(jnp.ones((n, n), jnp.int32))[None]
    self_mask = causal * dec_mask[:, :, None] * dec_mask[:, None, :]
    if segments is not None:
        self_mask = self_mask * (segments[:, :, None] == segments[:, None, :])
    cross_bias = mask_bias(dec_mask[:, :, None] * enc_mask[:, None, :])
    xkv = cross_kv(p, cfg, encoded, enc_rope)
    for i in range(int(cfg.t5["num_decoder_layers"])):
        y = decoder_layer(p, cfg, i, y, dec_rope, lambda k, v: (k, v), mask_bias(self_mask), xkv, cross_bias)
    return uio_norm(y, p["decoder.decoder_norm.scale"])


def logits(p: dict, modality: str, hidden):
    """hidden @ shared_embedding.T / sqrt(emb_dim)."""
    w = p[f"{modality}_token_embedder.weight"]
    return linear(hidden, w) / np.float32(math.sqrt(hidden.shape[-1]))
