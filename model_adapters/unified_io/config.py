"""Unified-IO v1 model and VQ-GAN configurations (jax-free).

The field names follow UNIFIED_IO.md section 1; ``from_reference`` accepts the names used by
the released code's ``UnifiedIOConfig`` / ``VAEConfig`` dataclasses. Both classes are frozen
and hashable so jitted programs can be cached by configuration.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class VQGANConfig:
    """Taming-style VQ-GAN (ImageNet f16, 16384 codes for the released sizes).

    Attributes:
        embed_dim: codebook vector width.
        n_embed: number of codebook entries.
        z_channels: latent channels before ``quant_conv``.
        ch: base channel count; level ``i`` has ``ch * ch_mult[i]`` channels.
        ch_mult: channel multipliers, one per resolution level.
        num_res_blocks: ResBlocks per encoder level (the decoder has one more).
        attn_resolutions: square resolutions (pixels) at which AttnBlocks are inserted.
        resolution: image side in pixels (256).
        in_channels / out_ch: image channels in and out (3).
        double_z: whether the encoder's ``conv_out`` emits 2 * z_channels.
    """

    embed_dim: int = 256
    n_embed: int = 16384
    z_channels: int = 256
    ch: int = 128
    ch_mult: tuple[int, ...] = (1, 1, 2, 2, 4)
    num_res_blocks: int = 2
    attn_resolutions: tuple[int, ...] = (16,)
    resolution: int = 256
    in_channels: int = 3
    out_ch: int = 3
    double_z: bool = False

    @property
    def num_levels(self) -> int:
        return len(self.ch_mult)

    @property
    def code_grid(self) -> int:
        """Side of the code grid: resolution / 2**(levels - 1) (16 for 256 px)."""
        return self.resolution // 2 ** (self.num_levels - 1)


@dataclass(frozen=True)
class UnifiedIOConfig:
    """Transformer configuration plus its VQ-GAN.

    Attributes mirror the reference names. Derived numbers (total vocabulary, grids, the
    image-start token) are properties so a config can never disagree with itself.
    """

    emb_dim: int = 512
    num_heads: int = 6
    head_dim: int = 64
    mlp_dim: int = 1024
    num_encoder_layers: int = 8
    num_decoder_layers: int = 8
    vocab_size: int = 33152
    image_vocab_size: int = 16384
    image_patch_size: int = 16
    encoder_max_text_length: int = 256
    encoder_max_image_length: int = 576
    decoder_max_text_length: int = 256
    decoder_max_image_length: int = 256
    default_image_size: tuple[int, int] = (384, 384)
    num_seg_emb: int = 2
    vqgan: VQGANConfig = field(default_factory=VQGANConfig)

    @property
    def total_vocab(self) -> int:
        """Rows of the shared embedding: text vocab + image codes (49,536)."""
        return self.vocab_size + self.image_vocab_size

    @property
    def inner_dim(self) -> int:
        """Attention q/k/v width, num_heads * head_dim (not emb_dim: 384 for small)."""
        return self.num_heads * self.head_dim

    @property
    def image_start_id(self) -> int:
        """Decoder input of the first image position (vocab_size - 1 = 33151)."""
        return self.vocab_size - 1

    @property
    def encoder_grid(self) -> tuple[int, int]:
        """Patch grid (rows, cols) of the encoder image (24 x 24 for 384 px)."""
        h, w = self.default_image_size
        return h // self.image_patch_size, w // self.image_patch_size

    @property
    def decoder_grid(self) -> int:
        """The decoder's image relative-position grid side; the reference hard-codes 16."""
        return 16

    @property
    def patch_dim(self) -> int:
        return self.image_patch_size * self.image_patch_size * 3

    def replace(self, **changes: Any) -> "UnifiedIOConfig":
        return dataclasses.replace(self, **changes)

    @classmethod
    def preset(cls, name: str) -> "UnifiedIOConfig":
        """One of ``small``, ``base``, ``large``, ``xl`` (released) or ``tiny`` (parity set)."""
        try:
            return PRESETS[name]
        except KeyError:
            raise ValueError(
                f"unknown Unified-IO size {name!r}; expected one of {sorted(PRESETS)}"
            ) from None

    @classmethod
    def from_reference(
        cls, transformer: Mapping[str, Any], vqgan: Mapping[str, Any]
    ) -> "UnifiedIOConfig":
        """Builds a config from the reference code's field names.

        Args:
            transformer: fields of the reference ``UnifiedIOConfig`` (``emb_dim``, ...).
            vqgan: fields of the reference ``VAEConfig`` (``embed_dim``, ``ch_mult``, ...).

        Raises:
            ValueError: naming every unknown field, or a known field whose value this
                implementation does not support (e.g. another MLP activation).
        """
        t_kwargs = _take_fields(cls, transformer, _TRANSFORMER_FIXED, "transformer")
        v_kwargs = _take_fields(VQGANConfig, vqgan, _VQGAN_FIXED, "vqgan")
        for key in ("default_image_size",):
            if key in t_kwargs:
                t_kwargs[key] = tuple(int(v) for v in t_kwargs[key])
        for key in ("ch_mult", "attn_resolutions"):
            if key in v_kwargs:
                v_kwargs[key] = tuple(int(v) for v in v_kwargs[key])
        return cls(**t_kwargs, vqgan=VQGANConfig(**v_kwargs))


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, (list, tuple)) else value


# Reference fields with no knob here: the value must be the one this implementation
# hard-codes, otherwise the checkpoint would be computed differently.
_TRANSFORMER_FIXED: dict[str, tuple[Any, ...]] = {
    "dtype": ("float32", "bfloat16"),
    "mlp_activations": (("gelu", "linear"),),
    "dropout_rate": (0.0,),
    "logits_via_embedding": (True,),
    "float32_attention_logits": (False, True),
    "visual_backbone_type": (None,),
    "visual_backbone_feature": (None,),
}
_VQGAN_FIXED: dict[str, tuple[Any, ...]] = {
    "dropout": (0, 0.0),
    "dtype": ("float32", "bfloat16"),
}


def _take_fields(
    target: type, given: Mapping[str, Any], fixed: Mapping[str, tuple[Any, ...]], what: str
) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(target)} - {"vqgan"}
    unknown = sorted(set(given) - names - set(fixed))
    if unknown:
        raise ValueError(
            f"unknown {what} config field(s) {unknown}; known: {sorted(names | set(fixed))}"
        )
    for key, allowed in fixed.items():
        if key in given and _as_tuple(given[key]) not in allowed:
            raise ValueError(
                f"{what} config field {key}={given[key]!r} is not supported (allowed: {allowed})"
            )
    return {k: v for k, v in given.items() if k in names}


_TINY_VQGAN = VQGANConfig(
    embed_dim=16, z_channels=16, ch=32, ch_mult=(1, 2, 2, 2, 2), num_res_blocks=1
)

PRESETS: dict[str, UnifiedIOConfig] = {
    "small": UnifiedIOConfig(),
    "base": UnifiedIOConfig(
        emb_dim=768, num_heads=12, mlp_dim=2048, num_encoder_layers=12, num_decoder_layers=12
    ),
    "large": UnifiedIOConfig(
        emb_dim=1024, num_heads=16, mlp_dim=2816, num_encoder_layers=24, num_decoder_layers=24
    ),
    "xl": UnifiedIOConfig(
        emb_dim=2048,
        num_heads=32,
        mlp_dim=5120,
        num_encoder_layers=24,
        num_decoder_layers=24,
        num_seg_emb=8,
    ),
    # The public parity set's tiny random model (shared/golden/.../parity_public).
    "tiny": UnifiedIOConfig(
        emb_dim=48,
        num_heads=2,
        head_dim=16,
        mlp_dim=96,
        num_encoder_layers=1,
        num_decoder_layers=2,
        vqgan=_TINY_VQGAN,
    ),
}
