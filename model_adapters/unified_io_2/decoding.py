"""Generation with a KV cache and early stop, and answer-option scoring (JAX, jitted).

One ``lax.while_loop`` per call: each step embeds the last token at position t (text: 1-D rope
row t; image: grid cell t), appends its keys/values to a preallocated cache, attends over cached
positions 0..t (the port passes no self-attention mask when caching: the same set), and picks
the next token from the processed scores. The loop stops when every row has emitted EOS (1) or
after ``max_new`` tokens; finished rows are padded with 1 as HF's greedy search does.

Processors run in the port's order: the kit-style id suppression, location forcing
(``PredictBoxesPreprocessor``), keypoint forcing (``ForceKeypointPrediction``), then
classifier-free guidance (``ClfFreeGuidanceProcessor``: log-softmax, (1+a)*main - a*negative,
the negative half fed the main half's ids). Sampling applies temperature then top-p (HF's
warper order) and draws from ``jax.random`` with one caller-given seed PER ROW (key
``PRNGKey(seed)``, folded with the step): a row's draws do not depend on the other rows, so a
request samples the same codes alone or in any batch. It cannot reproduce torch's random
stream, only its distribution.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np

from model_adapters.unified_io.decoding import sort_ascending
from model_adapters.unified_io_2 import model as M
from model_adapters.unified_io_2.layers import NEG_INF, exp_of_nonpositive, log_softmax, mask_bias, row_sum, softmax, uio_norm
from model_adapters.unified_io_2.tokenizer import EOS_ID, LOC_END, LOC_START

FORCE_LOCATION = -1  # keypoint schedule entry: this step must be a location token


@dataclass(frozen=True)
class Processors:
    suppress_ids: tuple[int, ...] = ()  # set to -1e4 every step (the parity kit's image processor)
    location_threshold: Optional[float] = None
    require_one_box: bool = False
    keypoint_schedule: Optional[tuple[int, ...]] = None
    guidance: Optional[float] = None


@dataclass(frozen=True)
class Sampling:
    top_p: float = 1.0
    temperature: float = 1.0


def _force_location(scores, rows):
    ids = jnp.arange(scores.shape[-1])
    outside = (ids < LOC_START) | (ids >= LOC_END)
    return jnp.where(rows[:, None] & outside[None], -10000.0, scores)


def process(scores, t, procs: Processors):
    if procs.suppress_ids:
        scores = scores.at[:, jnp.array(procs.suppress_ids)].set(-1e4)
    if procs.location_threshold is not None:
        loc = log_softmax(scores)[:, LOC_START:LOC_END]
        top = jnp.max(loc, -1, keepdims=True)
        mass = exp_of_nonpositive(top + jnp.log(row_sum(exp_of_nonpositive(loc - top))))[:, 0]
        scores = _force_location(scores, mass > procs.location_threshold)
        if procs.require_one_box:
            scores = scores.at[:, EOS_ID].set(jnp.where(t == 0, -10000.0, scores[:, EOS_ID]))
    if procs.keypoint_schedule is not None:
        sched = jnp.array(procs.keypoint_schedule + (0,), jnp.int32)
        entry = sched[jnp.minimum(t, len(procs.keypoint_schedule))]
        active = t < len(procs.keypoint_schedule)
        loc = _force_location(scores, jnp.full(scores.shape[:1], True))
        forced = jnp.where(jnp.arange(scores.shape[-1])[None] == entry, 1000.0, scores * 0)
        scores = jnp.where(active & (entry == FORCE_LOCATION), loc,
                           jnp.where(active & (entry >= 0), forced, scores))
    if procs.guidance is not None:
        logp = log_softmax(scores)
        n = scores.shape[0] // 2
        out = (1 + procs.guidance) * logp[:n] - procs.guidance * logp[n:]
        scores = out
    return scores


def _pick(scores, keys, t, sampling: Optional[Sampling]):
    if sampling is None:
        return jnp.argmax(scores, -1).astype(jnp.int32)
    s = scores / sampling.temperature
    if sampling.top_p < 1.0:
        srt = sort_ascending(s)  # jnp.sort's values, by int32 keys on CPU (benchmarks/top_p_sort.py)
        cum = jnp.cumsum(softmax(srt), -1)
        remove = cum <= (1 - sampling.top_p)
        remove = remove.at[:, -1].set(False)
        cutoff = jnp.min(jnp.where(remove, jnp.inf, srt), -1, keepdims=True)
        s = jnp.where(s < cutoff, -jnp.inf, s)
    draw = lambda key, row: jax.random.categorical(jax.random.fold_in(key, t), row, -1)
    return jax.vmap(draw)(keys, s).astype(jnp.int32)


def generate(p, cfg, tables, encoded, enc_mask, enc_rope, modality: str, max_new: int,
             procs: Processors = Processors(), sampling: Optional[Sampling] = None, seeds=None,
             top_k: int = 5, early_stop: bool = True):
    """``seeds``: uint32 [output rows] (sampling only). Returns tokens [B, 1+max_new] (BOS first), steps run, per-step top-k ids/scores
    [max_new, B, k] of the processed scores, and per-step log-prob of the chosen token under
    the unprocessed distribution [max_new, B]."""
    n_layers, h, d = int(cfg.t5["num_decoder_layers"]), cfg.num_heads, cfg.head_dim
    rows = encoded.shape[0]
    out_rows = rows // 2 if procs.guidance is not None else rows
    rope_table = jnp.asarray(tables.text_out if modality == "text" else tables.image_out)
    xkv = M.cross_kv(p, cfg, encoded, enc_rope)
    cross_bias = mask_bias(jnp.ones((rows, 1, 1), jnp.int32) * enc_mask[:, None, :])
    cache0 = [(jnp.zeros((rows, max_new, h, d), encoded.dtype),) * 2 for _ in range(n_layers)]
    keys = jax.vmap(jax.random.PRNGKey)(jnp.zeros((out_rows,), jnp.uint32) if seeds is None else seeds)

    def body(carry):
        t, tokens, caches, done, tops_i, tops_s, chosen_lp = carry
        ids = jax.lax.dynamic_slice_in_dim(tokens, t, 1, axis=1)
        if procs.guidance is not None:
            ids = jnp.concatenate([ids, ids], 0)
        y, rope = M.embed_targets(p, modality, ids, rope_table, jnp.full((rows, 1), t))
        self_bias = jnp.where(jnp.arange(max_new) <= t, 0.0, NEG_INF)[None, None, None, :]
        new_caches = []
        for i in range(n_layers):
            def kv_fn(k, v, i=i):
                ck = jax.lax.dynamic_update_slice_in_dim(caches[i][0], k, t, axis=1)
                cv = jax.lax.dynamic_update_slice_in_dim(caches[i][1], v, t, axis=1)
                new_caches.append((ck, cv))
                return ck, cv
            y = M.decoder_layer(p, cfg, i, y, rope, kv_fn, self_bias, xkv, cross_bias)
        raw = M.logits(p, modality, uio_norm(y, p["decoder.decoder_norm.scale"]))[:, 0]
        scores = process(raw, t, procs)
        nxt = _pick(scores, keys, t, sampling)
        nxt = jnp.where(done, EOS_ID, nxt)
        lp = jnp.take_along_axis(log_softmax(raw[:out_rows]), nxt[:, None], -1)[:, 0]
        ts, ti = jax.lax.top_k(scores, top_k)
        tokens = jax.lax.dynamic_update_slice_in_dim(tokens, nxt[:, None], t + 1, axis=1)
        return (t + 1, tokens, new_caches, done | (nxt == EOS_ID),
                tops_i.at[t].set(ti), tops_s.at[t].set(ts), chosen_lp.at[t].set(lp))

    def cond(carry):
        # early_stop=False runs the whole budget (the benchmark's full-length baseline)
        return (carry[0] < max_new) & (~jnp.all(carry[3]) if early_stop else True)

    init = (jnp.int32(0), jnp.zeros((out_rows, max_new + 1), jnp.int32), cache0,
            jnp.zeros((out_rows,), bool), jnp.zeros((max_new, out_rows, top_k), jnp.int32),
            jnp.zeros((max_new, out_rows, top_k), jnp.float32), jnp.zeros((max_new, out_rows), jnp.float32))
    t, tokens, _, _, ti, ts, lp = jax.lax.while_loop(cond, body, init)
    return {"tokens": tokens, "steps": t, "top_ids": ti, "top_scores": ts, "logprob": lp}


def score_options(p, cfg, tables, encoded, enc_mask, enc_rope, options, average: bool = True, rows=None):
    """Per-option cross-entropy over its tokens (id > 0), decoded with teacher forcing from the
    input (the single one, or row ``rows[j]`` of the encoded batch for option j); mean per
    token when ``average`` (the port's default), else the sum (the JAX original). Lower is
    better. ``options`` [n, L] hold EOS and are 0-padded."""
    n = options.shape[0]
    inputs = jnp.concatenate([jnp.zeros((n, 1), options.dtype), options[:, :-1]], 1)
    mask = (options > 0).astype(jnp.int32)
    tables_pos = jnp.broadcast_to(jnp.arange(options.shape[1]), options.shape)
    y, rope = M.embed_targets(p, "text", inputs, jnp.asarray(tables.text_out), tables_pos)
    rep = (lambda a: jnp.broadcast_to(a, (n,) + a.shape[1:])) if rows is None else (lambda a: a[rows])
    hidden = M.decoder(p, cfg, y, mask, rope, rep(encoded), rep(enc_mask), rep(enc_rope))
    logp = log_softmax(M.logits(p, "text", hidden))
    ce = -jnp.take_along_axis(logp, options[..., None].astype(jnp.int32), -1)[..., 0] * mask
    total = row_sum(ce)[:, 0]
    return total / mask.sum(-1) if average else total


def as_numpy(out: dict) -> dict:
    return {k: np.asarray(v) for k, v in out.items()}
