"""Jitted exact-shape programs for the parity API: encoder states, teacher-forced logits,
VQ-GAN decode/encode. Cached per config; jax retraces only for new input shapes."""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from model_adapters.unified_io import decoder, encoder, vqgan
from model_adapters.unified_io.config import UnifiedIOConfig
from model_adapters.unified_io.decoding import note_trace

EOS = 1


@functools.cache
def encode_program(config: UnifiedIOConfig):
    """jit(params, text_ids, image, image_mask) -> (hidden [B, Lt+576, D], mask [B, Lt+576])."""

    def run(params, text_ids, image, image_mask):
        note_trace("tf_encode")
        hidden, mask, _ = encoder.encode(params, config, text_ids, image, image_mask)
        return hidden, mask

    return jax.jit(run)


@functools.cache
def text_logits_program(config: UnifiedIOConfig):
    """jit(params, text_ids, image, image_mask, dec_inputs [B, T], dec_targets [B, T])
    -> (text logits [B, T, V], intermediates). The intermediates (encoder/decoder embedding
    norms, first layers, ``decoder_norm``, relative bias, normalised encoder position table)
    are small debug outputs for parity checks. As the reference's full forward, the decoder also holds one
    dummy image position (input 33151, mask 1); it only matters for fully masked text rows
    (target 0), which attend uniformly to every key, that one included."""

    def run(params, text_ids, image, image_mask, dec_inputs, dec_targets):
        note_trace("tf_text")
        enc_cap, dec_cap = {}, {}
        hidden, mask, pe = encoder.encode(params, config, text_ids, image, image_mask, enc_cap)
        b = text_ids.shape[0]
        text_logits, _ = decoder.decode_full(
            params, config, hidden, mask, dec_inputs, (dec_targets > 0).astype(jnp.int32),
            jnp.full((b, 1), config.image_start_id, jnp.int32), jnp.ones((b, 1), jnp.int32),
            dec_cap)
        inter = {f"encoder/{k}": v for k, v in enc_cap.items()}
        inter.update({f"decoder/{k}": v for k, v in dec_cap.items()})
        inter["encoder/position_embedding"] = pe
        return text_logits, inter

    return jax.jit(run)


@functools.cache
def image_logits_program(config: UnifiedIOConfig):
    """jit(params, text_ids, image, image_mask, image_dec_inputs [B, I]) ->
    (text logits [B, 1, V] of the single text position (input 0, target EOS),
    image logits [B, I, V]); every decoder position has mask 1, as the reference."""

    def run(params, text_ids, image, image_mask, image_inputs):
        note_trace("tf_image")
        hidden, mask, _ = encoder.encode(params, config, text_ids, image, image_mask)
        b, i = image_inputs.shape
        return decoder.decode_full(
            params, config, hidden, mask, jnp.zeros((b, 1), jnp.int32),
            jnp.ones((b, 1), jnp.int32), image_inputs, jnp.ones((b, i), jnp.int32))

    return jax.jit(run)


@functools.cache
def vq_decode_program(config: UnifiedIOConfig):
    """jit(params, codes [B, 256]) -> raw VQ-GAN output [B, 256, 256, 3]."""

    def run(params, codes):
        note_trace("vq_decode")
        return vqgan.decode_codes(params, config.vqgan, codes)

    return jax.jit(run)


@functools.cache
def vq_encode_program(config: UnifiedIOConfig):
    """jit(params, images [B, 256, 256, 3] in [-1, 1]) -> (codes [B, 256], quant_conv z)."""

    def run(params, images):
        note_trace("vq_encode")
        z = vqgan.encode_prequant(params, config.vqgan, images)
        return vqgan.nearest_codes(params, z), z

    return jax.jit(run)
