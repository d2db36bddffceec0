"""``load_model`` and the numpy-in / numpy-out Unified-IO model API (issue #4).

Shapes are batch-first. ``image`` is float32 [B, 384, 384, 3] already preprocessed,
``image_mask`` int [B, 576], the text mask is ``text_ids > 0``. Vocab-sized outputs have
V = 49,536 columns with the other modality's columns exactly -1e10. VQ codes are 0..16383.

The parity API (``encode``, ``text_logits``, ``image_logits``) runs at the exact input shapes,
reproducing even fully masked rows. The serving API (``generate_*``, ``score_options``) pads
the batch to a bucket and the encoder text to 32/64/128/256 so a run compiles a handful of
programs; padding only adds masked keys, which leaves every valid output unchanged.

Data parallelism (``sharding.py``): params are replicated over a 1-D mesh of the local
devices; each call gives every device the same rows and shapes as on 1 device (``layout``),
so outputs are bit-identical with 1 or N devices.
"""
from __future__ import annotations

import os
from typing import Any, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from model_adapters.unified_io import decoder, decoding, option_scoring, teacher_forcing
from model_adapters.unified_io.buckets import bucket, pad_to
from model_adapters.unified_io.checkpoint import load_checkpoint, random_params
from model_adapters.unified_io.config import UnifiedIOConfig
from model_adapters.unified_io.sharding import DataParallel

BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
TEXT_BUCKETS = (32, 64, 128, 256)
DECODE_BUCKETS = (8, 32, 64, 128, 256)
PER_DEVICE_BATCH = 8  # most rows per device and program call (see ``layout``)


class UnifiedIOModel:
    """A loaded Unified-IO v1 (transformer + VQ-GAN) with jitted, cached programs."""

    def __init__(self, params: dict, config: UnifiedIOConfig,
                 batch_buckets: Sequence[int] = BATCH_BUCKETS,
                 data_parallel: Optional[DataParallel] = None,
                 per_device_batch: int = PER_DEVICE_BATCH):
        """``data_parallel``: shard serving batches over its mesh (``params`` must already be
        replicated on it, see ``load_model``); None runs on the params' device as is.
        ``batch_buckets``: the per-device row counts a program may have; ``per_device_batch``:
        the most rows a device gets per call (larger batches run as several calls)."""
        self.params = params
        self.config = config
        self.data_parallel = data_parallel
        self.batch_buckets = tuple(sorted(batch_buckets))
        self.per_device_batch = per_device_batch
        # Vocabulary ids whose per-step logits ``decode`` records in ``stats["cols"]``
        # (debug/parity). One setting per model keeps one compiled program per bucket.
        self.record_columns: Sequence[int] = (0,)

    # ---------------------------------------------------------------- inputs
    def _shard(self, tree):
        """Batch-leading arrays -> sharded over the mesh (as is without data parallelism)."""
        return self.data_parallel.put_batch(tree) if self.data_parallel else tree

    def _check_inputs(self, text_ids, image, image_mask):
        text_ids = np.asarray(text_ids)
        image = np.asarray(image, dtype=np.float32)
        image_mask = np.asarray(image_mask)
        c = self.config
        if text_ids.ndim != 2 or not np.issubdtype(text_ids.dtype, np.integer):
            raise ValueError(f"text_ids must be an int [B, L] array, got {text_ids.dtype} "
                             f"{text_ids.shape}")
        b = text_ids.shape[0]
        h, w = c.default_image_size
        if image.shape != (b, h, w, 3):
            raise ValueError(f"image must be [B={b}, {h}, {w}, 3], got {image.shape}")
        if image_mask.shape != (b, c.encoder_max_image_length):
            raise ValueError(f"image_mask must be [B={b}, {c.encoder_max_image_length}], got "
                             f"{image_mask.shape}")
        if text_ids.shape[1] > c.encoder_max_text_length:
            raise ValueError(f"text length {text_ids.shape[1]} exceeds "
                             f"{c.encoder_max_text_length}")
        if text_ids.size and (text_ids.min() < 0 or text_ids.max() >= c.total_vocab):
            raise ValueError(f"text_ids outside 0..{c.total_vocab - 1}")
        return text_ids.astype(np.int32), image, image_mask.astype(np.int32)

    def layout(self, b: int) -> tuple[int, list[tuple[int, int]]]:
        """How a batch of ``b`` rows runs: every program call has ``rows`` = c x (device
        count) rows, c = bucket(min(b, per_device_batch)) rows per device, and the calls take
        rows ``[start, stop)`` in order (the last one padded). c depends on b only, never on
        the device count, so every device runs the same program on the same rows whatever
        the number of devices: outputs are bit-identical on 1 or N devices."""
        c = bucket(max(min(b, self.per_device_batch), 1), self.batch_buckets, "batch size")
        rows = c * (self.data_parallel.size if self.data_parallel else 1)
        return rows, [(s, min(s + rows, b)) for s in range(0, max(b, 1), rows)]

    def prefill(self, text_ids, image, image_mask):
        """Pads to (batch, text) buckets and runs the encoder once (plus the cross-attention
        keys/values of every decoder layer) per call of ``layout``. Returns an opaque tuple
        for ``decode``/``score_options(..., prefilled=...)``; computed eagerly."""
        text_ids, image, image_mask = self._check_inputs(text_ids, image, image_mask)
        b = text_ids.shape[0]
        lt = bucket(max(text_ids.shape[1], 1), TEXT_BUCKETS, "text length")
        rows, spans = self.layout(b)
        text_ids = pad_to(text_ids, lt, 1)
        calls = []
        for start, stop in spans:
            args = self._shard(tuple(pad_to(x[start:stop], rows, 0)
                                     for x in (text_ids, image, image_mask)))
            _, mask, kvs = decoding.encoder_program(self.config)(self.params, *args)
            calls.append((start, stop, mask, kvs))
        return jax.block_until_ready((b, rows, calls))

    def _step_params(self) -> dict:
        """The params with the decode step's fused kernels (built once, kept)."""
        if getattr(self, "_fused", None) is None:
            fused = jax.jit(decoder.fuse_step_kernels, static_argnums=1)(self.params, self.config)
            tables = jax.jit(decoding.segment_tables, static_argnums=1)(self.params, self.config)
            self._fused = fused | {"segment_tables": tables}
        return self._fused

    # ---------------------------------------------------------------- parity API
    def encode(self, text_ids, image, image_mask) -> np.ndarray:
        """Encoder states [B, Lt+576, D] float32 (after ``encoder_norm``)."""
        args = self._check_inputs(text_ids, image, image_mask)
        hidden, _ = teacher_forcing.encode_program(self.config)(self.params, *args)
        return np.asarray(hidden)

    def text_logits(self, text_ids, image, image_mask, decoder_inputs, decoder_targets,
                    return_intermediates: bool = False):
        """Teacher-forced text logits [B, T, V]; inputs start with 0, mask = targets > 0.
        ``return_intermediates`` adds a dict of debug arrays (see teacher_forcing)."""
        args = self._check_inputs(text_ids, image, image_mask)
        dec_in, dec_t = np.asarray(decoder_inputs, np.int32), np.asarray(decoder_targets, np.int32)
        if dec_in.shape != dec_t.shape or dec_in.shape[0] != args[0].shape[0]:
            raise ValueError(f"decoder_inputs {dec_in.shape} and decoder_targets {dec_t.shape} "
                             "must both be [B, T]")
        logits, inter = teacher_forcing.text_logits_program(self.config)(self.params, *args,
                                                                          dec_in, dec_t)
        if return_intermediates:
            return np.asarray(logits), jax.tree.map(np.asarray, inter)
        return np.asarray(logits)

    def image_logits(self, text_ids, image, image_mask, image_decoder_inputs, image_codes=None,
                     return_text_position: bool = False):
        """Teacher-forced image logits [B, 256, V]. The decoder holds one text position
        (input 0, target EOS) before the image positions, as the reference decodes images.
        ``image_codes`` (the targets) do not change logits; accepted for the issue's API.
        With ``return_text_position`` also returns that text position's logits [B, 1, V]."""
        args = self._check_inputs(text_ids, image, image_mask)
        inputs = np.asarray(image_decoder_inputs, np.int32)
        if inputs.ndim != 2 or inputs.shape[0] != args[0].shape[0]:
            raise ValueError(f"image_decoder_inputs must be [B, I], got {inputs.shape}")
        text, img = teacher_forcing.image_logits_program(self.config)(self.params, *args, inputs)
        return (np.asarray(img), np.asarray(text)) if return_text_position else np.asarray(img)

    # ---------------------------------------------------------------- decoding
    def decode(self, text_ids, image, image_mask, text_length: int, image_length: int,
               greedy: bool = True, early_stop: bool = False, seed: int = 0, eos_logit_bias=None,
               text_slots: Optional[int] = None, prefilled=None,
               record_stats: bool = True) -> dict[str, np.ndarray]:
        """The general decode loop (reference layout: ``text_length`` text steps then
        ``image_length`` image steps). Returns ``tokens`` [B, text_slots + image_length] ids
        (text slots beyond text_length are 0), ``logprobs`` (same shape), ``steps`` and
        per-step logit summaries (``stats``, with ``cols`` at ``self.record_columns``; empty
        without ``record_stats``). ``prefilled`` (``prefill`` of the same inputs) skips the
        encoder."""
        if not 1 <= text_length:
            raise ValueError(f"text_length must be >= 1, got {text_length}")
        slots = text_slots or (bucket(text_length, DECODE_BUCKETS, "decode length")
                               if image_length == 0 else text_length)
        if text_length > slots:
            raise ValueError(f"text_length {text_length} exceeds text_slots {slots}")
        b, rows, calls = prefilled or self.prefill(text_ids, image, image_mask)
        bias = np.zeros((b, slots), np.float32)
        if eos_logit_bias is not None:
            given = np.asarray(eos_logit_bias, np.float32)
            bias[:, :min(slots, given.shape[1])] = given[:, :slots]
        columns = np.asarray(self.record_columns, np.int32)
        # Sampling noise is drawn for the whole batch (a power-of-two count of calls, to
        # bound compilations), so a row's sample never depends on the call it lands in.
        noise_rows = rows * (1 << (len(calls) - 1).bit_length())
        program = decoding.decode_program(self.config, slots, image_length, self.data_parallel,
                                          noise_rows, record_stats)
        outs = []
        for start, stop, mask, kvs in calls:
            n = stop - start
            part, row_valid = self._shard((pad_to(bias[start:stop], rows, 0),
                                           np.arange(rows) < n))
            out = program(self._step_params(), mask, kvs, jnp.int32(text_length), jnp.bool_(greedy),
                          jnp.bool_(early_stop), jax.random.PRNGKey(seed), part, row_valid,
                          columns, jnp.int32(start))
            outs.append(jax.tree.map(lambda x, n=n: np.asarray(x)[:n] if np.ndim(x) else x, out))
        return jax.tree.map(lambda *xs: np.concatenate(xs) if np.ndim(xs[0]) else max(xs), *outs)

    def generate_text(self, text_ids, image, image_mask, max_length: int, greedy: bool = True,
                      return_logprobs: bool = False, seed: int = 0, eos_logit_bias=None,
                      early_stop: bool = True):
        """Text ids [B, max_length]: greedy (1-beam beam search) or top-p 0.9 sampling
        (``greedy=False``, PRNGKey(seed)). Ids after each sequence's first EOS are 0.
        With ``return_logprobs`` also returns the per-step log-probs [B, max_length]
        (0 after EOS): exp(sum up to and including EOS) is the sequence probability."""
        out = self.decode(text_ids, image, image_mask, max_length, 0, greedy=greedy,
                          early_stop=early_stop, seed=seed, eos_logit_bias=eos_logit_bias,
                          record_stats=False)
        ids, logprobs = out["tokens"][:, :max_length], out["logprobs"][:, :max_length]
        after_eos = np.cumsum(ids == decoding.EOS, axis=1) - (ids == decoding.EOS) > 0
        ids, logprobs = np.where(after_eos, 0, ids), np.where(after_eos, 0.0, logprobs)
        return (ids, logprobs) if return_logprobs else ids

    def generate_image(self, text_ids, image, image_mask, greedy: bool = True,
                       return_logprobs: bool = False, seed: int = 0):
        """VQ codes [B, 256] (0..16383): one text step then 256 image steps; sampling (the
        reference's default for images) with ``greedy=False``. ``return_logprobs`` adds the
        per-code log-probs [B, 256]."""
        n = self.config.decoder_max_image_length
        out = self.decode(text_ids, image, image_mask, 1, n, greedy=greedy, seed=seed,
                          record_stats=False)
        codes = out["tokens"][:, 1:] - self.config.vocab_size
        return (codes, out["logprobs"][:, 1:]) if return_logprobs else codes

    def score_options(self, text_ids, image, image_mask, options, prefilled=None) -> np.ndarray:
        """Total NLL [B, K] of EOS-terminated, 0-padded options [B, K, L] (lower = better),
        including the reference's extra EOS-after-EOS term. ``prefilled`` (from ``prefill``
        on the same inputs) skips the encoder."""
        options = np.asarray(options)
        if options.ndim != 3 or options.shape[0] != np.shape(text_ids)[0]:
            raise ValueError(f"options must be [B, K, L], got {options.shape}")
        b, k, length = options.shape
        if k == 0:
            return np.zeros((b, 0), np.float32)
        _, rows, calls = prefilled or self.prefill(text_ids, image, image_mask)
        return option_scoring.score(self.params, self.config, calls, rows, options, self._shard)

    # ---------------------------------------------------------------- VQ-GAN
    def decode_image_codes(self, codes) -> np.ndarray:
        """Codes [B, 256] -> raw VQ-GAN output [B, 256, 256, 3] (about [-1, 1], unclipped)."""
        codes = np.asarray(codes)
        g = self.config.vqgan.code_grid
        if codes.ndim != 2 or codes.shape[1] != g * g:
            raise ValueError(f"codes must be [B, {g * g}], got {codes.shape}")
        if codes.size and (codes.min() < 0 or codes.max() >= self.config.vqgan.n_embed):
            raise ValueError(f"codes outside 0..{self.config.vqgan.n_embed - 1}")
        rows, spans = self.layout(codes.shape[0])
        program = teacher_forcing.vq_decode_program(self.config)
        return np.concatenate([np.asarray(program(self.params, self._shard(
            pad_to(codes[start:stop].astype(np.int32), rows, 0))))[:stop - start]
            for start, stop in spans])

    def encode_image(self, images, return_prequant: bool = False):
        """Images in [-1, 1], [B, 256, 256, 3] -> codes [B, 256] (and the quant_conv z)."""
        images = np.asarray(images, np.float32)
        r = self.config.vqgan.resolution
        if images.ndim != 4 or images.shape[1:] != (r, r, 3):
            raise ValueError(f"images must be [B, {r}, {r}, 3], got {images.shape}")
        codes, z = teacher_forcing.vq_encode_program(self.config)(self.params, images)
        return (np.asarray(codes), np.asarray(z)) if return_prequant else np.asarray(codes)

    def num_parameters(self) -> int:
        """All parameters, transformer + VQ-GAN (the released checkpoint's count)."""
        return int(sum(np.prod(x.shape) for x in jax.tree.leaves(self.params)))


def load_model(checkpoint: str | os.PathLike, config: UnifiedIOConfig | str,
               dtype: str = "float32", seed: int = 0, devices: Optional[Sequence[Any]] = None,
               **kwargs: Any) -> UnifiedIOModel:
    """Loads a released-format checkpoint (or ``"random"`` weights), replicated on ``devices``.

    Args:
        checkpoint: path of a ``*_1000k.bin`` file, or ``"random"``.
        config: a UnifiedIOConfig or a preset name (``small``, ``base``, ``large``, ``xl``,
            ``tiny``).
        dtype: ``float32`` (full precision) or ``bfloat16`` (weights cast while loading).
        seed: seed of the random weights.
        devices: the devices to split serving batches over (data parallelism); None = all
            of ``jax.local_devices()``. Predictions do not depend on their number.
        **kwargs: forwarded to UnifiedIOModel (e.g. ``batch_buckets``).
    """
    if isinstance(config, str):
        config = UnifiedIOConfig.preset(config)
    if str(checkpoint) == "random":
        host = random_params(config, seed=seed, dtype=dtype)
    else:
        host = load_checkpoint(checkpoint, config, dtype=dtype)
    data_parallel = DataParallel(devices)
    # Host arrays go straight to every device (no detour through the default device).
    params = data_parallel.put_params(host)
    del host
    return UnifiedIOModel(params, config, data_parallel=data_parallel, **kwargs)
