"""Answer-option scoring: teacher-forced NLL of K options per example, sharing its encoder
output (one program call per row batch and <= 64 options; option count and real length
bucketed, so the cost follows them and compilations stay bounded)."""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from model_adapters.unified_io import decoder, layers
from model_adapters.unified_io.buckets import bucket, pad_to
from model_adapters.unified_io.config import UnifiedIOConfig
from model_adapters.unified_io.decoding import EOS, note_trace

OPTION_LENGTH_BUCKETS = (8, 16, 32, 64, 128, 256)
# Options per example scored in one program call, bucketed so the cost follows the count.
OPTION_COUNT_BUCKETS = (1, 2, 4, 8, 16, 32, 64)


def score(params, config: UnifiedIOConfig, calls, rows: int, options: np.ndarray,
          shard) -> np.ndarray:
    """NLL [B, K] of options [B, K, L] (K >= 1) over ``UnifiedIOModel.prefill``'s ``calls``
    of ``rows`` rows each; ``shard`` places a batch-leading array on the devices."""
    k, length = options.shape[1:]
    # Trailing all-padding columns cost nothing: bucket the real (non-zero) length.
    used = int(np.max(np.nonzero(options.any(axis=(0, 1)))[0], initial=-1)) + 1
    lp = bucket(max(used, 1), OPTION_LENGTH_BUCKETS, "option length")
    grid = pad_to(options[:, :, :min(length, lp)].astype(np.int32), lp, 2)
    program = option_scoring_program(config)
    step = OPTION_COUNT_BUCKETS[-1]
    out = []
    for start, stop, mask, kvs in calls:
        scores = []
        for first in range(0, k, step):  # one program call per <= 64 options of a row
            part = grid[start:stop, first:first + step]
            width = part.shape[1]
            part = pad_to(pad_to(part, bucket(width, OPTION_COUNT_BUCKETS, "option count"), 1),
                          rows, 0)
            scores.append(np.asarray(program(params, mask, kvs, shard(part)))
                          [:stop - start, :width])
        out.append(np.concatenate(scores, axis=1))
    return np.concatenate(out)


@functools.cache
def option_scoring_program(config: UnifiedIOConfig):
    """jit(params, encoder_mask [B, S], cross K/V, options [B, K, L]) -> NLL [B, K].

    Each option (EOS-terminated, 0-padded) is teacher-forced with inputs ``[0] + o`` and
    targets ``o + [0]`` where the first target 0 under mask ``[1] + (o > 0)`` becomes EOS:
    the reference's extra EOS-after-EOS term, kept on purpose. The K options of an example
    share its encoder output: they are laid side by side on one query axis of K*(L+1)
    positions, so cross-attention reads each example's K/V once (no per-option copy) and
    self-attention runs per option. Cost grows with K and L (callers bucket both).
    """

    def run(params, encoder_mask, kvs, options):
        note_trace("options")
        b, k, length = options.shape
        t = length + 1
        options = options.reshape(b * k, length)
        inputs = jnp.concatenate([jnp.zeros((b * k, 1), options.dtype), options], 1)
        mask = jnp.concatenate([jnp.ones((b * k, 1), jnp.int32),
                                (options > 0).astype(jnp.int32)], 1)
        targets = jnp.concatenate([options, jnp.zeros((b * k, 1), options.dtype)], 1)
        first_zero = jnp.cumsum((targets == 0) & (mask > 0), axis=1) == 1
        targets = jnp.where(first_zero & (targets == 0) & (mask > 0), EOS, targets)
        text_logits = _teacher_forced_options(params, config, encoder_mask, kvs,
                                              inputs.reshape(b, k * t), mask.reshape(b, k, t))
        text_logits = text_logits.reshape(b * k, t, -1)
        lse = jax.nn.logsumexp(text_logits, axis=-1)
        target_logit = jnp.take_along_axis(text_logits, targets[..., None], axis=-1)[..., 0]
        return jnp.sum(jnp.where(mask > 0, lse - target_logit, 0.0), axis=1).reshape(b, k)

    return jax.jit(run)


def _teacher_forced_options(params, config: UnifiedIOConfig, encoder_mask, kvs, inputs, mask):
    """Text-only teacher forcing of K sequences per example from precomputed cross K/V
    ([B, H, Dh, S], ``decoding.encoder_program``):
    inputs [B, K*T], mask [B, K, T] -> text-column logits [B, K*T, vocab_size]."""
    b, k, t = mask.shape
    x = decoder.embed(params, config, inputs, jnp.tile(jnp.arange(t), k)[None],
                      jnp.zeros((1, k * t), jnp.int32))
    allowed = (mask[..., :, None] > 0) & (mask[..., None, :] > 0) & jnp.tril(jnp.ones((t, t), bool))
    table = decoder.self_bias_table(params, config, t, 0)
    self_bias = jnp.where(allowed.reshape(b * k, t, t), 0.0, layers.MASK_VALUE)[:, None] + table[None]

    def attend_self(q, key, v):  # [B, K*T, H, Dh] -> per option [B*K, T, H, Dh]
        per_option = [a.reshape(b * k, t, *a.shape[2:]) for a in (q, key, v)]
        return layers.attend(*per_option, self_bias).reshape(b, k * t, -1)

    cross_bias = layers.mask_bias(mask.reshape(b, k * t), encoder_mask)
    for n in range(config.num_decoder_layers):
        x = decoder.layer(params["decoder"][f"layers_{n}"], config, x, attend_self, kvs[n],
                          cross_bias, layers.attend_transposed)
    h = layers.rms_norm(x, params["decoder"]["decoder_norm"]["scale"])
    text_table = params["token_embedder"]["embedding"][:config.vocab_size]
    # Text columns only: the image columns' -1e10 add exactly 0 to every softmax sum.
    return layers.einsum("bld,vd->blv", h, text_table) / jnp.sqrt(jnp.float32(config.emb_dim))
