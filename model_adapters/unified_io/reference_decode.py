"""The reference's sampled decode loop re-created step for step (benchmarks and tests only).

allenai/unified-io-inference jits ``ModelRunner(compiled=True)`` around t5x's
``_temperature_sample_single_trial``: one ``lax.while_loop`` whose body calls the whole
decoder on the current token with a self-attention KV cache. Per step the reference
recomputes what its decoder's ``__call__`` computes: the position embeddings of all T + I
positions (one-hot matmuls), their ``pe_pre_ln`` and the absolute self-attention bias over
T + I x T + I, the relative bias, every layer's cross-attention keys/values of the encoder
output, the 49,536-wide output projection, then the hard segment mask, top-p with a full
``jnp.sort`` of 49,536 logits, ``jax.random.categorical`` over the full width and a full
``log_softmax``; it never stops early. The same arithmetic as ``decoding.decode_program``
(shared layer code), so for the same key the ids must be identical: that is what the fast
path is tested and benchmarked against.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

from model_adapters.unified_io import decoder, layers
from model_adapters.unified_io.config import UnifiedIOConfig
from model_adapters.unified_io.decoding import EOS, TOP_P, TOPP_FILTER_VALUE

TEMPERATURE = 1.0 + 1e-7  # the reference adds 1e-7 to its temperature 1.0


def _one_hot_rows(table: jax.Array, ids: jax.Array) -> jax.Array:
    """The reference's ``Embed(one_hot=True)``: one_hot(ids) @ table (exact row values)."""
    return layers.einsum("lv,vd->ld", jax.nn.one_hot(ids, table.shape[0], dtype=table.dtype),
                         table)


def _step(params, config: UnifiedIOConfig, ids, pos_id, seg_id, index, caches, key_mask,
          bias_row, kvs, cross_bias):
    """One decoder step as t5x runs it: the new key/value enters the [B, H, Dh, L] cache by a
    one-hot multiply-add over the whole cache, which is moved back to [B, L, H, Dh] to attend;
    cross-attention reads the [B, S, H, Dh] keys/values projected this step."""
    x = decoder.embed(params, config, ids[:, None], pos_id[None, None], seg_id[None, None])
    length = key_mask.shape[1]
    allowed = (key_mask > 0) & (jnp.arange(length) <= index)[None]
    bias = jnp.where(allowed, 0.0, layers.MASK_VALUE)[:, None, None, :] + bias_row[None, :, None]
    one_hot = jax.nn.one_hot(index, length, dtype=caches[0][0].dtype)
    new_caches = []
    for n in range(config.num_decoder_layers):
        def attend_self(q, k, v, cache=caches[n]):
            new = [c + jnp.moveaxis(a, 1, -1).astype(c.dtype) * one_hot
                   for c, a in zip(cache, (k, v))]
            new_caches.append(tuple(new))
            return layers.attend(q, *(jnp.moveaxis(c, -1, 1) for c in new), bias)

        x = decoder.layer(params["decoder"][f"layers_{n}"], config, x, attend_self, kvs[n],
                          cross_bias)
    return layers.rms_norm(x, params["decoder"]["decoder_norm"]["scale"])[:, 0], new_caches


@functools.cache
def reference_sample_program(config: UnifiedIOConfig, text_length: int, image_length: int):
    """jit(params, encoded [B, S, D], encoder_mask [B, S], rng) -> (ids [B, T + I],
    log-probs [B, T + I]): top-p 0.9 sampling at T = 1, as the reference decodes images."""
    length = text_length + image_length

    def run(params, encoded, encoder_mask, rng):
        batch = encoded.shape[0]
        emb = params["token_embedder"]["embedding"]
        p = params["decoder"]
        dtype = p["layers_0"]["self_attention"]["key"]["kernel"].dtype
        shape = (batch, config.num_heads, config.head_dim, length)  # t5x's cache layout
        positions = decoder.position_ids(config, text_length, image_length)
        columns = jnp.arange(config.total_vocab)[None]

        def body(st):
            i, seq = st["i"], st["sequences"]
            ids = jnp.where(i == text_length, config.image_start_id, st["token"])
            seg = (i >= text_length).astype(jnp.int32)
            # Text steps: the current token is a valid key until an EOS was generated.
            valid = jnp.where(i < text_length, ~jnp.any(seq == EOS, axis=1), True)
            key_mask = lax.dynamic_update_slice_in_dim(
                st["key_mask"], valid.astype(jnp.int32)[:, None], i, 1)
            table = decoder.self_bias_table(  # all T + I positions, every step
                params, config, text_length, image_length,
                _one_hot_rows(p["position_embedding"]["embedding"], positions))
            kvs = decoder.cross_kv(params, config, encoded)  # every step, as the reference
            cross_bias = layers.mask_bias(jnp.ones((batch, 1), jnp.int32), encoder_mask)
            pos_id = jnp.where(i < text_length, i,
                               config.decoder_max_text_length + i - text_length)
            h, caches = _step(params, config, ids, pos_id, seg, i, st["caches"], key_mask,
                              lax.dynamic_index_in_dim(table, i, axis=1, keepdims=False),
                              kvs, cross_bias)
            logits = layers.einsum("bd,vd->bv", h, emb) / jnp.sqrt(jnp.float32(config.emb_dim))
            image_col = columns >= config.vocab_size
            logits = jnp.where(image_col == (i >= text_length), logits, layers.MASK_VALUE)
            rng1, rng2 = jax.random.split(st["rng"])
            sorted_desc = jnp.sort(logits, axis=-1)[:, ::-1]
            cum = jnp.cumsum(jax.nn.softmax(sorted_desc, axis=-1), axis=-1)
            cutoff = jnp.take_along_axis(
                sorted_desc, jnp.sum(cum < TOP_P, axis=-1, keepdims=True), axis=-1)
            logits = jnp.where(logits < cutoff, TOPP_FILTER_VALUE, logits)
            token = jax.random.categorical(rng1, logits / TEMPERATURE).astype(jnp.int32)
            logprob = jnp.take_along_axis(jax.nn.log_softmax(logits), token[:, None], 1)[:, 0]
            one_hot = jax.nn.one_hot(i, length, dtype=jnp.int32)
            return dict(i=i + 1, token=token, rng=rng2, caches=caches, key_mask=key_mask,
                        sequences=seq * (1 - one_hot) + token[:, None] * one_hot,
                        logprobs=st["logprobs"] + one_hot * logprob[:, None])

        state = dict(i=jnp.int32(0), token=jnp.zeros((batch,), jnp.int32), rng=rng,
                     caches=[(jnp.zeros(shape, dtype), jnp.zeros(shape, dtype))
                             for _ in range(config.num_decoder_layers)],
                     key_mask=jnp.zeros((batch, length), jnp.int32),
                     sequences=jnp.zeros((batch, length), jnp.int32),
                     logprobs=jnp.zeros((batch, length), jnp.float32))
        final = lax.while_loop(lambda st: st["i"] < length, body, state)
        return final["sequences"], final["logprobs"]

    return jax.jit(run)
