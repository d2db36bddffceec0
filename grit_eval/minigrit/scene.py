"""Synthetic 2-D scenes whose labels are known exactly: sky, floor, shapes and people.

Objects never overlap (a 3-pixel gap is kept), so each instance mask is exactly the shape
that was drawn and boxes are tight around masks. Labels live in ``Scene.label_map``:
``SKY`` and ``FLOOR`` for the stuff regions and one value >= ``FIRST_INSTANCE`` per object.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from grit_eval.minigrit import vocabulary as voc
from grit_eval.minigrit.person import draw_person, layout_person

SKY, FLOOR, FIRST_INSTANCE = 0, 1, 2
_GAP = 3  # pixels kept free between objects, and to the image border


@dataclass(frozen=True)
class ObjectSpec:
    """An object to place: category, paint colour (None for a person), optional x range.

    ``x_range`` = (lo, hi) pixels the object's box must stay within (for "on the left").
    """

    category: str
    colour: str | None = None
    x_range: tuple[int, int] | None = None


@dataclass(frozen=True)
class Instance:
    """One placed object.

    Attributes:
        label: its value in ``Scene.label_map``.
        category, colour: as requested (colour None for a person).
        box: (x1, y1, x2, y2) int pixels, tight around the mask, x2/y2 exclusive.
        keypoints: [17, 2] int pixel x, y for a person, else None.
    """

    label: int
    category: str
    colour: str | None
    box: tuple[int, int, int, int]
    keypoints: np.ndarray | None = None


@dataclass(frozen=True)
class Scene:
    """A rendered scene. image: [H, W, 3] uint8 RGB; label_map: [H, W] uint8."""

    image: np.ndarray
    label_map: np.ndarray
    instances: tuple[Instance, ...]

    def mask(self, label: int) -> np.ndarray:
        """[H, W] bool mask of one label value."""
        return self.label_map == label

    def of_category(self, category: str) -> list[Instance]:
        return [inst for inst in self.instances if inst.category == category]


def random_size(rng: np.random.Generator, lo: int = 96, hi: int = 192) -> tuple[int, int]:
    """(height, width) in pixels: landscape, portrait and square images alike."""
    return int(rng.integers(lo, hi + 1)), int(rng.integers(lo, hi + 1))


def _free(box: tuple[int, int, int, int], taken: list[tuple[int, int, int, int]]) -> bool:
    x1, y1, x2, y2 = box
    return all(x2 + _GAP <= a or b + _GAP <= x1 or y2 + _GAP <= c or d + _GAP <= y1
               for a, c, b, d in taken)


def _place(rng: np.random.Generator, size: tuple[int, int], shape: tuple[int, int],
           x_range: tuple[int, int] | None, taken: list) -> tuple[int, int, int, int] | None:
    """A free (x1, y1, x2, y2) box of ``size`` (w, h) or None after 80 tries."""
    h_img, w_img = shape
    lo, hi = x_range if x_range is not None else (0, w_img)
    lo, hi = max(lo, _GAP), min(hi, w_img - _GAP)
    w, h = size
    if hi - lo < w or h_img - 2 * _GAP < h:
        return None
    for _ in range(80):
        x = int(rng.integers(lo, hi - w + 1))
        y = int(rng.integers(_GAP, h_img - _GAP - h + 1))
        box = (x, y, x + w, y + h)
        if _free(box, taken):
            return box
    return None


def _draw_shape(draw: ImageDraw.ImageDraw, shape: str, box, label: int) -> None:
    x1, y1, x2, y2 = box[0], box[1], box[2] - 1, box[3] - 1  # PIL corners are inclusive
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    if shape == "circle":
        draw.ellipse([x1, y1, x2, y2], fill=label)
    elif shape == "square":
        draw.rectangle([x1, y1, x2, y2], fill=label)
    elif shape == "triangle":
        draw.polygon([(x1, y2), (x2, y2), (cx, y1)], fill=label)
    elif shape == "diamond":
        draw.polygon([(cx, y1), (x2, cy), (cx, y2), (x1, cy)], fill=label)
    else:
        raise ValueError(f"unknown shape {shape!r}")


def _background(rng: np.random.Generator, shape: tuple[int, int], horizon: int,
                textured: bool) -> np.ndarray:
    """[H, W, 3] uint8 sky above ``horizon`` and floor below; textured adds gradient + tiles."""
    h, w = shape
    img = np.empty((h, w, 3), np.int16)
    img[:horizon] = voc.SKY_RGB
    img[horizon:] = voc.FLOOR_RGB
    if textured:
        # The "new source" look: a brighter sky towards the horizon and a tiled floor.
        img[:horizon] += np.round(np.linspace(-25.0, 20.0, horizon)).astype(np.int16)[:, None, None]
        period = int(rng.integers(8, 17))
        rows = (np.arange(horizon, h) // period)[:, None]
        cols = (np.arange(w) // period)[None, :]
        img[horizon:] += (((rows + cols) % 2) * 22 - 11).astype(np.int16)[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def render_scene(rng: np.random.Generator, shape: tuple[int, int], specs: list[ObjectSpec],
                 textured: bool = False) -> Scene:
    """Places and draws ``specs`` (in order; an object that does not fit is left out).

    Args:
        rng: the sample's generator (layout, sizes and poses come from it).
        shape: (H, W) of the image in pixels.
        specs: objects to place; callers read back ``Scene.instances`` for what was placed.
        textured: render the "new source" style background.

    Returns:
        The scene; ``instances`` are in placement order with tight boxes.
    """
    h_img, w_img = shape
    horizon = int(rng.integers(int(0.3 * h_img), int(0.6 * h_img) + 1))
    labels = Image.new("L", (w_img, h_img), FLOOR)
    draw = ImageDraw.Draw(labels)
    draw.rectangle([0, 0, w_img - 1, horizon - 1], fill=SKY)
    short = min(h_img, w_img)
    taken: list[tuple[int, int, int, int]] = []
    placed: list[tuple[ObjectSpec, int, np.ndarray | None]] = []
    for spec in specs:
        label = FIRST_INSTANCE + len(placed)
        if spec.category == voc.PERSON:
            layout = layout_person(rng, int(rng.integers(int(0.4 * h_img), int(0.6 * h_img) + 1)))
            box = _place(rng, layout.size, shape, spec.x_range, taken)
            if box is None:
                continue
            keypoints = draw_person(draw, label, layout, box[:2])
        else:
            side = int(rng.integers(max(14, short // 7), short // 3 + 1))
            size = (side, side) if spec.category != "sign" else (side, int(side * 0.9))
            box = _place(rng, size, shape, spec.x_range, taken)
            if box is None:
                continue
            _draw_shape(draw, voc.SHAPE_CATEGORIES[spec.category][0], box, label)
            keypoints = None
        taken.append(box)
        placed.append((spec, label, keypoints))
    label_map = np.asarray(labels, dtype=np.uint8).copy()
    image = _background(rng, shape, horizon, textured)
    instances = []
    for spec, label, keypoints in placed:
        mask = label_map == label
        image[mask] = voc.PERSON_RGB if spec.colour is None else voc.COLOURS[spec.colour]
        xs, ys = np.flatnonzero(mask.any(axis=0)), np.flatnonzero(mask.any(axis=1))
        box = (int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1)
        instances.append(Instance(label, spec.category, spec.colour, box, keypoints))
    return Scene(image, label_map, tuple(instances))
