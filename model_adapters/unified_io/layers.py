"""Transformer building blocks as pure functions of a params dict (jax).

All matmuls use ``Precision.HIGHEST`` (float32 on GPU means no TF32) and accumulate in
float32; with bf16 weights the activations are cast to bf16 at the matmul only, while norms,
softmax and residuals stay in float32.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

HIGHEST = lax.Precision.HIGHEST
MASK_VALUE = -1e10  # the reference's attention-mask bias and logit-mask value, exactly
RMS_EPS = 1e-6


def einsum(spec: str, x: jax.Array, w: jax.Array) -> jax.Array:
    """``jnp.einsum`` in the weight's dtype with float32 accumulation, full precision."""
    return jnp.einsum(
        spec, x.astype(w.dtype), w, precision=HIGHEST, preferred_element_type=jnp.float32
    )


def dense(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """Bias-free dense layer: ``[..., in] @ [in, out] -> [..., out]`` float32."""
    return einsum("...i,io->...o", x, kernel)


def rms_norm(x: jax.Array, scale: jax.Array) -> jax.Array:
    """T5 LayerNorm: ``x * rsqrt(mean(x^2) + 1e-6) * scale``; no mean, no bias."""
    x = x.astype(jnp.float32)
    var = jnp.mean(jnp.square(x), axis=-1, keepdims=True)
    return x * lax.rsqrt(var + RMS_EPS) * scale.astype(jnp.float32)


def gated_gelu_mlp(x: jax.Array, p: dict) -> jax.Array:
    """``wo(gelu(wi_0 x) * wi_1 x)`` with flax's default tanh-approximated GELU. With ``p["wi"]``
    (wi_0 | wi_1 side by side, see ``decoder.fuse_step_kernels``) both are one dot."""
    if "wi" in p:
        gate, linear = jnp.split(dense(x, p["wi"]), 2, axis=-1)
    else:
        gate, linear = dense(x, p["wi_0"]["kernel"]), dense(x, p["wi_1"]["kernel"])
    return dense(jax.nn.gelu(gate, approximate=True) * linear, p["wo"]["kernel"])


def split_heads(x: jax.Array, num_heads: int) -> jax.Array:
    """``[B, L, H*Dh] -> [B, L, H, Dh]``; head h owns columns ``h*Dh .. h*Dh+Dh-1``."""
    return x.reshape(*x.shape[:-1], num_heads, x.shape[-1] // num_heads)


def project_qkv(x: jax.Array, p: dict, names: tuple[str, ...], num_heads: int) -> list[jax.Array]:
    """Bias-free projections of ``x`` [B, L, D] to [B, L, H, Dh] for each named kernel."""
    return [split_heads(dense(x, p[n]["kernel"]), num_heads) for n in names]


def attend(q: jax.Array, k: jax.Array, v: jax.Array, bias: jax.Array,
           keys_last: bool = False) -> jax.Array:
    """Scaled-free dot-product attention (T5 folds 1/sqrt(Dh) into the init).

    Args:
        q: [B, Q, H, Dh]; k, v: [B, K, H, Dh], or [B, H, Dh, K] with ``keys_last`` (t5x's
            cache layout, the one XLA's CPU dots read them in: [B, K, H, Dh] is transposed
            on every call; the dots are the same, so are the bits).
        bias: broadcastable to [B, H, Q, K]; -1e10 where a pair is not allowed. Adding it in
            float32 makes a fully masked row exactly -1e10 everywhere, i.e. uniform attention,
            as in the reference.

    Returns:
        [B, Q, H*Dh] float32.
    """
    keys = "bhdk" if keys_last else "bkhd"
    logits = jnp.einsum(f"bqhd,{keys}->bhqk", q, k, precision=HIGHEST,
                        preferred_element_type=jnp.float32)
    weights = jax.nn.softmax(logits + bias, axis=-1)
    out = jnp.einsum(f"bhqk,{keys}->bqhd", weights.astype(v.dtype), v, precision=HIGHEST,
                     preferred_element_type=jnp.float32)
    return out.reshape(*out.shape[:2], -1)


def attend_transposed(q: jax.Array, k: jax.Array, v: jax.Array, bias: jax.Array) -> jax.Array:
    """``attend`` on keys/values held as [B, H, Dh, K]."""
    return attend(q, k, v, bias, keys_last=True)


def attend_rows(q: jax.Array, k: jax.Array, v: jax.Array, bias: jax.Array) -> jax.Array:
    """``attend`` on keys/values held as [B*H, Dh, K] (batch and heads merged), bias
    [B, H, Q, K]. For a cache updated in place inside a loop: with a separate batch axis
    XLA's CPU backend fuses the update into the (reshaped) dot operand too and copies every
    cache on every step. The same dots as ``attend``, so the same bits (tested)."""
    b, length, h, d = q.shape
    rows = q.transpose(0, 2, 1, 3).reshape(b * h, length, d)
    logits = jnp.einsum("nqd,ndk->nqk", rows, k, precision=HIGHEST,
                        preferred_element_type=jnp.float32)
    weights = jax.nn.softmax(logits + bias.reshape(b * h, *bias.shape[2:]), axis=-1)
    out = jnp.einsum("nqk,ndk->nqd", weights.astype(v.dtype), v, precision=HIGHEST,
                     preferred_element_type=jnp.float32)
    return out.reshape(b, h, length, d).transpose(0, 2, 1, 3).reshape(b, length, h * d)


def mask_bias(query_mask: jax.Array, key_mask: jax.Array) -> jax.Array:
    """[B, Q] x [B, K] validity -> [B, 1, Q, K] additive bias (0 or -1e10)."""
    allowed = (query_mask[:, :, None] > 0) & (key_mask[:, None, :] > 0)
    return jnp.where(allowed, 0.0, MASK_VALUE).astype(jnp.float32)[:, None]


def absolute_position_bias(pe: jax.Array, q_kernel: jax.Array, k_kernel: jax.Array,
                           num_heads: int, emb_dim: int) -> jax.Array:
    """``(PE Wq)(PE Wk)^T * (emb_dim/num_heads)^-0.5`` per head: [L, D] -> [H, L, L].

    The reference scales by emb_dim/num_heads, NOT head_dim (85.3 vs 64 for small); kept.
    """
    pq = split_heads(dense(pe, q_kernel), num_heads)
    pk = split_heads(dense(pe, k_kernel), num_heads)
    scale = jnp.float32(float(emb_dim / num_heads) ** -0.5)
    return jnp.einsum("qhd,khd->hqk", pq, pk, precision=HIGHEST) * scale
