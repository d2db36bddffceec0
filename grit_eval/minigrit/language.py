"""Questions with unambiguous answers (VQA) and referring expressions that pick one object.

Both are written from the scene that was actually rendered (not from what was requested),
so an object that did not fit can never make a question or expression wrong.
"""
from __future__ import annotations

import numpy as np

from grit_eval.minigrit import vocabulary as voc
from grit_eval.minigrit.scene import Instance, ObjectSpec, Scene, render_scene

VQA_KINDS: tuple[str, ...] = ("count", "colour", "shape", "exists")
# The official scorer takes min(#matching answers / 3, 1); ten identical answers make an
# exact answer score 1, as in VQAv2's unanimous questions.
N_ANSWERS = 10


def _plural(category: str) -> str:
    return voc.PERSON_PLURAL if category == voc.PERSON else voc.SHAPE_CATEGORIES[category][1]


def _other_colours(rng: np.random.Generator, exclude: set[str], k: int) -> list[str]:
    pool = [c for c in sorted(voc.COLOURS) if c not in exclude]
    return [str(c) for c in rng.choice(pool, size=k, replace=len(pool) < k)]


def _colour(rng: np.random.Generator) -> str:
    return str(rng.choice(sorted(voc.COLOURS)))


def _spec(category: str, colour: str | None = None, x_range=None) -> ObjectSpec:
    return ObjectSpec(category, None if category == voc.PERSON else colour, x_range)


def build_vqa(rng: np.random.Generator, shape: tuple[int, int], kind: str, pool: tuple[str, ...],
              textured: bool) -> tuple[Scene, str, str, list[str]]:
    """A scene and a question about it.

    Args:
        kind: one of ``VQA_KINDS``.
        pool: categories the question may be about (seen or new concepts).

    Returns:
        (scene, question, answer, concept lemmas).
    """
    shapes_pool = tuple(c for c in pool if c != voc.PERSON) or voc.SEEN_SHAPES
    if kind == "count":
        cat = str(rng.choice(pool))
        specs = [_spec(cat, _colour(rng)) for _ in range(int(rng.integers(1, 5)))]
        others = [c for c in voc.THING_CATEGORIES if c != cat]
        specs += [_spec(str(rng.choice(others)), _colour(rng)) for _ in range(int(rng.integers(0, 3)))]
        scene = render_scene(rng, shape, specs, textured)
        n = len(scene.of_category(cat))
        return scene, f"How many {_plural(cat)} are there?", str(n), [cat]
    if kind == "colour":
        cat = str(rng.choice(shapes_pool))
        others = [c for c in voc.THING_CATEGORIES if c != cat]
        specs = [_spec(cat, _colour(rng))]
        specs += [_spec(str(rng.choice(others)), _colour(rng)) for _ in range(int(rng.integers(1, 3)))]
        scene = render_scene(rng, shape, specs, textured)
        (target,) = scene.of_category(cat)
        return scene, f"What color is the {cat}?", str(target.colour), [cat]
    if kind == "shape":
        cat = str(rng.choice(shapes_pool))
        colour = _colour(rng)
        n_other = int(rng.integers(1, 3))
        specs = [_spec(cat, colour)]
        specs += [_spec(str(rng.choice(voc.THING_CATEGORIES)), c)
                  for c in _other_colours(rng, {colour}, n_other)]
        scene = render_scene(rng, shape, specs, textured)
        return (scene, f"What shape is the {colour} object?",
                voc.SHAPE_CATEGORIES[cat][0], [cat])
    if kind == "exists":
        cat = str(rng.choice(pool))
        present = bool(rng.integers(2))
        others = [c for c in voc.THING_CATEGORIES if c != cat]
        specs = [_spec(cat, _colour(rng))] if present else []
        specs += [_spec(str(rng.choice(others)), _colour(rng)) for _ in range(int(rng.integers(1, 3)))]
        scene = render_scene(rng, shape, specs, textured)
        answer = "yes" if scene.of_category(cat) else "no"
        return scene, f"Is there a {cat} in the image?", answer, [cat]
    raise ValueError(f"unknown VQA kind {kind!r}; expected one of {VQA_KINDS}")


def describe(scene: Scene, target: Instance) -> str | None:
    """The shortest expression from our grammar that picks exactly ``target``, or None.

    Grammar: ``the <colour> <category>`` when that pair is unique; otherwise
    ``the <colour> <category> on the left|right`` when exactly two objects share the pair and
    they lie in opposite halves of the image (so "left" cannot be misread).
    """
    same = [i for i in scene.instances
            if i.category == target.category and i.colour == target.colour]
    phrase = f"the {target.colour} {target.category}"
    if len(same) == 1:
        return phrase
    if len(same) == 2:
        width = scene.label_map.shape[1]
        left, right = sorted(same, key=lambda i: i.box[0])
        if left.box[2] <= width // 2 <= right.box[0]:
            return f"{phrase} on the {'left' if target is left else 'right'}"
    return None


def build_refexp(rng: np.random.Generator, shape: tuple[int, int], pool: tuple[str, ...],
                 by_position: bool, textured: bool) -> tuple[Scene, Instance, str, list[str]]:
    """A scene with one target object and an expression that picks it.

    Args:
        pool: shape categories the target may come from.
        by_position: make a twin of the target (same category and colour) in the other image
            half, so the expression must say "on the left/right".

    Returns:
        (scene, target, expression, concept lemmas).
    """
    cat = str(rng.choice(pool))
    colour = _colour(rng)
    width = shape[1]
    others = [c for c in voc.SHAPE_CATEGORIES if c != cat]
    if by_position:
        halves = [(0, width // 2), (width // 2, width)]
        first = int(rng.integers(2))
        specs = [_spec(cat, colour, halves[first]), _spec(cat, colour, halves[1 - first])]
    else:
        specs = [_spec(cat, colour)]
        specs += [_spec(cat, c) for c in _other_colours(rng, {colour}, int(rng.integers(0, 3)))]
    specs += [_spec(str(rng.choice(others)), _colour(rng)) for _ in range(int(rng.integers(0, 2)))]
    scene = render_scene(rng, shape, specs, textured)
    target = scene.instances[0]
    expression = describe(scene, target)
    if expression is None:  # the twin did not fit in a way "left/right" can tell apart
        raise AssertionError("refexp scene without a unique expression")
    return scene, target, expression, [cat]
