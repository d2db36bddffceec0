"""The image input embedder: CLIP-style ViT over 16x16 patches, then a projection to the
transformer width (port ``image_embedder.py`` + ``input_modalities.ViTImageEmbedder``).

The ViT's positional grid (``num_pos - 1`` entries, square) is resized to the patch grid with
torch's antialiased bicubic interpolation (Keys a = -0.5, align_corners False, weights normalised
per output pixel) when the sizes differ; we compute that resize once, in numpy, at load time.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from model_adapters.unified_io_2.config import VIT, UIO2Config
from model_adapters.unified_io_2.layers import NEG_INF, batched_matmul, layer_norm, linear, softmax


def _cubic_aa(x: np.ndarray) -> np.ndarray:
    a = -0.5
    x = np.abs(x)
    return np.where(x < 1.0, ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0,
                    np.where(x < 2.0, (((x - 5.0) * x + 8.0) * x - 4.0) * a, 0.0))


def _bicubic_aa_weights(in_size: int, out_size: int) -> np.ndarray:
    """[out, in] weights of torch ``interpolate(mode='bicubic', antialias=True)`` on one axis."""
    scale = in_size / out_size
    support = 2.0 * scale if scale >= 1.0 else 2.0
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    w = np.zeros((out_size, in_size), np.float64)
    for i in range(out_size):
        center = scale * (i + 0.5)
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size)
        k = _cubic_aa((np.arange(xmin, xmax) - center + 0.5) * invscale)
        total = k.sum()
        w[i, xmin:xmax] = k / total if total != 0 else k
    return w


def resized_positional_embedding(pos: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """[num_pos, C] table -> [1 + gh*gw, C]: class row, then the grid resized if needed."""
    n = int(math.isqrt(pos.shape[0] - 1))
    table = np.asarray(pos[1:], np.float32).reshape(n, n, -1)
    if (n, n) != tuple(grid):
        wh, ww = _bicubic_aa_weights(n, grid[0]), _bicubic_aa_weights(n, grid[1])
        table = np.einsum("ow,hwc->hoc", ww, table.astype(np.float64))
        table = np.einsum("oh,hwc->owc", wh, table).astype(np.float32)
    return np.concatenate([np.asarray(pos[:1], np.float32), table.reshape(grid[0] * grid[1], -1)], 0)


def _vit_attention(p: dict, b: str, x, bias, num_heads: int):
    bs, n, e = x.shape
    d = e // num_heads
    heads = []
    for name in ("query", "key", "value"):
        y = linear(x, p[f"{b}attn.{name}_in_proj_weight"], p[f"{b}attn.{name}_in_proj_bias"])
        heads.append(y.reshape(bs, n, num_heads, d))
    q, k, v = heads
    q = q * np.float32(d ** -0.5)  # scaled before the product, logits in the input dtype
    logits = batched_matmul(q.transpose(0, 2, 1, 3), k.transpose(0, 2, 3, 1)) + bias.astype(q.dtype)
    w = softmax(logits).astype(x.dtype)
    out = batched_matmul(w, v.transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3).reshape(bs, n, e)
    return linear(out, p[b + "attn.out_proj.weight"], p[b + "attn.out_proj.bias"])


def vit_features(p: dict, cfg: UIO2Config, patches, mask, pos_ids, pos_table):
    """Last block's and second block's outputs (class token dropped), concatenated."""
    bs = patches.shape[0]
    x = linear(patches, p[VIT + "embedding.weight"])
    cls = jnp.broadcast_to(p[VIT + "class_embedding"].astype(x.dtype), (bs, 1, x.shape[-1]))
    x = jnp.concatenate([cls, x], 1)
    full_mask = jnp.concatenate([jnp.ones((bs, 1), mask.dtype), mask], 1)
    pe = jnp.concatenate([jnp.broadcast_to(pos_table[0], (bs, 1, x.shape[-1])),
                          jnp.take(pos_table[1:], pos_ids, axis=0)], 1)
    x = x + pe.astype(x.dtype)
    x = layer_norm(x, p[VIT + "pre_ln.weight"], p[VIT + "pre_ln.bias"])
    bias = jnp.where((full_mask[:, :, None] * full_mask[:, None, :])[:, None] > 0, 0.0, NEG_INF)
    second = None
    heads = int(cfg.vit["num_heads"])
    for i in range(int(cfg.vit["num_layers"])):
        b = f"{VIT}transformer.resblocks.{i}."
        x = x + _vit_attention(p, b, layer_norm(x, p[b + "ln_1.weight"], p[b + "ln_1.bias"]), bias, heads)
        h = layer_norm(x, p[b + "ln_2.weight"], p[b + "ln_2.bias"])
        h = linear(jax.nn.gelu(linear(h, p[b + "mlp.fc1.weight"], p[b + "mlp.fc1.bias"]), approximate=False),
                   p[b + "mlp.fc2.weight"], p[b + "mlp.fc2.bias"])
        x = x + h
        if i == 1:
            second = x
    return jnp.concatenate([x[:, 1:], second[:, 1:]], -1)


def embed_image(p: dict, cfg: UIO2Config, patches, mask, pos_ids, pos_table):
    feats = vit_features(p, cfg, patches, mask, pos_ids, pos_table)
    x = linear(feats, p["input_embedders.image.projection.weight"])
    return x + p["input_embedders.image.modality_embedding"].astype(x.dtype)
