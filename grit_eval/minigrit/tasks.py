"""One mini-GRIT sample per call, for each of the 7 GRIT tasks, with its ground truth.

A sample's leaderboard cell (same/new source, seen/new concept) is chosen by the caller;
the builder picks categories from the matching concept pool and renders in the matching
source style. Ground truth follows GRIT_SPEC 1.2 and is exact by construction, so the
oracle scores the official maximum (see the checks in tests/grit_eval/test_minigrit.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from grit_eval.minigrit import vocabulary as voc
from grit_eval.minigrit.geometry3d import Room, encode_normals, render_room
from grit_eval.minigrit.language import VQA_KINDS, N_ANSWERS, build_refexp, build_vqa
from grit_eval.minigrit.scene import SKY, FLOOR, ObjectSpec, Scene, random_size, render_scene


@dataclass(frozen=True)
class Cell:
    """The leaderboard partition a sample is built for (GRIT_SPEC 4.1)."""

    new_source: bool
    new_concept: bool


@dataclass
class BuiltSample:
    """A sample before ids are assigned.

    Attributes:
        task: GRIT task name.
        image: [H, W, 3] uint8 RGB input image.
        task_query, task_bbox, output_options: the public fields (GRIT_SPEC 1.1).
        output: the GT output fields without ``example_id``.
        lemmas: concept lemmas (GT ``meta.concepts``).
        name: a short word for the example id (the category, or the question kind).
        scene: the labelled scene or room it was rendered from (for checks).
        normal_rgb: [H, W, 3] uint8 GT normal PNG pixels (normal task only).
    """

    task: str
    image: np.ndarray
    task_query: str | None
    output: dict[str, Any]
    lemmas: list[str]
    name: str
    scene: Scene | Room
    task_bbox: list[int] | None = None
    output_options: str | None = None
    normal_rgb: np.ndarray | None = field(default=None, repr=False)


def encode_rle(mask: np.ndarray) -> dict[str, Any]:
    """COCO compressed RLE of an [H, W] bool mask, as the official ``utils/rle.encode``."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(rle["size"][0]), int(rle["size"][1])], "counts": rle["counts"].decode("utf-8")}


def _pool(cell: Cell, with_person: bool) -> tuple[str, ...]:
    if cell.new_concept:
        return voc.NEW_SHAPES
    return (*voc.SEEN_SHAPES, voc.PERSON) if with_person else voc.SEEN_SHAPES


def _colour(rng: np.random.Generator) -> str:
    return str(rng.choice(sorted(voc.COLOURS)))


def _objects(rng: np.random.Generator, cat: str, n_target: int, n_other: int) -> list[ObjectSpec]:
    """``n_target`` objects of ``cat`` first, then distractors of other categories."""
    others = [c for c in voc.THING_CATEGORIES if c != cat]
    specs = [ObjectSpec(cat, None if cat == voc.PERSON else _colour(rng)) for _ in range(n_target)]
    for _ in range(n_other):
        other = str(rng.choice(others))
        specs.append(ObjectSpec(other, None if other == voc.PERSON else _colour(rng)))
    return specs


def _categorization(rng, shape, cell: Cell, variant: int) -> BuiltSample:
    cat = str(rng.choice(_pool(cell, True)))
    scene = render_scene(rng, shape, _objects(rng, cat, 1, int(rng.integers(1, 4))), cell.new_source)
    target = scene.instances[0]
    return BuiltSample("categorization", scene.image, None, {"words": [cat]}, [cat], cat, scene,
                       task_bbox=list(target.box), output_options=voc.OUTPUT_OPTIONS_NAME)


def _localization(rng, shape, cell: Cell, variant: int) -> BuiltSample:
    cat = str(rng.choice(_pool(cell, True)))
    specs = _objects(rng, cat, int(rng.integers(1, 4)), int(rng.integers(0, 3)))
    scene = render_scene(rng, shape, specs, cell.new_source)
    boxes = [list(inst.box) for inst in scene.of_category(cat)]
    return BuiltSample("localization", scene.image, cat, {"bboxes": boxes}, [cat], cat, scene)


# Variants that ask for a stuff region; their concept matches the cell they land in
# (sky is a seen concept, floor a new one), see builder.py's cell cycle.
_STUFF_VARIANTS = {3: ("sky", SKY), 5: ("floor", FLOOR), 10: ("sky", SKY)}


def _segmentation(rng, shape, cell: Cell, variant: int) -> BuiltSample:
    stuff = _STUFF_VARIANTS.get(variant)
    if stuff is not None and voc.has_new_concept([stuff[0]]) == cell.new_concept:
        name, label = stuff
        specs = _objects(rng, str(rng.choice(voc.THING_CATEGORIES)), 1, int(rng.integers(0, 3)))
        scene = render_scene(rng, shape, specs, cell.new_source)
        # The official scorer reads "(Stuff)" in the GT query and OR-merges the masks.
        query = f"{name} (Stuff)"
        return BuiltSample("segmentation", scene.image, query,
                           {"masks": [encode_rle(scene.mask(label))]}, [name], name, scene)
    cat = str(rng.choice(_pool(cell, True)))
    specs = _objects(rng, cat, int(rng.integers(1, 4)), int(rng.integers(0, 3)))
    scene = render_scene(rng, shape, specs, cell.new_source)
    masks = [encode_rle(scene.mask(inst.label)) for inst in scene.of_category(cat)]
    return BuiltSample("segmentation", scene.image, cat, {"masks": masks}, [cat], cat, scene)


def _vqa(rng, shape, cell: Cell, variant: int) -> BuiltSample:
    kind = VQA_KINDS[variant % len(VQA_KINDS)]
    scene, question, answer, lemmas = build_vqa(rng, shape, kind, _pool(cell, True), cell.new_source)
    return BuiltSample("vqa", scene.image, question, {"words": [answer] * N_ANSWERS}, lemmas,
                       kind, scene)


def _refexp(rng, shape, cell: Cell, variant: int) -> BuiltSample:
    scene, target, expression, lemmas = build_refexp(
        rng, shape, _pool(cell, False), by_position=variant % 3 == 1, textured=cell.new_source)
    return BuiltSample("refexp", scene.image, expression, {"bboxes": [list(target.box)]}, lemmas,
                       target.category, scene)


def _keypoint(rng, shape, cell: Cell, variant: int) -> BuiltSample:
    # The distractor sets the concept flag: GRIT keypoint queries are always "person".
    distractor = str(rng.choice(_pool(cell, False)))
    specs = [ObjectSpec(voc.PERSON), ObjectSpec(distractor, _colour(rng))]
    if rng.integers(2):
        specs.append(ObjectSpec(voc.PERSON))
    scene = render_scene(rng, shape, specs, cell.new_source)
    points = []
    for inst in scene.of_category(voc.PERSON):
        flat = np.concatenate([inst.keypoints, np.full((17, 1), 2)], axis=1).reshape(-1)
        points.append([float(v) if k % 3 < 2 else int(v) for k, v in enumerate(flat.tolist())])
    lemmas = [voc.PERSON] + [i.category for i in scene.instances if i.category != voc.PERSON]
    return BuiltSample("keypoint", scene.image, voc.PERSON, {"points": points}, lemmas,
                       voc.PERSON, scene)


def _normal(rng, shape, cell: Cell, variant: int) -> BuiltSample:
    room = render_room(rng, shape, wide=cell.new_source)
    block = voc.ROOM_BLOCK_LEMMAS[int(cell.new_concept)]
    return BuiltSample("normal", room.image, None, {}, ["wall", block], "room", room,
                       normal_rgb=encode_normals(room.normals, room.valid))


_BUILDERS = {
    "categorization": _categorization, "localization": _localization, "vqa": _vqa,
    "refexp": _refexp, "segmentation": _segmentation, "keypoint": _keypoint, "normal": _normal,
}


def build_sample(task: str, rng: np.random.Generator, cell: Cell, variant: int) -> BuiltSample:
    """Builds one sample of ``task`` for ``cell``.

    Args:
        task: a GRIT task name.
        rng: the sample's own generator (everything random comes from it).
        cell: the partition the sample is for.
        variant: the sample's index in its task; picks question kinds, stuff queries and
            position expressions in a fixed rotation.
    """
    if task not in _BUILDERS:
        raise ValueError(f"unknown GRIT task {task!r}; expected one of {sorted(_BUILDERS)}")
    return _BUILDERS[task](rng, random_size(rng), cell, variant)
