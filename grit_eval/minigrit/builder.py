"""Assembles mini-GRIT subsets: ids, flags, ``_dist`` copies, and every file's bytes.

Each task of a subset gets ``N_UNDISTORTED`` samples cycling through the four
(source, concept) cells, and every even-indexed one a ``_dist`` copy, so each leaderboard
partition (sameSrc, newSrc, sameCpt, newCpt, dist, undist) holds >= 2 samples per task.
Everything random comes from ``np.random.default_rng([seed, subset, task, index, copy])``,
so a sample does not depend on how many others were generated before it.
"""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from grit_eval.minigrit import vocabulary as voc
from grit_eval.minigrit.distort import distort
from grit_eval.minigrit.tasks import BuiltSample, Cell, build_sample
from grit_eval.types import GRIT_TASKS, TASK_SHORT_NAMES

N_UNDISTORTED = 20
_PNG_LEVEL = 6      # pinned: PNG bytes depend on the zlib level
_JPEG_QUALITY = 90  # pinned, with 4:4:4 chroma so colour names survive


@dataclass
class SubsetBuild:
    """One subset in memory.

    Attributes:
        samples: task -> public sample dicts (GRIT_SPEC 1.1).
        ground_truth: task -> GT dicts ``{input, output, meta}`` (GRIT_SPEC 1.2).
        built: example_id -> the undistorted BuiltSample (scene labels, for checks).
        files: path relative to the dataset root -> bytes (images and GT normal PNGs).
        distortions: example_id of a ``_dist`` copy -> distortion name.
    """

    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ground_truth: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    built: dict[str, BuiltSample] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    distortions: dict[str, str] = field(default_factory=dict)


def encode_image(image: np.ndarray, ext: str) -> bytes:
    """PNG or JPEG bytes of an [H, W, 3] uint8 image, with pinned encoder settings."""
    buf = io.BytesIO()
    if ext == "png":
        Image.fromarray(image).save(buf, format="PNG", compress_level=_PNG_LEVEL)
    elif ext == "jpg":
        Image.fromarray(image).save(buf, format="JPEG", quality=_JPEG_QUALITY, subsampling=0)
    else:
        raise ValueError(f"unsupported image extension {ext!r}; expected 'png' or 'jpg'")
    return buf.getvalue()


def _subset_key(subset: str) -> int:
    """A stable integer for a subset name (rng entropy; Python's hash() is salted)."""
    return int.from_bytes(hashlib.sha256(subset.encode("utf-8")).digest()[:4], "big")


def cell_of(index: int) -> Cell:
    """The (source, concept) cell of the sample at ``index``: a cycle of period 4."""
    return Cell(new_source=(index // 2) % 2 == 1, new_concept=(index // 4) % 2 == 1)


def has_distorted_copy(index: int) -> bool:
    # Even indices: the cycle above puts them in all four cells.
    return index % 2 == 0


def _records(b: BuiltSample, example_id: str, image_id: str, meta: dict[str, Any],
             normal_name: str | None) -> tuple[dict, dict]:
    public = {"example_id": example_id, "image_id": image_id, "task_name": b.task,
              "task_query": b.task_query, "task_bbox": b.task_bbox,
              "output_options": b.output_options}
    output = {"example_id": example_id, **b.output}
    if normal_name is not None:
        output["out_image_name"] = normal_name
    return public, {"input": dict(public), "output": output, "meta": meta}


def build_subset(subset: str, seed: int = 0, tasks: tuple[str, ...] = GRIT_TASKS) -> SubsetBuild:
    """Builds every sample of one subset in memory (no files are written).

    Args:
        subset: subset name, e.g. "train" or "ablation" (also part of ids and paths).
        seed: generator seed.
        tasks: GRIT task names to build.
    """
    if not subset or not subset.replace("_", "").isalnum():
        raise ValueError(f"subset name must be letters, digits or '_', got {subset!r}")
    out = SubsetBuild()
    for task in tasks:
        if task not in GRIT_TASKS:
            raise ValueError(f"unknown GRIT task {task!r}; expected one of {GRIT_TASKS}")
        out.samples[task], out.ground_truth[task] = [], []
        for index in range(N_UNDISTORTED):
            entropy = [seed, _subset_key(subset), GRIT_TASKS.index(task), index]
            cell = cell_of(index)
            b = build_sample(task, np.random.default_rng(entropy + [0]), cell, index)
            example_id = f"minigrit_{TASK_SHORT_NAMES[task]}_{subset}_{b.name}_{index:04d}"
            sources = voc.ROOM_SOURCES if task == "normal" else voc.SHAPE_SOURCES
            source = sources[int(cell.new_source)]
            ext = "jpg" if cell.new_source else "png"
            image_id = f"{source}/{subset}/{task}_{index:04d}.{ext}"
            out.files[f"images/{image_id}"] = encode_image(b.image, ext)
            normal_name = None
            if b.normal_rgb is not None:
                normal_name = f"{subset}/{example_id}.png"
                out.files[f"ground_truth/normals/{normal_name}"] = encode_image(b.normal_rgb, "png")
            meta = {"data_source": source, "is_new_source": cell.new_source,
                    "has_new_concept": voc.has_new_concept(b.lemmas), "is_distorted": False,
                    "concepts": [{"lemma": lemma} for lemma in b.lemmas]}
            public, gt = _records(b, example_id, image_id, meta, normal_name)
            out.samples[task].append(public)
            out.ground_truth[task].append(gt)
            out.built[example_id] = b
            if not has_distorted_copy(index):
                continue
            # The copy: same GT, a degraded image under distorted/<task>/<image_id>.
            dist_image, name = distort(b.image, np.random.default_rng(entropy + [1]))
            dist_id, dist_image_id = example_id + "_dist", f"distorted/{task}/{image_id}"
            out.files[f"images/{dist_image_id}"] = encode_image(dist_image, ext)
            public, gt = _records(b, dist_id, dist_image_id, {**meta, "is_distorted": True},
                                  normal_name)
            out.samples[task].append(public)
            out.ground_truth[task].append(gt)
            out.distortions[dist_id] = name
    return out


def dump_json(obj: Any) -> bytes:
    """Deterministic JSON bytes: key order as built, no indent (json's fast C encoder and
    small files), trailing newline."""
    return (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8")


def assemble(seed: int, subsets: tuple[str, ...]) -> tuple[dict[str, bytes], dict[str, Any]]:
    """All files of a dataset root except MANIFEST.json, plus the manifest's summary fields."""
    files: dict[str, bytes] = {}
    counts: dict[str, dict[str, int]] = {}
    distortions: dict[str, dict[str, str]] = {}
    for subset in subsets:
        built = build_subset(subset, seed)
        for task in built.samples:
            files[f"samples/{subset}/{task}.json"] = dump_json(built.samples[task])
            files[f"ground_truth/{subset}/{task}.json"] = dump_json(built.ground_truth[task])
        files.update(built.files)
        counts[subset] = {task: len(v) for task, v in built.samples.items()}
        distortions[subset] = built.distortions
    files[f"output_options/{voc.OUTPUT_OPTIONS_NAME}.json"] = dump_json(list(voc.OUTPUT_OPTIONS))
    files["lemma2groups.json"] = dump_json({k: list(v) for k, v in voc.LEMMA2GROUPS.items()})
    summary = {"counts": counts, "distortions": distortions}
    return files, summary
