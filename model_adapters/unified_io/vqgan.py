"""VQ-GAN image tokenizer/detokenizer (UNIFIED_IO.md section 4), NHWC, pure jax functions."""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from model_adapters.unified_io.config import VQGANConfig
from model_adapters.unified_io.layers import HIGHEST
from model_adapters.unified_io.param_tree import vqgan_decoder_levels, vqgan_encoder_levels

GROUPS = 32
GN_EPS = 1e-6


def conv(x: jax.Array, p: dict, stride: int = 1) -> jax.Array:
    """Conv with bias, HWIO kernel, 'SAME' padding (stride 2 pads 0 before / 1 after, as
    taming's (0,1,0,1) pad): [B, H, W, Cin] -> [B, H/stride, W/stride, Cout] float32."""
    w = p["kernel"]
    y = lax.conv_general_dilated(
        x.astype(w.dtype), w, (stride, stride), "SAME",
        dimension_numbers=("NHWC", "HWIO", "NHWC"), precision=HIGHEST,
        preferred_element_type=jnp.float32)
    return y + p["bias"].astype(jnp.float32)


def group_norm(x: jax.Array, p: dict) -> jax.Array:
    """32-group GroupNorm as flax: stats over H, W and the group's channels,
    var = E[x^2] - E[x]^2 clipped at 0, eps 1e-6, per-channel scale and bias."""
    b, h, w, c = x.shape
    g = x.reshape(b, h, w, GROUPS, c // GROUPS)
    mean = jnp.mean(g, axis=(1, 2, 4), keepdims=True)
    mean_sq = jnp.mean(jnp.square(g), axis=(1, 2, 4), keepdims=True)
    var = jnp.maximum(mean_sq - jnp.square(mean), 0.0)
    g = (g - mean) * lax.rsqrt(var + GN_EPS)
    return g.reshape(b, h, w, c) * p["scale"].astype(jnp.float32) + p["bias"].astype(jnp.float32)


def swish(x: jax.Array) -> jax.Array:
    return x * jax.nn.sigmoid(x)


def resblock(x: jax.Array, p: dict) -> jax.Array:
    h = conv(swish(group_norm(x, p["norm1"])), p["conv1"])
    h = conv(swish(group_norm(h, p["norm2"])), p["conv2"])
    if "nin_shortcut" in p:
        x = conv(x, p["nin_shortcut"])
    return x + h


def attnblock(x: jax.Array, p: dict) -> jax.Array:
    """Single-head self-attention over the H*W positions, scale C^-0.5, residual."""
    b, h, w, c = x.shape
    n = group_norm(x, p["norm"])
    q, k, v = (conv(n, p[name]).reshape(b, h * w, c) for name in ("q", "k", "v"))
    att = jnp.einsum("bic,bjc->bij", q, k, precision=HIGHEST) * jnp.float32(c ** -0.5)
    att = jax.nn.softmax(att, axis=-1)
    out = jnp.einsum("bij,bjc->bic", att, v, precision=HIGHEST).reshape(b, h, w, c)
    return x + conv(out, p["proj_out"])


def _mid(x: jax.Array, p: dict) -> jax.Array:
    x = resblock(x, p["mid_block_1"])
    x = attnblock(x, p["mid_attn_1"])
    return resblock(x, p["mid_block_2"])


def decode_codes(params: dict, config: VQGANConfig, codes: jax.Array) -> jax.Array:
    """Codes [B, G*G] (0..n_embed-1, raster order, G = 16) -> raw image [B, 256, 256, 3]
    (about [-1, 1], not clipped)."""
    vae = params["discrete_vae"]
    g = config.code_grid
    z = jnp.take(vae["quantize"]["embedding"], codes, axis=0).astype(jnp.float32)
    z = z.reshape(codes.shape[0], g, g, config.embed_dim)
    z = conv(z, vae["post_quant_conv"])
    p = vae["decoder"]
    x = _mid(conv(z, p["conv_in"]), p)
    for k, (_, _, _, attn) in enumerate(vqgan_decoder_levels(config)):
        for b in range(config.num_res_blocks + 1):
            x = resblock(x, p[f"up_{k}_block_{b}"])
            if attn:
                x = attnblock(x, p[f"up_{k}_attn_{b}"])
        if k != config.num_levels - 1:
            x = jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)  # nearest x2
            x = conv(x, p[f"up_{k}_upsample"]["conv"])
    x = swish(group_norm(x, p["norm_out"]))
    return conv(x, p["conv_out"])


def encode_prequant(params: dict, config: VQGANConfig, images: jax.Array) -> jax.Array:
    """Images [B, 256, 256, 3] in [-1, 1] -> ``quant_conv`` output [B, G, G, embed_dim]."""
    vae = params["discrete_vae"]
    p = vae["encoder"]
    x = conv(images.astype(jnp.float32), p["conv_in"])
    for i, (_, _, _, attn) in enumerate(vqgan_encoder_levels(config)):
        for b in range(config.num_res_blocks):
            x = resblock(x, p[f"down_{i}_block_{b}"])
            if attn:
                x = attnblock(x, p[f"down_{i}_attn_{b}"])
        if i != config.num_levels - 1:
            x = conv(x, p[f"down_{i}_downsample"]["conv"], stride=2)
    x = _mid(x, p)
    x = conv(swish(group_norm(x, p["norm_out"])), p["conv_out"])
    return conv(x, vae["quant_conv"])


def nearest_codes(params: dict, z: jax.Array) -> jax.Array:
    """[B, G, G, E] -> [B, G*G] int32: argmin over codes of |z|^2 + |e|^2 - 2 z.e
    (the reference's expansion; first index on ties)."""
    e = params["discrete_vae"]["quantize"]["embedding"].astype(jnp.float32)
    zf = z.reshape(z.shape[0], -1, z.shape[-1])
    d = (jnp.sum(zf ** 2, -1, keepdims=True) + jnp.sum(e ** 2, -1)[None, None]
         - 2.0 * jnp.einsum("bnd,kd->bnk", zf, e, precision=HIGHEST))
    return jnp.argmin(d, axis=-1).astype(jnp.int32)
