"""Unified-IO decoder (UNIFIED_IO.md 3.4): teacher-forced forward and one cached step (jax).

A decoder sequence is a text segment (positions 0..T-1, segment 0, position rows 0..T-1)
followed by an image segment (segment 1, position rows 256..256+I-1).
"""
from __future__ import annotations

from typing import Optional

import jax
import jax.numpy as jnp
from jax import lax

from model_adapters.unified_io import layers
from model_adapters.unified_io.config import UnifiedIOConfig
from model_adapters.unified_io.relpos import relative_bias


def embed(params: dict, config: UnifiedIOConfig, ids: jax.Array, pos_ids: jax.Array,
          seg_ids: jax.Array) -> jax.Array:
    """``pre_ln(E[id] + pos[pos_id] + segment[seg_id])``: ids [B, L] -> [B, L, D] float32."""
    p = params["decoder"]
    x = jnp.take(params["token_embedder"]["embedding"], ids, axis=0).astype(jnp.float32)
    x = x + jnp.take(p["position_embedding"]["embedding"], pos_ids, axis=0).astype(jnp.float32)
    x = x + jnp.take(p["segments_embedding"]["embedding"], seg_ids, axis=0).astype(jnp.float32)
    return layers.rms_norm(x, p["pre_ln"]["scale"])


def position_ids(config: UnifiedIOConfig, text_length: int, image_length: int) -> jax.Array:
    """[T + I] position rows: text 0..T-1, image 256..256+I-1."""
    return jnp.concatenate([jnp.arange(text_length),
                            config.decoder_max_text_length + jnp.arange(image_length)])


def self_bias_table(params: dict, config: UnifiedIOConfig, text_length: int,
                    image_length: int, position_rows: Optional[jax.Array] = None) -> jax.Array:
    """Relative + absolute self-attention bias [H, T+I, T+I] (masks not included).
    ``position_rows``: the T+I position embeddings if the caller has them (same values)."""
    p = params["decoder"]
    rel = relative_bias(p["relpos_bias"]["rel_embedding"], p["relpos_bias"]["image_rel_embedding"],
                        text_length, image_length, config.decoder_grid, bidirectional=False)
    pos = position_rows if position_rows is not None else jnp.take(
        p["position_embedding"]["embedding"], position_ids(config, text_length, image_length),
        axis=0)
    pe = layers.rms_norm(pos.astype(jnp.float32), p["pe_pre_ln"]["scale"])
    # cross_position_{q,k}_linear exist in the checkpoint but the reference never adds their
    # bias (cross-attention passes no relative bias, which gates abs_bias): dead, not computed.
    return rel + layers.absolute_position_bias(
        pe, p["self_position_q_linear"]["kernel"], p["self_position_k_linear"]["kernel"],
        config.num_heads, config.emb_dim)


def cross_kv(params: dict, config: UnifiedIOConfig, encoded: jax.Array) -> list:
    """Per decoder layer, the cross-attention (key, value) of the encoder states,
    each [B, S, H, Dh] in the weights' dtype (computed once per batch, reused every step)."""
    out = []
    for i in range(config.num_decoder_layers):
        lp = params["decoder"][f"layers_{i}"]["encoder_decoder_attention"]
        k, v = layers.project_qkv(encoded, lp, ("key", "value"), config.num_heads)
        dtype = lp["key"]["kernel"].dtype
        out.append((k.astype(dtype), v.astype(dtype)))
    return out


def layer(lp: dict, config: UnifiedIOConfig, x, attend_self, kv, cross_bias,
          attend_cross=layers.attend):
    """One pre-norm decoder layer; ``attend_self(q, k, v)`` handles caching and bias,
    ``attend_cross`` is ``layers.attend`` or ``layers.attend_transposed`` (per ``kv``'s layout)."""
    h = layers.rms_norm(x, lp["pre_self_attention_layer_norm"]["scale"])
    if "qkv" in lp["self_attention"]:  # one dot (``fuse_step_kernels``)
        q, k, v = (layers.split_heads(a, config.num_heads) for a in jnp.split(
            layers.dense(h, lp["self_attention"]["qkv"]), 3, axis=-1))
    else:
        q, k, v = layers.project_qkv(h, lp["self_attention"], ("query", "key", "value"),
                                     config.num_heads)
    x = x + layers.dense(attend_self(q, k, v), lp["self_attention"]["out"]["kernel"])
    h = layers.rms_norm(x, lp["pre_cross_attention_layer_norm"]["scale"])
    (q,) = layers.project_qkv(h, lp["encoder_decoder_attention"], ("query",), config.num_heads)
    att = attend_cross(q, kv[0], kv[1], cross_bias)
    x = x + layers.dense(att, lp["encoder_decoder_attention"]["out"]["kernel"])
    h = layers.rms_norm(x, lp["pre_mlp_layer_norm"]["scale"])
    return x + layers.gated_gelu_mlp(h, lp["mlp"])


def output_logits(params: dict, config: UnifiedIOConfig, h: jax.Array,
                  image_rows: jax.Array | bool) -> jax.Array:
    """``decoder_norm``-ed states [B, L, D] -> [B, L, V] logits with the hard segment mask:
    text rows keep ids < vocab_size, image rows ids >= vocab_size, the rest exactly -1e10."""
    emb = params["token_embedder"]["embedding"]
    logits = layers.einsum("bld,vd->blv", h, emb) / jnp.sqrt(jnp.float32(config.emb_dim))
    is_image_col = jnp.arange(config.total_vocab) >= config.vocab_size
    keep = is_image_col == jnp.asarray(image_rows)[..., None]
    return jnp.where(keep, logits, layers.MASK_VALUE)


def decode_full(params: dict, config: UnifiedIOConfig, encoded, encoder_mask, text_inputs,
                text_mask, image_inputs, image_mask, capture: Optional[dict] = None):
    """Teacher-forced decoder over a text segment then an image segment.

    Args:
        encoded: [B, S, D] encoder states; encoder_mask: [B, S].
        text_inputs / text_mask: [B, T] ids and validity (reference: mask = target > 0).
        image_inputs / image_mask: [B, I] ids (image start 33151, then code ids) and validity.

    Returns:
        (text logits [B, T, V], image logits [B, I, V]), masked per segment.
    """
    t, i = text_inputs.shape[1], image_inputs.shape[1]
    ids = jnp.concatenate([text_inputs, image_inputs], 1)
    seg = jnp.concatenate([jnp.zeros((t,), jnp.int32), jnp.ones((i,), jnp.int32)])
    x = embed(params, config, ids, position_ids(config, t, i)[None], seg[None])
    dmask = jnp.concatenate([text_mask, image_mask], 1).astype(jnp.int32)
    causal = jnp.tril(jnp.ones((t + i, t + i), bool))
    allowed = (dmask[:, :, None] > 0) & (dmask[:, None, :] > 0) & causal
    table = self_bias_table(params, config, t, i)
    self_bias = jnp.where(allowed, 0.0, layers.MASK_VALUE)[:, None] + table[None]
    cross_bias = layers.mask_bias(dmask, encoder_mask)
    if capture is not None:
        rp = params["decoder"]["relpos_bias"]
        capture["pre_ln"] = x
        capture["relpos_bias"] = relative_bias(rp["rel_embedding"], rp["image_rel_embedding"],
                                               t, i, config.decoder_grid, bidirectional=False)
    kvs = cross_kv(params, config, encoded)
    for n in range(config.num_decoder_layers):
        x = layer(params["decoder"][f"layers_{n}"], config, x,
                   lambda q, k, v: layers.attend(q, k, v, self_bias), kvs[n], cross_bias)
        if capture is not None and n == 0:
            capture["layers_0"] = x
    h = layers.rms_norm(x, params["decoder"]["decoder_norm"]["scale"])
    if capture is not None:
        capture["decoder_norm"] = h
    logits = output_logits(params, config, h, (jnp.arange(t + i) >= t)[None, :])
    return logits[:, :t], logits[:, t:]


def fuse_step_kernels(params: dict, config: UnifiedIOConfig) -> dict:
    """``params`` plus, per decoder layer, the self-attention q|k|v kernels and the MLP
    wi_0|wi_1 kernels side by side (``qkv``, ``wi``): one dot each instead of three and two.
    At one row per step these dots read weights, and CPU GEMVs this small do not reach the
    memory bandwidth one at a time; each output column is the same dot, so the same bits
    (tested against the unfused reference loop)."""
    layers_ = {}
    for n in range(config.num_decoder_layers):
        lp = params["decoder"][f"layers_{n}"]
        sa, mlp = lp["self_attention"], lp["mlp"]
        qkv = jnp.concatenate([sa[k]["kernel"] for k in ("query", "key", "value")], axis=1)
        wi = jnp.concatenate([mlp["wi_0"]["kernel"], mlp["wi_1"]["kernel"]], axis=1)
        layers_[f"layers_{n}"] = lp | {"self_attention": sa | {"qkv": qkv},
                                       "mlp": mlp | {"wi": wi}}
    return params | {"decoder": params["decoder"] | layers_}


def transpose_kv(kvs: list) -> list:
    """Per layer (key, value) [B, S, H, Dh] -> [B, H, Dh, S] for ``decode_step``."""
    return [tuple(jnp.transpose(a, (0, 2, 3, 1)) for a in kv) for kv in kvs]


def decode_step(params: dict, config: UnifiedIOConfig, ids, pos_id, seg_id, index, caches,
                key_mask, bias_row, kvs, cross_bias):
    """One cached decoder step for every sequence of the batch.

    Keys and values are held in the layout XLA's CPU dots read them in, so no step transposes
    or copies them: cross [B, H, Dh, S], cached [B*H, Dh, L] (see ``layers.attend_rows``);
    the same dots as ``layers.attend`` on [B, L, H, Dh], so the same bits (tested).

    Args:
        ids: [B] input token ids. pos_id / seg_id / index: scalars (position row, segment,
            slot of this step in the cache).
        caches: per layer (keys, values) [B*H, Dh, L]; the new key/value goes to ``index``.
        key_mask: [B, L] validity of cache slots (this step's slot already set).
        bias_row: [H, L] relative + absolute bias of this query position.
        kvs: per layer cross (key, value) [B, H, Dh, S] (``transpose_kv``, done by the
            encoder program);
        cross_bias: [B, 1, 1, S].

    Returns:
        (normalised hidden state [B, D], updated caches).
    """
    x = embed(params, config, ids[:, None], pos_id[None, None], seg_id[None, None])
    length = key_mask.shape[1]
    allowed = (key_mask > 0) & (jnp.arange(length) <= index)[None]
    bias = jnp.where(allowed, 0.0, layers.MASK_VALUE)[:, None, None, :] + bias_row[None, :, None]
    new_caches = []
    for n in range(config.num_decoder_layers):
        ck, cv = caches[n]

        def attend_self(q, k, v, ck=ck, cv=cv):
            nk, nv = (lax.dynamic_update_slice_in_dim(c, jnp.transpose(a, (0, 2, 3, 1)).reshape(
                c.shape[0], c.shape[1], 1).astype(c.dtype), index, axis=2)
                for c, a in ((ck, k), (cv, v)))
            new_caches.append((nk, nv))
            return layers.attend_rows(q, nk, nv, jnp.broadcast_to(
                bias, (q.shape[0], q.shape[2], 1, length)))

        x = layer(params["decoder"][f"layers_{n}"], config, x, attend_self, kvs[n], cross_bias,
                  layers.attend_transposed)
    h = layers.rms_norm(x, params["decoder"]["decoder_norm"]["scale"])
    return h[:, 0], new_caches
