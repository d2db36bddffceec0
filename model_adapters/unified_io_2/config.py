"""The parts of a Unified-IO 2 ``config.json`` the computation reads, and the parameter shapes
they imply.

Every width, layer count, interval and image size comes from the file: a hidden kit uses other
values. ``param_shapes`` lists the tensors we compute with; ``IGNORED_PREFIXES`` the ones the
release carries for audio and history inputs, which load but are not used (GRIT needs neither).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

# Modules that hold parameters for modalities GRIT does not use; they are loaded, checked to be
# under a known prefix, and listed as ignored.
IGNORED_PREFIXES = (
    "audio_token_embedder.",
    "input_embedders.image_history.",
    "input_embedders.audio.",
    "input_embedders.audio_history.",
    "target_embedders.audio.",
)
VIT = "input_embedders.image.image_encoder.vision_transformer."
VQGAN = "target_embedders.image.vqgan."


class ConfigFileError(ValueError):
    """config.json is missing, not JSON, or lacks a field the model needs."""


@dataclass(frozen=True)
class UIO2Config:
    raw: Mapping[str, Any]

    @property
    def t5(self) -> Mapping[str, Any]:
        return self.raw["t5_config"]

    @property
    def vit(self) -> Mapping[str, Any]:
        return self.raw["image_vit_cfg"]

    @property
    def vqgan(self) -> Mapping[str, Any]:
        return self.raw["image_vqgan"]

    @property
    def emb_dim(self) -> int:
        return int(self.t5["emb_dim"])

    @property
    def num_heads(self) -> int:
        return int(self.t5["num_heads"])

    @property
    def head_dim(self) -> int:
        return int(self.t5["head_dim"])

    def has_cross_attention(self, layer: int) -> bool:
        n = int(self.t5["num_decoder_layers"])
        return layer % int(self.t5["decoder_xattention_internval"]) == 0 or layer == n - 1

    @property
    def vit_patch_grid(self) -> tuple[int, int]:
        """Patch grid the ViT positional embedding is resized to (default_image_vit_size / patch)."""
        size, p = self.t5["default_image_vit_size"], int(self.t5["image_vit_patch_size"])
        return int(size[0]) // p, int(size[1]) // p

    @property
    def target_grid(self) -> tuple[int, int]:
        size, p = self.vqgan["default_input_size"], self.vqgan["patch_size"]
        return int(size[0]) // int(p[0]), int(size[1]) // int(p[1])

    @property
    def mlp_names(self) -> list[str]:
        acts = self.t5["mlp_activations"]
        return ["wi"] if len(acts) == 1 else [f"wi_{i}" for i in range(len(acts))]

    def vqgan_levels(self) -> list[dict[str, Any]]:
        """Per resolution level (0 = full size): channels in/out and whether it has attention."""
        c = self.vqgan
        ch, mult = int(c["ch"]), [int(m) for m in c["ch_mult"]]
        res, levels, cin = int(c["resolution"]), [], ch
        for i, m in enumerate(mult):
            levels.append({"in": cin, "out": ch * m, "attn": res in c["attn_resolutions"]})
            cin, res = ch * m, res // 2
        return levels


def load_config(folder: str | Path) -> UIO2Config:
    path = Path(folder) / "config.json"
    if not path.is_file():
        raise ConfigFileError(f"{path}: no config.json in the checkpoint folder")
    try:
        raw = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigFileError(f"{path}: not a JSON config ({e})") from None
    return config_from_dict(raw, str(path))


def config_from_dict(raw: Any, source: str = "config") -> UIO2Config:
    need = {"t5_config": ("emb_dim", "num_heads", "head_dim", "mlp_dim", "num_encoder_layers",
                          "num_decoder_layers", "vocab_size", "image_vocab_size",
                          "decoder_xattention_internval", "qk_norm", "mlp_activations"),
            "image_vit_cfg": ("emb_dim", "num_heads", "head_dim", "mlp_dim", "num_layers",
                              "num_pos", "patch_size"),
            "image_vqgan": ("embed_dim", "n_embed", "z_channels", "ch", "ch_mult",
                            "num_res_blocks", "attn_resolutions", "resolution", "out_ch")}
    if not isinstance(raw, dict):
        raise ConfigFileError(f"{source}: not a Unified-IO 2 config (top level is not an object)")
    for section, keys in need.items():
        if not isinstance(raw.get(section), dict):
            raise ConfigFileError(f"{source}: not a Unified-IO 2 config (no {section!r} section)")
        for k in keys:
            if k not in raw[section]:
                raise ConfigFileError(f"{source}: {section}.{k} is missing")
    cfg = UIO2Config(raw)
    if cfg.num_heads * cfg.head_dim != cfg.emb_dim:
        raise ConfigFileError(f"{source}: t5_config num_heads * head_dim != emb_dim")
    return cfg


def _linear(shapes: dict, name: str, n_out: int, n_in: int, bias: bool) -> None:
    shapes[name + ".weight"] = (n_out, n_in)
    if bias:
        shapes[name + ".bias"] = (n_out,)


def _vit_shapes(cfg: UIO2Config, s: dict) -> None:
    v = cfg.vit
    e, m, p = int(v["emb_dim"]), int(v["mlp_dim"]), int(v["patch_size"])
    s[VIT + "embedding.weight"] = (e, p * p * 3)
    s[VIT + "class_embedding"] = (e,)
    s[VIT + "positional_embedding"] = (int(v["num_pos"]), e)
    s[VIT + "pre_ln.weight"] = s[VIT + "pre_ln.bias"] = (e,)
    for i in range(int(v["num_layers"])):
        b = f"{VIT}transformer.resblocks.{i}."
        for ln in ("ln_1", "ln_2"):
            s[b + ln + ".weight"], s[b + ln + ".bias"] = (e,), (e,)
        for q in ("query", "key", "value"):
            s[b + f"attn.{q}_in_proj_weight"], s[b + f"attn.{q}_in_proj_bias"] = (e, e), (e,)
        _linear(s, b + "attn.out_proj", e, e, True)
        _linear(s, b + "mlp.fc1", m, e, True)
        _linear(s, b + "mlp.fc2", e, m, True)
    s["input_embedders.image.projection.weight"] = (cfg.emb_dim, 2 * e)


def _t5_layer(cfg: UIO2Config, s: dict, b: str, attn: str) -> None:
    e, d = cfg.emb_dim, cfg.head_dim
    for w in ("query", "key", "value", "out"):
        s[f"{b}{attn}.{w}.weight"] = (e, e)
    if cfg.t5["qk_norm"]:
        s[f"{b}{attn}.query_norm.scale"] = s[f"{b}{attn}.key_norm.scale"] = (d,)


def _t5_shapes(cfg: UIO2Config, s: dict) -> None:
    e, m = cfg.emb_dim, int(cfg.t5["mlp_dim"])
    mlp = {f"mlp.{n}.weight": (m, e) for n in cfg.mlp_names} | {"mlp.wo.weight": (e, m)}
    for i in range(int(cfg.t5["num_encoder_layers"])):
        b = f"encoder.layers_{i}."
        s[b + "pre_attention_norm.scale"] = s[b + "pre_mlp_norm.scale"] = (e,)
        _t5_layer(cfg, s, b, "attention")
        s.update({b + k: v for k, v in mlp.items()})
    s["encoder.encoder_norm.scale"] = (e,)
    for i in range(int(cfg.t5["num_decoder_layers"])):
        b = f"decoder.layers_{i}."
        s[b + "pre_self_attention_norm.scale"] = s[b + "pre_mlp_norm.scale"] = (e,)
        _t5_layer(cfg, s, b, "self_attention")
        if cfg.has_cross_attention(i):
            s[b + "pre_cross_attention_norm.scale"] = (e,)
            _t5_layer(cfg, s, b, "encoder_decoder_attention")
        s.update({b + k: v for k, v in mlp.items()})
    s["decoder.decoder_norm.scale"] = (e,)


def _conv(s: dict, name: str, n_out: int, n_in: int, k: int) -> None:
    s[name + ".weight"], s[name + ".bias"] = (n_out, n_in, k, k), (n_out,)


def _resblock(s: dict, b: str, n_in: int, n_out: int) -> None:
    s[b + ".norm1.weight"] = s[b + ".norm1.bias"] = (n_in,)
    _conv(s, b + ".conv1", n_out, n_in, 3)
    s[b + ".norm2.weight"] = s[b + ".norm2.bias"] = (n_out,)
    _conv(s, b + ".conv2", n_out, n_out, 3)
    if n_in != n_out:
        _conv(s, b + ".nin_shortcut", n_out, n_in, 1)


def _attnblock(s: dict, b: str, c: int) -> None:
    s[b + ".norm.weight"] = s[b + ".norm.bias"] = (c,)
    for n in ("q", "k", "v", "proj_out"):
        _conv(s, f"{b}.{n}", c, c, 1)


def _level(s: dict, prefix: str, cin: int, cout: int, n_blocks: int, attn: bool) -> int:
    """One resolution level: n ResBlocks (``{prefix}_block_j``), each with an AttnBlock if attn."""
    for j in range(n_blocks):
        _resblock(s, f"{prefix}_block_{j}", cin, cout)
        cin = cout
        if attn:
            _attnblock(s, f"{prefix}_attn_{j}", cin)
    return cin


def _vqgan_shapes(cfg: UIO2Config, s: dict) -> None:
    c, levels = cfg.vqgan, cfg.vqgan_levels()
    nb, z, ed = int(c["num_res_blocks"]), int(c["z_channels"]), int(c["embed_dim"])
    enc, dec = VQGAN + "encoder.", VQGAN + "decoder."
    _conv(s, enc + "conv_in", int(c["ch"]), int(c.get("in_channels", 3)), 3)
    for i, lv in enumerate(levels):
        cin = _level(s, f"{enc}down_{i}", lv["in"], lv["out"], nb, lv["attn"])
        if i != len(levels) - 1:
            _conv(s, f"{enc}down_{i}_downsample.conv", cin, cin, 3)
    top = levels[-1]["out"]
    for p in (enc, dec):
        _resblock(s, p + "mid_block_1", top, top)
        _attnblock(s, p + "mid_attn_1", top)
        _resblock(s, p + "mid_block_2", top, top)
    s[enc + "norm_out.weight"] = s[enc + "norm_out.bias"] = (top,)
    _conv(s, enc + "conv_out", 2 * z if c.get("double_z") else z, top, 3)
    _conv(s, VQGAN + "quant_conv", ed, z, 1)
    s[VQGAN + "quantize.embedding.weight"] = (int(c["n_embed"]), ed)
    _conv(s, VQGAN + "post_quant_conv", z, ed, 1)
    _conv(s, dec + "conv_in", top, z, 3)
    cin = top
    for k, lv in enumerate(reversed(levels)):
        cin = _level(s, f"{dec}up_{k}", cin, lv["out"], nb + 1, lv["attn"])
        if k != len(levels) - 1:
            _conv(s, f"{dec}up_{k}_upsample.conv", cin, cin, 3)
    s[dec + "norm_out.weight"] = s[dec + "norm_out.bias"] = (cin,)
    _conv(s, dec + "conv_out", int(c["out_ch"]), cin, 3)


def param_shapes(cfg: UIO2Config) -> dict[str, tuple[int, ...]]:
    """name -> shape of every tensor the text/image computation uses (torch names, torch layout)."""
    e = cfg.emb_dim
    s: dict[str, tuple[int, ...]] = {
        "text_token_embedder.weight": (int(cfg.t5["vocab_size"]), e),
        "image_token_embedder.weight": (int(cfg.t5["image_vocab_size"]), e),
        "input_embedders.text.modality_embedding": (e,),
        "input_embedders.image.modality_embedding": (e,),
        "target_embedders.text.modality_embedding": (e,),
        "target_embedders.image.modality_embedding": (e,),
    }
    _vit_shapes(cfg, s)
    _t5_shapes(cfg, s)
    _vqgan_shapes(cfg, s)
    return s
