"""The released checkpoint's parameter tree, derived from a config (jax-free).

Paths are ``/``-joined keys of the nested param dict (no ``params/`` prefix), e.g.
``encoder/layers_0/attention/query/kernel``. Dense kernels are the flattened 2-D T5X
layout (UNIFIED_IO.md section 5).
"""
from __future__ import annotations

from typing import Iterator

from model_adapters.unified_io.config import UnifiedIOConfig, VQGANConfig

Shape = tuple[int, ...]


def parameter_shapes(config: UnifiedIOConfig) -> dict[str, Shape]:
    """Every parameter path of the checkpoint and its shape, sorted by path."""
    shapes = dict(_transformer_shapes(config))
    shapes.update(_vqgan_shapes(config.vqgan))
    return dict(sorted(shapes.items()))


def _transformer_shapes(c: UnifiedIOConfig) -> Iterator[tuple[str, Shape]]:
    d, inner, mlp, h = c.emb_dim, c.inner_dim, c.mlp_dim, c.num_heads
    yield "token_embedder/embedding", (c.total_vocab, d)
    enc_rows = c.encoder_max_text_length + c.encoder_max_image_length
    yield "encoder/image_projection/kernel", (c.patch_dim, d)
    yield "encoder/position_embedding/embedding", (enc_rows, d)
    yield "encoder/segment_embedding/embedding", (c.num_seg_emb, d)
    for name in ("txt_emb_pre_ln", "img_emb_pre_ln", "pe_pre_ln", "encoder_norm"):
        yield f"encoder/{name}/scale", (d,)
    for name in ("position_q_linear", "position_k_linear"):
        yield f"encoder/{name}/kernel", (d, inner)
    yield from _relpos_shapes("encoder", h)
    for i in range(c.num_encoder_layers):
        p = f"encoder/layers_{i}"
        for norm in ("pre_attention_layer_norm", "pre_mlp_layer_norm"):
            yield f"{p}/{norm}/scale", (d,)
        yield from _attention_shapes(f"{p}/attention", d, inner)
        yield from _mlp_shapes(f"{p}/mlp", d, mlp)
    dec_rows = c.decoder_max_text_length + c.decoder_max_image_length
    yield "decoder/position_embedding/embedding", (dec_rows, d)
    yield "decoder/segments_embedding/embedding", (c.num_seg_emb, d)
    for name in ("pre_ln", "pe_pre_ln", "decoder_norm"):
        yield f"decoder/{name}/scale", (d,)
    for name in ("self", "cross"):
        for qk in ("q", "k"):
            yield f"decoder/{name}_position_{qk}_linear/kernel", (d, inner)
    yield from _relpos_shapes("decoder", h)
    for i in range(c.num_decoder_layers):
        p = f"decoder/layers_{i}"
        for norm in ("pre_self_attention_layer_norm", "pre_cross_attention_layer_norm",
                     "pre_mlp_layer_norm"):
            yield f"{p}/{norm}/scale", (d,)
        yield from _attention_shapes(f"{p}/self_attention", d, inner)
        yield from _attention_shapes(f"{p}/encoder_decoder_attention", d, inner)
        yield from _mlp_shapes(f"{p}/mlp", d, mlp)


def _relpos_shapes(prefix: str, heads: int) -> Iterator[tuple[str, Shape]]:
    # Bucket counts are hard-coded in the reference (32 text, 4 quadrants x 8 x 8 image).
    yield f"{prefix}/relpos_bias/rel_embedding", (heads, 32)
    yield f"{prefix}/relpos_bias/image_rel_embedding", (heads, 256)


def _attention_shapes(prefix: str, d: int, inner: int) -> Iterator[tuple[str, Shape]]:
    for name in ("query", "key", "value"):
        yield f"{prefix}/{name}/kernel", (d, inner)
    yield f"{prefix}/out/kernel", (inner, d)


def _mlp_shapes(prefix: str, d: int, mlp: int) -> Iterator[tuple[str, Shape]]:
    yield f"{prefix}/wi_0/kernel", (d, mlp)
    yield f"{prefix}/wi_1/kernel", (d, mlp)
    yield f"{prefix}/wo/kernel", (mlp, d)


def _conv(prefix: str, k: int, cin: int, cout: int) -> Iterator[tuple[str, Shape]]:
    yield f"{prefix}/kernel", (k, k, cin, cout)
    yield f"{prefix}/bias", (cout,)


def _group_norm(prefix: str, ch: int) -> Iterator[tuple[str, Shape]]:
    yield f"{prefix}/scale", (ch,)
    yield f"{prefix}/bias", (ch,)


def _resblock(prefix: str, cin: int, cout: int) -> Iterator[tuple[str, Shape]]:
    yield from _group_norm(f"{prefix}/norm1", cin)
    yield from _conv(f"{prefix}/conv1", 3, cin, cout)
    yield from _group_norm(f"{prefix}/norm2", cout)
    yield from _conv(f"{prefix}/conv2", 3, cout, cout)
    if cin != cout:
        yield from _conv(f"{prefix}/nin_shortcut", 1, cin, cout)


def _attnblock(prefix: str, ch: int) -> Iterator[tuple[str, Shape]]:
    yield from _group_norm(f"{prefix}/norm", ch)
    for name in ("q", "k", "v", "proj_out"):
        yield from _conv(f"{prefix}/{name}", 1, ch, ch)


def vqgan_encoder_levels(v: VQGANConfig) -> list[tuple[int, int, int, bool]]:
    """Per encoder level ``down_i``: (in channels, out channels, resolution, has attention)."""
    levels, res = [], v.resolution
    in_mult = (1,) + tuple(v.ch_mult)
    for i, mult in enumerate(v.ch_mult):
        levels.append((v.ch * in_mult[i], v.ch * mult, res, res in v.attn_resolutions))
        res //= 2
    return levels


def vqgan_decoder_levels(v: VQGANConfig) -> list[tuple[int, int, int, bool]]:
    """Per decoder level ``up_k`` (lowest resolution first; ``up_k`` is taming's
    ``up[n-1-k]``): (in channels, out channels, resolution, has attention)."""
    levels, res = [], v.code_grid
    block_in = v.ch * v.ch_mult[-1]
    for k in range(v.num_levels):
        block_out = v.ch * v.ch_mult[v.num_levels - 1 - k]
        levels.append((block_in, block_out, res, res in v.attn_resolutions))
        block_in = block_out
        res *= 2
    return levels


def _vqgan_shapes(v: VQGANConfig) -> Iterator[tuple[str, Shape]]:
    mid = v.ch * v.ch_mult[-1]
    yield "discrete_vae/quantize/embedding", (v.n_embed, v.embed_dim)
    yield from _conv("discrete_vae/quant_conv", 1, v.z_channels, v.embed_dim)
    yield from _conv("discrete_vae/post_quant_conv", 1, v.embed_dim, v.z_channels)
    e = "discrete_vae/encoder"
    yield from _conv(f"{e}/conv_in", 3, v.in_channels, v.ch)
    for i, (cin, cout, _, attn) in enumerate(vqgan_encoder_levels(v)):
        for b in range(v.num_res_blocks):
            yield from _resblock(f"{e}/down_{i}_block_{b}", cin if b == 0 else cout, cout)
            if attn:
                yield from _attnblock(f"{e}/down_{i}_attn_{b}", cout)
        if i != v.num_levels - 1:
            yield from _conv(f"{e}/down_{i}_downsample/conv", 3, cout, cout)
    yield from _mid_shapes(e, mid)
    yield from _group_norm(f"{e}/norm_out", mid)
    z_out = 2 * v.z_channels if v.double_z else v.z_channels
    yield from _conv(f"{e}/conv_out", 3, mid, z_out)
    dd = "discrete_vae/decoder"
    yield from _conv(f"{dd}/conv_in", 3, v.z_channels, mid)
    yield from _mid_shapes(dd, mid)
    for k, (cin, cout, _, attn) in enumerate(vqgan_decoder_levels(v)):
        for b in range(v.num_res_blocks + 1):
            yield from _resblock(f"{dd}/up_{k}_block_{b}", cin if b == 0 else cout, cout)
            if attn:
                yield from _attnblock(f"{dd}/up_{k}_attn_{b}", cout)
        if k != v.num_levels - 1:
            yield from _conv(f"{dd}/up_{k}_upsample/conv", 3, cout, cout)
    yield from _group_norm(f"{dd}/norm_out", v.ch * v.ch_mult[0])
    yield from _conv(f"{dd}/conv_out", 3, v.ch * v.ch_mult[0], v.out_ch)


def _mid_shapes(prefix: str, ch: int) -> Iterator[tuple[str, Shape]]:
    yield from _resblock(f"{prefix}/mid_block_1", ch, ch)
    yield from _attnblock(f"{prefix}/mid_attn_1", ch)
    yield from _resblock(f"{prefix}/mid_block_2", ch, ch)
