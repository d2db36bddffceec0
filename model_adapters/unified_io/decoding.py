"""Jitted programs: encoder prefill and the cached decode loop with early stop.

Every builder is ``functools.cache``-d on hashable static arguments (config, bucket sizes,
flags), so a run compiles one program per (batch bucket, length bucket, mode) and reuses it.
``trace_count()`` counts traces (= jit cache misses) of these programs for tests/benchmarks.

Decode loop (UNIFIED_IO.md 3.5, parity README "Decode loop"): step s < n is text position s
(input: 0 at step 0, else the previous token); step s >= n is image position j = s - n (input
33151 at j = 0, else the previous token). Greedy = argmax (1-beam beam search, alpha 0);
sampling = top-p 0.9 with ``jax.random.categorical(k, logits / (1 + 1e-7))``, PRNG split once
per step (first half samples, second carried), exactly as the reference so tokens match.
Unlike the reference (which always runs every step), text-only decoding stops as soon as every
sequence has produced EOS; tokens up to each sequence's EOS are unchanged by this.
"""
from __future__ import annotations

import collections
import functools

import jax
import jax.numpy as jnp
from jax import lax

from model_adapters.unified_io import decoder, encoder, layers
from model_adapters.unified_io.config import UnifiedIOConfig

EOS = 1
TOP_P = 0.9
TOPP_FILTER_VALUE = -1e7  # the reference's NEG_INF for top-p filtered logits
_TRACES: collections.Counter = collections.Counter()


def note_trace(program: str) -> None:
    """Called from inside a jitted function body: runs once per trace (jit cache miss)."""
    _TRACES[program] += 1


def trace_count() -> int:
    """Total number of programs traced (compiled) by this module so far."""
    return sum(_TRACES.values())


@functools.cache
def encoder_program(config: UnifiedIOConfig):
    """jit(params, text_ids [B, Lt], image, image_mask) -> (hidden, mask, cross K/V per layer
    as [B, H, Dh, S], the layout the decode step and option scoring read them in)."""

    def run(params, text_ids, image, image_mask):
        note_trace("encoder")
        hidden, mask, _ = encoder.encode(params, config, text_ids, image, image_mask)
        return hidden, mask, decoder.transpose_kv(decoder.cross_kv(params, config, hidden))

    return jax.jit(run)


def segment_tables(params: dict, config: UnifiedIOConfig) -> dict:
    """The text and image rows of the output embedding as two arrays, for the decode step's
    ``params["segment_tables"]``: built once per model (a slice inside the decode program is
    a 150 MB copy at base on every call, and inside the loop on every step)."""
    emb = params["token_embedder"]["embedding"]
    return {"text": emb[:config.vocab_size], "image": emb[config.vocab_size:]}


def _segment_logits(config: UnifiedIOConfig, h, table, image: bool):
    """[B, D] -> full-width [B, V] logits computing only the allowed segment's columns
    (``table``: that segment's embedding rows, see ``segment_tables``)."""
    v = config.vocab_size
    logits = layers.einsum("bd,vd->bv", h, table) / jnp.sqrt(jnp.float32(config.emb_dim))
    fill = jnp.full((h.shape[0], config.image_vocab_size if not image else v), layers.MASK_VALUE,
                    jnp.float32)
    return jnp.concatenate([fill, logits] if image else [logits, fill], axis=1)


def sort_ascending(x: jax.Array) -> jax.Array:
    """``jnp.sort(x, axis=-1)``, bit for bit. On CPU, XLA sorts float32 through jax's float
    comparator, several times slower than int32 with a plain compare (``benchmarks/
    top_p_sort.py``), and a host sort costs a callback per decode step (and deadlocks the
    collectives of several CPU devices). So the CPU backend sorts the float bits
    as int32 keys: negative floats get their 31 low bits flipped, which orders them
    -inf < ... < +inf as that comparator does (it compares +-0 and, denormals being flushed,
    subnormals as equal and leaves their order unspecified; the arithmetic after the sort
    flushes them too); the map is its own inverse.
    ``jnp.sort`` puts NaNs of either sign last, so an array holding a NaN takes it instead."""
    if jax.default_backend() != "cpu":
        return jnp.sort(x, axis=-1)

    def flip(keys):
        return keys ^ ((keys >> 31) & jnp.int32(0x7FFFFFFF))

    def by_keys():
        # Stable or not, equal keys are equal bits; XLA's stable int32 sort was the faster
        # of the two on CPU when this was written.
        keys = lax.sort(flip(lax.bitcast_convert_type(x, jnp.int32)), dimension=x.ndim - 1,
                        is_stable=True)
        return lax.bitcast_convert_type(flip(keys), x.dtype)

    return lax.cond(jnp.any(jnp.isnan(x)), lambda: jnp.sort(x, axis=-1), by_keys)


def sort_segment_ascending(x: jax.Array, segment: tuple[int, int]) -> jax.Array:
    """``sort_ascending(x)`` for rows whose columns outside ``segment`` (start, stop) are all
    exactly -1e10 (the decode step's hard segment mask): those sort first, so only the
    segment is sorted (16,384 image columns instead of 49,536). Checked on the data, not
    assumed: a row breaking it (a value below -1e10 or NaN in the segment, or anything else
    outside) makes the whole batch take the full sort, so the result is always the same."""
    start, stop = segment
    part = x[:, start:stop]
    inside = (jnp.arange(x.shape[1]) >= start) & (jnp.arange(x.shape[1]) < stop)
    holds = (jnp.all(part >= layers.MASK_VALUE)
             & jnp.all(jnp.where(inside[None], layers.MASK_VALUE, x) == layers.MASK_VALUE))
    fill = jnp.full((x.shape[0], x.shape[1] - part.shape[1]), layers.MASK_VALUE, x.dtype)
    return lax.cond(
        holds, lambda: jnp.concatenate([fill, sort_ascending(part)], axis=1),
        lambda: sort_ascending(x))


def top_p_filter(logits: jax.Array, top_p: float = TOP_P,
                 segment: tuple[int, int] | None = None) -> jax.Array:
    """Keeps ids whose logit >= the logit at index count(cumsum(sorted softmax) < p); the
    rest get -1e7, as the reference's temperature sampler. ``segment``: the columns the step may produce (the others hold -1e10; see
    ``sort_segment_ascending``), or None."""
    sorted_asc = (sort_ascending(logits) if segment is None else
                  sort_segment_ascending(logits, segment))
    sorted_desc = sorted_asc[:, ::-1]
    cum = jnp.cumsum(jax.nn.softmax(sorted_desc, axis=-1), axis=-1)
    cutoff_index = jnp.sum(cum < top_p, axis=-1, keepdims=True)
    cutoff = jnp.take_along_axis(sorted_desc, cutoff_index, axis=-1)
    return jnp.where(logits < cutoff, TOPP_FILTER_VALUE, logits)


def _stats(logits, token, columns):
    """Per-step summaries of the masked logits [B, V] (debug/parity; a few cheap passes)."""
    top1 = jnp.max(logits, axis=-1)
    first = jnp.argmax(logits, axis=-1)
    rest = jnp.where(jnp.arange(logits.shape[1])[None] == first[:, None], -jnp.inf, logits)
    return {
        "max": top1,
        "logsumexp": jax.nn.logsumexp(logits, axis=-1),
        "margin": top1 - jnp.max(rest, axis=-1),
        "token_logit": jnp.take_along_axis(logits, token[:, None], axis=1)[:, 0],
        "cols": jnp.take(logits, columns, axis=1),
        "argmax": first.astype(jnp.int32),
    }


# Per-row entries of the decode loop state: sharded on the batch axis under data parallelism.
_ROW_STATE = ("last", "tokens", "logprobs", "caches", "key_mask", "eos_in", "done", "stats")


def sample_rows(key, logits: jax.Array, row_offset, noise_rows: int,
                columns: tuple[int, int] | None = None) -> jax.Array:
    """``jax.random.categorical(key, L)[row_offset : row_offset + B]`` for logits [B, V] that
    are rows ``row_offset..`` of a larger batch ``L`` of ``noise_rows`` rows: the Gumbel noise
    of row r is that of row r of the whole batch (jax's partitionable threefry draws element
    (r, v) from counter r*V + v), so a row's sample never depends on how the batch was split
    into program calls or over devices.

    ``columns`` (start, stop): the argmax only looks there, for callers whose other columns
    can never win (top-p filtered to -1e7 while an allowed logit is kept): same ids."""
    noise = jax.random.gumbel(key, (noise_rows, logits.shape[1]), logits.dtype)
    # Unfused, the noise costs a quarter of what it costs inside the argmax's reduction.
    noise = lax.optimization_barrier(
        lax.dynamic_slice_in_dim(noise, row_offset, logits.shape[0], axis=0))
    start, stop = columns or (0, logits.shape[1])
    return start + jnp.argmax(noise[:, start:stop] + logits[:, start:stop], axis=-1)


@functools.cache
def decode_program(config: UnifiedIOConfig, text_slots: int, image_length: int,
                   data_parallel=None, noise_rows: int = 0, record_stats: bool = True):
    """Builds the jitted decode loop for a text cache of ``text_slots`` (a bucket >= the
    text length) followed by ``image_length`` image steps (0 for text-only). With a
    ``sharding.DataParallel`` the per-row loop state stays sharded on its batch axis (the
    step counter and PRNG key are replicated, so every device draws from the same stream).

    Arguments of the returned function: params, encoder_mask [B, S], cross K/V,
    text_length (int32 scalar, 1..text_slots), greedy (bool scalar; else top-p sampling),
    early_stop (bool scalar: stop once every row has produced EOS; only for callers that do
    not need the image steps), rng key, eos_bias [B, text_slots] (added to the EOS logit at
    text steps: a test/benchmark hook, zeros otherwise), row_valid [B] bool (False = batch
    padding, counted as done), columns [C] int (ids whose logits are recorded per step),
    row_offset (int32 scalar: index of row 0 in the caller's whole batch of ``noise_rows``
    rows, for ``sample_rows``; ``noise_rows`` 0 = this batch).
    Mode flags are traced (``lax.cond``) so greedy/sampling/early stop share one program.

    Returns a dict: ``tokens`` [B, text_slots + image_length] (ids; unproduced steps 0),
    ``logprobs`` (same shape; log-softmax of the masked -- for sampling, top-p filtered --
    logits at the chosen id), ``steps`` (steps run) and ``stats`` (per-step summaries of the
    masked logits: max, logsumexp, margin, token_logit, argmax [B, length], cols [B, length, C];
    empty without ``record_stats``).
    """
    length = text_slots + image_length

    def pin_rows(st):
        if data_parallel is None:
            return st
        return st | data_parallel.constrain({k: st[k] for k in _ROW_STATE})

    def run(params, encoder_mask, kvs, text_length, greedy, early_stop, rng, eos_bias,
            row_valid, columns, row_offset):
        note_trace("decode")
        batch = encoder_mask.shape[0]
        n_steps = text_length + image_length
        table = decoder.self_bias_table(params, config, text_slots, image_length)
        tables = params.get("segment_tables") or segment_tables(params, config)
        text_table, image_table = tables["text"], tables["image"]
        cross_bias = layers.mask_bias(jnp.ones((batch, 1), jnp.int32), encoder_mask)
        dtype = params["decoder"]["layers_0"]["self_attention"]["key"]["kernel"].dtype
        shape = (batch * config.num_heads, config.head_dim, length)
        zeros = functools.partial(jnp.zeros, (batch, length), jnp.float32)
        state = {
            "step": jnp.int32(0), "last": jnp.zeros((batch,), jnp.int32),
            "tokens": jnp.zeros((batch, length), jnp.int32), "logprobs": zeros(),
            "caches": [(jnp.zeros(shape, dtype), jnp.zeros(shape, dtype))
                       for _ in range(config.num_decoder_layers)],
            "key_mask": jnp.zeros((batch, length), jnp.int32),
            "eos_in": jnp.zeros((batch,), bool), "done": ~row_valid, "rng": rng,
            "stats": {"max": zeros(), "logsumexp": zeros(), "margin": zeros(),
                      "token_logit": zeros(), "argmax": jnp.zeros((batch, length), jnp.int32),
                      "cols": jnp.zeros((batch, length, columns.shape[0]), jnp.float32)}
            if record_stats else {},
        }

        state = pin_rows(state)

        def cond(st):
            return (st["step"] < n_steps) & ~(early_stop & jnp.all(st["done"]))

        def body(st):
            s = st["step"]
            is_text = s < text_length
            j = s - text_length
            index = jnp.where(is_text, s, text_slots + j)
            ids = jnp.where(s == 0, 0, jnp.where(s == text_length, config.image_start_id,
                                                 st["last"]))
            # A text slot is a valid key until an EOS has been fed as input, which equals the
            # teacher-forced mask (target > 0) on the text that was actually produced.
            eos_in = st["eos_in"] | (is_text & (ids == EOS))
            valid = jnp.where(is_text, ~eos_in, True).astype(jnp.int32)
            key_mask = lax.dynamic_update_slice_in_dim(st["key_mask"], valid[:, None], index, 1)
            bias_row = lax.dynamic_index_in_dim(table, index, axis=1, keepdims=False)
            h, new_caches = decoder.decode_step(
                params, config, ids, jnp.where(is_text, s, config.decoder_max_text_length + j),
                jnp.where(is_text, 0, 1), index, st["caches"], key_mask, bias_row, kvs,
                cross_bias)
            if image_length == 0:
                logits = _segment_logits(config, h, text_table, image=False)
            else:
                logits = lax.cond(is_text,
                                  lambda x: _segment_logits(config, x, text_table, False),
                                  lambda x: _segment_logits(config, x, image_table, True), h)
            bias = jnp.where(is_text, eos_bias[:, jnp.minimum(s, text_slots - 1)], 0.0)
            logits = logits.at[:, EOS].add(bias)

            def pick_greedy(key):
                return jnp.argmax(logits, axis=-1).astype(jnp.int32), logits, key

            def pick_sampled(key):
                k, key = jax.random.split(key)
                rows = max(noise_rows, batch)

                def within(segment):  # the step's own columns; the others hold -1e10
                    filtered = top_p_filter(logits, segment=segment)
                    # Only the segment can win: the rest is -1e7 after top-p.
                    token = sample_rows(k, filtered / (1 + 1e-7), row_offset, rows, segment)
                    return token.astype(jnp.int32), filtered

                text, image = (0, config.vocab_size), (config.vocab_size, config.total_vocab)
                token, filtered = (within(text) if image_length == 0 else
                                   lax.cond(is_text, lambda: within(text),
                                            lambda: within(image)))
                return token, filtered, key

            token, scored, rng = lax.cond(greedy, pick_greedy, pick_sampled, st["rng"])
            logprob = jnp.take_along_axis(jax.nn.log_softmax(scored, axis=-1), token[:, None],
                                          axis=1)[:, 0]

            def put(buf, value):
                return lax.dynamic_update_slice_in_dim(buf, value[:, None], index, 1)

            return pin_rows(dict(
                st, step=s + 1, last=token, caches=new_caches, key_mask=key_mask,
                eos_in=eos_in, rng=rng, done=st["done"] | (is_text & (token == EOS)),
                tokens=put(st["tokens"], token), logprobs=put(st["logprobs"], logprob),
                stats={k: put(st["stats"][k], v)
                       for k, v in _stats(logits, token, columns).items()} if record_stats
                else {}))

        final = lax.while_loop(cond, body, state)
        return {k: final[k] for k in ("tokens", "logprobs", "stats")} | {"steps": final["step"]}

    return jax.jit(run)
