"""Bundled mini-GRIT: a deterministic, synthetic GRIT-format set with exact ground truth.

``ensure_minigrit()`` returns the root of a cached copy (generated in a few seconds on first
use); ``generate(root)`` writes one anywhere. Layout of a root:

    samples/<subset>/<task>.json          public samples (GRIT_SPEC 1.1)
    ground_truth/<subset>/<task>.json     {input, output, meta} per sample (GRIT_SPEC 1.2)
    ground_truth/normals/<out_image_name> GT normal PNGs (normal2rgb, invalid = (0, 0, 0))
    images/<image_id>                     input images (PNG, or JPEG for the new source)
    output_options/<name>.json            candidate category names
    lemma2groups.json                     lemma -> GRIT concept groups
    MANIFEST.json                         version, seed, counts, sha256 of every file (last)
"""
from grit_eval.minigrit.vocabulary import GENERATOR_VERSION
from grit_eval.minigrit.writer import (
    DEFAULT_SUBSETS,
    default_cache_dir,
    ensure_minigrit,
    generate,
    is_complete,
    read_manifest,
)

__all__ = [
    "DEFAULT_SUBSETS",
    "GENERATOR_VERSION",
    "default_cache_dir",
    "ensure_minigrit",
    "generate",
    "is_complete",
    "read_manifest",
]
