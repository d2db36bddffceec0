"""A loaded Unified-IO 2 model ready to run: device params, recomputed tables, jitted entry
points (encode, generate, score) cached per static setting. Shapes are bucketed by the caller."""
from __future__ import annotations

import functools
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np

from model_adapters.unified_io_2 import decoding as D
from model_adapters.unified_io_2 import model as M
from model_adapters.unified_io_2 import vqgan as V
from model_adapters.unified_io_2.checkpoint import LoadedCheckpoint
from model_adapters.unified_io_2.config import UIO2Config


class UIO2Runtime:
    def __init__(self, cfg: UIO2Config, params: dict, dtype: str = "float32"):
        self.cfg = cfg
        self.tables = M.build_tables(cfg, params)
        # The ViT and the VQGAN stay float32 (the port's safe default); the T5 part may be bf16.
        keep32 = ("input_embedders.image.image_encoder.", "target_embedders.image.vqgan.")
        self.params = {k: jnp.asarray(np.asarray(v, np.float32) if k.startswith(keep32) or dtype == "float32"
                                      else np.asarray(v), dtype=jnp.float32 if k.startswith(keep32) else dtype)
                       for k, v in params.items()}
        self._jits: dict = {}

    @classmethod
    def from_checkpoint(cls, ck: LoadedCheckpoint, dtype: str = "float32") -> "UIO2Runtime":
        return cls(ck.config, ck.params, dtype)

    def _jit(self, name, fn, **static):
        key = (name, tuple(sorted(static.items())))
        if key not in self._jits:
            self._jits[key] = jax.jit(functools.partial(fn, **static))
        return self._jits[key]

    def _encode(self, text, image):
        x, m, r = M.encode_inputs(self.params, self.cfg, self.tables, text, image)
        return M.encoder(self.params, self.cfg, x, m, r), m, r

    def encode(self, text: dict, image: Optional[dict] = None):
        """text: tokens/mask/pos_ids [b, l]; image: input [b, n, 768], mask, pos_ids."""
        return self._jit("encode", lambda t, i: self._encode(t, i))(text, image)

    def generate(self, encoded, mask, rope, modality: str, max_new: int,
                 procs: D.Processors = D.Processors(), sampling: Optional[D.Sampling] = None,
                 seed=0, top_k: int = 5, early_stop: bool = True) -> dict:
        """``seed``: one seed for every output row, or one per row (rows sample independently)."""
        def run(e, m, r, seeds, *, modality, max_new, procs, sampling, top_k, early_stop):
            return D.generate(self.params, self.cfg, self.tables, e, m, r, modality, max_new,
                              procs, sampling, seeds, top_k, early_stop)
        fn = self._jit("generate", run, modality=modality, max_new=max_new, procs=procs,
                       sampling=sampling, top_k=top_k, early_stop=early_stop)
        out_rows = encoded.shape[0] // 2 if procs.guidance is not None else encoded.shape[0]
        seeds = np.broadcast_to(np.asarray(seed, np.uint32), (out_rows,))
        return D.as_numpy(fn(encoded, mask, rope, jnp.asarray(seeds)))

    def score(self, encoded, mask, rope, options: np.ndarray, average: bool = True, rows=None) -> np.ndarray:
        """Option scores; ``rows[j]``: the encoded row option j is scored against (default: the
        one input for all)."""
        def run(e, m, r, o, rows, *, average):
            return D.score_options(self.params, self.cfg, self.tables, e, m, r, o, average, rows)
        rows = None if rows is None else jnp.asarray(rows, jnp.int32)
        return np.asarray(self._jit("score", run, average=average)(encoded, mask, rope, jnp.asarray(options), rows))

    def forward_logits(self, encoded, mask, rope, modality: str, inputs, dec_mask, positions, segments=None):
        def run(e, m, r, i, dm, pos, seg, *, modality):
            table = self.tables.text_out if modality == "text" else self.tables.image_out
            y, dr = M.embed_targets(self.params, modality, i, table, pos)
            h = M.decoder(self.params, self.cfg, y, dm, dr, e, m, r, seg)
            return M.logits(self.params, modality, h)
        return np.asarray(self._jit("forward", run, modality=modality)(
            encoded, mask, rope, inputs, dec_mask, positions, segments))

    def decode_image(self, codes) -> np.ndarray:
        return np.asarray(self._jit("vq_decode", lambda c: V.codes_to_image(self.params, self.cfg, c))(codes))

    def decode_raw(self, codes) -> np.ndarray:
        return np.asarray(self._jit("vq_raw", lambda c: V.decode_codes(self.params, self.cfg, c))(codes))

    def image_codes(self, images_nhwc) -> np.ndarray:
        fn = self._jit("vq_encode", lambda x: V.encode_codes(self.params, self.cfg, x.transpose(0, 3, 1, 2)))
        return np.asarray(fn(images_nhwc))
