"""The image VQGAN (port ``uio2/image_vqgan.py``), NCHW as in torch, in JAX.

Decoding 32x32 codes to a 256x256 image in [-1, 1]; encoding (for teacher-forced image targets)
to codes by argmin of |z|^2 + |e|^2 - 2 z.e. GroupNorm has 32 groups, eps 1e-6; all convs
have biases; down-sampling pads right/bottom by one and uses an unpadded stride-2 conv;
up-sampling is nearest x2 then a 3x3 conv.

The attention's weighted sum over the h*w keys is accumulated in panels of ``KEY_PANEL`` keys.
On a near-uniform image (a random model's greedy output: almost every code equal) the values
are large and nearly equal, so the rounding of a long sequential float32 sum is systematic and
shows in the pixels. XLA's CPU dot sums the 1,024 keys in two 512-long runs (a 512 panel
reproduces its output bit for bit) and drifted 1.8e-4 from the port. The port's BLAS GEMM
presumably sums in shorter k-panels (inferred from the error's size and direction, not confirmed
against torch, which is not installed here); 256-key panels bring the difference to 6e-5, and
every panel from 32 to 256 keys passes the public kit (README, Unified-IO 2).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from model_adapters.unified_io_2.config import VQGAN, UIO2Config


def conv(p: dict, name: str, x, stride: int = 1, padding="SAME"):
    w = p[name + ".weight"].astype(x.dtype)
    k = w.shape[-1]
    pad = [(k // 2, k // 2)] * 2 if padding == "SAME" else padding
    y = jax.lax.conv_general_dilated(x, w, (stride, stride), pad,
                                     dimension_numbers=("NCHW", "OIHW", "NCHW"))
    return y + p[name + ".bias"].astype(x.dtype)[None, :, None, None]


def group_norm(p: dict, name: str, x, groups: int = 32, eps: float = 1e-6):
    b, c, h, w = x.shape
    g = x.reshape(b, groups, c // groups, h, w)
    mu = jnp.mean(g, axis=(2, 3, 4), keepdims=True)
    var = jnp.mean(jnp.square(g - mu), axis=(2, 3, 4), keepdims=True)
    g = ((g - mu) * jax.lax.rsqrt(var + eps)).reshape(b, c, h, w)
    return g * p[name + ".weight"][None, :, None, None] + p[name + ".bias"][None, :, None, None]


def resblock(p: dict, name: str, x):
    h = conv(p, name + ".conv1", jax.nn.silu(group_norm(p, name + ".norm1", x)))
    h = conv(p, name + ".conv2", jax.nn.silu(group_norm(p, name + ".norm2", h)))
    if name + ".nin_shortcut.weight" in p:
        x = conv(p, name + ".nin_shortcut", x)
    return x + h


KEY_PANEL = 256


def attend_values(att, v):
    """att [b, q, k], v [b, c, k] -> [b, c, q], summed over k one panel at a time."""
    out = None
    for s in range(0, att.shape[-1], KEY_PANEL):
        part = jnp.einsum("bqk,bck->bcq", att[..., s:s + KEY_PANEL], v[..., s:s + KEY_PANEL])
        out = part if out is None else out + part
    return out


def attnblock(p: dict, name: str, x):
    b, c, h, w = x.shape
    z = group_norm(p, name + ".norm", x)
    q, k, v = (conv(p, f"{name}.{n}", z).reshape(b, c, h * w) for n in ("q", "k", "v"))
    att = jax.nn.softmax(jnp.einsum("bcq,bck->bqk", q, k) * (c ** -0.5), axis=-1)
    out = attend_values(att, v).reshape(b, c, h, w)
    return x + conv(p, name + ".proj_out", out)


def decode_codes(p: dict, cfg: UIO2Config, codes):
    """codes [b, n] (row-major square grid) -> images [b, 3, H, W] in about [-1, 1]."""
    b, n = codes.shape
    side = int(round(n ** 0.5))
    z = jnp.take(p[VQGAN + "quantize.embedding.weight"], codes, axis=0)
    z = z.reshape(b, side, side, -1).transpose(0, 3, 1, 2)
    z = conv(p, VQGAN + "post_quant_conv", z)
    d = VQGAN + "decoder."
    h = conv(p, d + "conv_in", z)
    h = resblock(p, d + "mid_block_1", h)
    h = attnblock(p, d + "mid_attn_1", h)
    h = resblock(p, d + "mid_block_2", h)
    levels = cfg.vqgan_levels()
    for k, lv in enumerate(reversed(levels)):
        for j in range(int(cfg.vqgan["num_res_blocks"]) + 1):
            h = resblock(p, f"{d}up_{k}_block_{j}", h)
            if lv["attn"]:
                h = attnblock(p, f"{d}up_{k}_attn_{j}", h)
        if k != len(levels) - 1:
            h = jnp.repeat(jnp.repeat(h, 2, axis=2), 2, axis=3)
            h = conv(p, f"{d}up_{k}_upsample.conv", h)
    h = jax.nn.silu(group_norm(p, d + "norm_out", h))
    return conv(p, d + "conv_out", h)


def encode_codes(p: dict, cfg: UIO2Config, images):
    """images [b, 3, H, W] in [-1, 1] -> codes [b, (H/8)*(W/8)] (row-major)."""
    e = VQGAN + "encoder."
    h = conv(p, e + "conv_in", images)
    levels = cfg.vqgan_levels()
    for i, lv in enumerate(levels):
        for j in range(int(cfg.vqgan["num_res_blocks"])):
            h = resblock(p, f"{e}down_{i}_block_{j}", h)
            if lv["attn"]:
                h = attnblock(p, f"{e}down_{i}_attn_{j}", h)
        if i != len(levels) - 1:
            h = conv(p, f"{e}down_{i}_downsample.conv", h, stride=2, padding=[(0, 1), (0, 1)])
    h = resblock(p, e + "mid_block_1", h)
    h = attnblock(p, e + "mid_attn_1", h)
    h = resblock(p, e + "mid_block_2", h)
    h = conv(p, e + "conv_out", jax.nn.silu(group_norm(p, e + "norm_out", h)))
    h = conv(p, VQGAN + "quant_conv", h)
    z = h.transpose(0, 2, 3, 1).reshape(-1, h.shape[1])
    emb = p[VQGAN + "quantize.embedding.weight"]
    dist = (jnp.sum(z ** 2, axis=1, keepdims=True) + jnp.sum(emb ** 2, axis=1)
            - 2 * jnp.einsum("bd,nd->bn", z, emb))
    return jnp.argmin(dist, axis=1).reshape(h.shape[0], -1).astype(jnp.int32)


def codes_to_image(p: dict, cfg: UIO2Config, codes):
    """The port's generate() mapping: clip(codes), decode, (x+1)/2 clipped to [0, 1], NHWC."""
    codes = jnp.clip(codes, 0, int(cfg.vqgan["n_embed"]) - 1)
    img = decode_codes(p, cfg, codes)
    return jnp.clip((img + 1) / 2, 0, 1).transpose(0, 2, 3, 1)
