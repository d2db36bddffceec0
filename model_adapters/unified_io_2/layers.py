"""Building blocks shared by the encoder and decoder (JAX), following the port's arithmetic.

Params are a flat dict keyed by the checkpoint's torch names; torch Linear weights are
[out, in], so a projection is ``x @ W.T``.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

NEG_INF = -1e10  # the port adds this (in float32) to masked logits; fully masked rows go uniform


def linear(x, w, b=None):
    """``x @ w.T (+ b)``. A single input row goes through as two (a zero row added, then
    dropped): XLA's CPU matrix-vector kernel rounds differently from its matrix kernel (1e-4
    apart at XL width), so one request alone would otherwise drift from its batched self."""
    rows = int(np.prod(x.shape[:-1]))
    x2 = x.reshape(rows, x.shape[-1])
    if rows == 1:
        x2 = jnp.concatenate([x2, jnp.zeros_like(x2)], 0)
    y = jax.lax.dot_general(x2, w.astype(x.dtype), (((1,), (1,)), ((), ())))[:rows]
    y = y.reshape(*x.shape[:-1], w.shape[0])
    return y if b is None else y + b.astype(x.dtype)


def batched_matmul(a, b):
    """[..., m, k] x [..., k, n] with the batch dims leading: XLA:CPU lowers this layout to the
    same per-matrix kernel for every batch size; the einsum layouts it replaces switched
    kernels between 1 and n rows (6e-5 apart on attention weights x values)."""
    nb = a.ndim - 2
    dims = tuple(range(nb))
    return jax.lax.dot_general(a, b, (((a.ndim - 1,), (nb,)), (dims, dims)))


def row_sum(x):
    """Sum over the last axis as a fixed pairwise tree of elementwise adds (zero-padded to a
    power of two). Each output is the same sequence of IEEE adds whatever the other rows are:
    XLA:CPU's reduce picks its loop split from the whole tensor's shape, so a request's norms
    and softmaxes rounded differently in calls of 1 and 4 rows (4.8e-7 on qk-norm means)."""
    n = x.shape[-1]
    width = 1 << max(n - 1, 0).bit_length()
    if width != n:
        x = jnp.concatenate([x, jnp.zeros(x.shape[:-1] + (width - n,), x.dtype)], -1)
    while x.shape[-1] > 1:
        half = x.shape[-1] // 2
        x = x[..., :half] + x[..., half:]
    return x


_LN2_HI, _LN2_LO = np.float32(0.693145751953125), np.float32(1.428606765330187e-06)


def exp_of_nonpositive(x):
    """float32 exp for x <= 0 from adds, multiplies and an exponent bit shift only (Cody-Waite
    reduction, degree-8 Taylor; 7.1e-8 relative error, jnp.exp's is 8.1e-8), exactly 0 below
    -87. XLA:CPU's own exp returns other last bits for the same input in calls of other shapes
    (1.9e-9 on one decode step's softmax between 1 and 4 rows); these IEEE ops cannot."""
    x = x.astype(jnp.float32)
    n = jnp.clip(jnp.round(x * np.float32(1.4426950408889634)), -126, 127)
    r = (x - n * _LN2_HI) - n * _LN2_LO
    poly = np.float32(1 / 40320)
    for c in (1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1.0, 1.0):
        poly = poly * r + np.float32(c)
    scale = jax.lax.bitcast_convert_type((n.astype(jnp.int32) + 127) << 23, jnp.float32)
    return jnp.where(x < -87.0, np.float32(0.0), poly * scale)


def softmax(x):
    e = exp_of_nonpositive(x - jnp.max(x, axis=-1, keepdims=True))
    return (e / row_sum(e)).astype(x.dtype)


def log_softmax(x):
    s = x - jnp.max(x, axis=-1, keepdims=True)
    return s - jnp.log(row_sum(exp_of_nonpositive(s)))


def uio_norm(x, scale, eps: float = 1e-6):
    """T5-style RMS norm in float32 (no mean subtraction, no bias), cast back, times scale."""
    x32 = x.astype(jnp.float32)
    y = x32 * jax.lax.rsqrt(row_sum(x32 * x32) / np.float32(x.shape[-1]) + eps)
    return scale.astype(x.dtype) * y.astype(x.dtype)


def layer_norm(x, w, b, eps: float = 1e-5):
    n = np.float32(x.shape[-1])
    mu = row_sum(x) / n
    var = row_sum(jnp.square(x - mu)) / n
    return (x - mu) * jax.lax.rsqrt(var + eps) * w.astype(x.dtype) + b.astype(x.dtype)


def rope_1d(length: int, head_dim: int, base: float = 10000.0) -> np.ndarray:
    """[length, head_dim] table: (cos p*theta_i, sin p*theta_i) interleaved."""
    theta = 1.0 / (base ** (np.arange(0, head_dim, 2, dtype=np.float32) / np.float32(head_dim)))
    ang = np.outer(np.arange(length, dtype=np.float32), theta.astype(np.float32)).astype(np.float32)
    return np.stack([np.cos(ang), np.sin(ang)], -1).reshape(length, -1).astype(np.float32)


def rope_2d(grid: tuple[int, int], head_dim: int, resolution: float = 1.0,
            base: float = 10000.0) -> np.ndarray:
    """[h*w, head_dim] table for a row-major grid: row angles then column angles, each half of
    head_dim, coordinates 0..n-1 times ``resolution``."""
    h, w = grid
    n = head_dim // 2
    theta = (1.0 / (base ** (np.arange(0, n, 2, dtype=np.float32) / np.float32(n)))).astype(np.float32)
    rows = (np.float32(resolution) * np.arange(h, dtype=np.float32)).astype(np.float32)
    cols = (np.float32(resolution) * np.arange(w, dtype=np.float32)).astype(np.float32)
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    ang = np.concatenate([np.outer(rr.reshape(-1), theta), np.outer(cc.reshape(-1), theta)], -1)
    ang = ang.astype(np.float32)
    return np.stack([np.cos(ang), np.sin(ang)], -1).reshape(h * w, -1).astype(np.float32)


def apply_rope(x, table):
    """x [b, l, h, d]; table [b or 1, l, d] with interleaved (cos, sin); pairs (x0, x1) rotated."""
    x32 = x.astype(jnp.float32).reshape(*x.shape[:-1], -1, 2)
    t = table.astype(jnp.float32).reshape(table.shape[0], table.shape[1], 1, -1, 2)
    cos, sin = t[..., 0], t[..., 1]
    out = jnp.stack([x32[..., 0] * cos - x32[..., 1] * sin, x32[..., 1] * cos + x32[..., 0] * sin], -1)
    return out.reshape(x.shape).astype(x.dtype)


def mask_bias(mask):
    """0/1 mask [b, q, k] -> additive float32 bias [b, 1, q, k]."""
    return jnp.where(mask[:, None] > 0, 0.0, NEG_INF).astype(jnp.float32)


def project_qkv(p: dict, prefix: str, xq, xkv, num_heads: int, qk_norm: bool, q_rope, k_rope):
    """Queries, keys, values split into heads, qk-normed and rotated as the port does."""
    b, lq, e = xq.shape
    d = e // num_heads
    q = linear(xq, p[prefix + "query.weight"]).reshape(b, lq, num_heads, d)
    k = linear(xkv, p[prefix + "key.weight"]).reshape(b, xkv.shape[1], num_heads, d)
    v = linear(xkv, p[prefix + "value.weight"]).reshape(b, xkv.shape[1], num_heads, d)
    if qk_norm:
        q = uio_norm(q, p[prefix + "query_norm.scale"])
        k = uio_norm(k, p[prefix + "key_norm.scale"])
    if q_rope is not None:
        q = apply_rope(q, q_rope)
    if k_rope is not None:
        k = apply_rope(k, k_rope)
    return q, k, v


def attend(p: dict, prefix: str, q, k, v, bias):
    """float32 logits of q/sqrt(d) . k, + bias, softmax, weighted values, ``out`` projection."""
    dtype = q.dtype
    q32 = q.astype(jnp.float32) / np.float32(math.sqrt(q.shape[-1]))
    logits = batched_matmul(q32.transpose(0, 2, 1, 3), k.astype(jnp.float32).transpose(0, 2, 3, 1))
    if bias is not None:
        logits = logits + bias
    w = softmax(logits).astype(dtype)
    out = batched_matmul(w, v.transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3)
    return linear(out.reshape(*out.shape[:2], -1), p[prefix + "out.weight"])


def mlp(p: dict, prefix: str, x, names: list[str], activations: list[str]):
    """``wo(act_0(wi_0 x) * act_1(wi_1 x) ...)``; the release uses (silu, linear)."""
    h = None
    for name, act in zip(names, activations):
        y = linear(x, p[f"{prefix}mlp.{name}.weight"])
        y = {"silu": jax.nn.silu, "linear": lambda t: t, "gelu": lambda t: jax.nn.gelu(t, approximate=False),
             "relu": jax.nn.relu}[act](y)
        h = y if h is None else h * y
    return linear(h, p[prefix + "mlp.wo.weight"])
