"""Unified-IO prompt templates and prompt building for the GRIT tasks (spec section 6).

The templates are the training strings of the released runner, spacing included: spaces
around the quote marks and before ``?`` / ``.``. GRIT refexp falls from 78.9 to 0.1 when
that spacing is "fixed" (spec, "Prompt sensitivity"), so never tidy them.

``{}`` is the slot; it is filled with ``str.replace`` as the reference does (so braces in a
query are harmless). Slots per task:

* categorization: the 4 location tokens of ``task_bbox`` (``region_tokens``);
* localization / refexp: the category name / expression, verbatim;
* vqa: the question itself, lower-cased (the reference lower-cases it; its template is ``{}``);
* segmentation: the category with the "(Stuff)" marker removed **[inferred]**: GRIT writes
  stuff queries as e.g. ``grass (Stuff)``, a form never seen in training;
* keypoint: the 4 location tokens of a person box found by localizing "person" first
  **[inferred]** (GRIT gives only the image; UIO-2's runner does the same);
* normal: no slot.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping, Sequence

import numpy as np

from grit_eval.types import Request
from model_adapters.unified_io import vocab

# Named templates, exactly as in the reference runner (`uio/runner.py`).
PROMPT_TEMPLATES: dict[str, str] = {
    "refexp": 'Which region does the text " {} " describe ?',
    "localization": 'Which region does the text " {} " describe ?',  # same as refexp
    "categorization": 'What is the category of region " {} " ?',
    "segmentation": 'What is the segmentation of " {} " ?',
    "keypoint": 'Find the human joints in the region " {} " .',
    "normal": "What is the surface normal of the image ?",
    "vqa": "{}",  # no template: the lower-cased question itself
    # Not used by GRIT; kept so per-dataset tasks and prompt studies can name them.
    "caption": "What does the image describe ?",
    "depth": "What is the depth map of the image ?",
    "region_caption": 'What does the region " {} " describe ?',
    "tagging": "What is this in the image ?",
    "inpainting": 'Filling the blank region " {} " ?',
    "generation": 'What is the complete image? Text: " {} " .',
}

# The template each GRIT task uses by default.
DEFAULT_TASK_TEMPLATES: Mapping[str, str] = MappingProxyType({
    "categorization": "categorization",
    "localization": "localization",
    "vqa": "vqa",
    "refexp": "refexp",
    "segmentation": "segmentation",
    "keypoint": "keypoint",
    "normal": "normal",
})

_SLOT = "{}"
_TASKS_WITH_SLOT = frozenset({"categorization", "localization", "vqa", "refexp",
                              "segmentation", "keypoint"})
_STUFF_MARKER = "(Stuff)"


@dataclass(frozen=True)
class PromptSet:
    """Per-task template strings; a config replaces some of them for a prompt study.

    Attributes:
        name: label of the set (used in robustness tables), "default" for the paper's.
        templates: task -> template string (with ``{}`` where the task has a slot).
        lowercase_query: tasks whose query is lower-cased before filling the slot.
    """

    name: str = "default"
    templates: Mapping[str, str] = field(default_factory=lambda: {
        task: PROMPT_TEMPLATES[tname] for task, tname in DEFAULT_TASK_TEMPLATES.items()})
    lowercase_query: frozenset[str] = frozenset({"vqa"})

    def __post_init__(self):
        for task, template in self.templates.items():
            _check_template(task, template)
        object.__setattr__(self, "templates", MappingProxyType(dict(self.templates)))

    def with_templates(self, name: str, overrides: Mapping[str, str]) -> "PromptSet":
        """A copy where each `overrides` value (a template name or a literal template
        string) replaces that task's template."""
        new = dict(self.templates)
        for task, value in overrides.items():
            new[task] = PROMPT_TEMPLATES.get(value, value)
        return replace(self, name=name, templates=new)

    def template_for(self, task: str) -> str:
        if task not in self.templates:
            raise ValueError(f"prompt set {self.name!r} has no template for task {task!r}; "
                             f"it has {sorted(self.templates)}")
        return self.templates[task]


def _check_template(task: str, template: str) -> None:
    if not isinstance(template, str) or not template.strip():
        raise ValueError(f"template for task {task!r} must be a non-empty string")
    if task in _TASKS_WITH_SLOT and _SLOT not in template:
        raise ValueError(f"template for task {task!r} needs a '{{}}' slot: {template!r}")


def region_tokens(box_xyxy: Sequence[float], image_wh: Sequence[float]) -> str:
    """Location-token text of a box, as the reference's `region_to_tokens` writes it.

    Order y1 x1 y2 x2; bin = int32 truncation of ``999 * (v / max(w, h))`` (the reference
    divides by the long side first, then multiplies by 999), clipped to 0..999 (the reference
    does not clip; out-of-image boxes would make ids outside the bin range).

    Args:
        box_xyxy: [x1, y1, x2, y2] pixels of the original image.
        image_wh: (width, height) of the original image, pixels.

    Returns:
        e.g. ``"<extra_id_150> <extra_id_200> <extra_id_900> <extra_id_700>"``.
    """
    try:
        box = np.asarray(box_xyxy, np.float64).reshape(-1)
        size = np.asarray(image_wh, np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"box must be 4 numbers [x1, y1, x2, y2] and image_wh 2 numbers, "
                         f"got box {box_xyxy!r}, image_wh {image_wh!r}") from None
    if box.shape != (4,) or not np.all(np.isfinite(box)):
        raise ValueError(f"box must be 4 finite numbers [x1, y1, x2, y2], got {box_xyxy!r}")
    if size.shape != (2,) or not np.all(np.isfinite(size)) or np.any(size <= 0):
        raise ValueError(f"image_wh must be 2 positive numbers (width, height), got {image_wh!r}")
    yx = box[[1, 0, 3, 2]] / size.max()
    bins = np.clip((999 * yx).astype(np.int32), 0, vocab.NUM_LOCATION_BINS - 1)
    return " ".join(vocab.location_token_text(int(b)) for b in bins)


def strip_stuff_marker(query: str) -> str:
    """``"grass (Stuff)"`` -> ``"grass"`` **[inferred]** (see module docstring)."""
    return query.replace(_STUFF_MARKER, "").strip()


def build_prompt(task: str, request: Request, template: str | None = None, *,
                 prompt_set: PromptSet | None = None, image_wh: Sequence[float] | None = None,
                 box_xyxy: Sequence[float] | None = None) -> str:
    """The prompt text for one request.

    Args:
        task: a GRIT task name (normally ``request.task``).
        request: supplies ``task_query`` and ``task_bbox``.
        template: a template name of `PROMPT_TEMPLATES` or a literal template string;
            overrides the prompt set's template for this task.
        prompt_set: defaults to the paper's templates.
        image_wh: (width, height) of the original image; needed when the slot holds a box
            (categorization, keypoint).
        box_xyxy: the person box for keypoint prompts, pixels.

    Raises:
        ValueError: unknown task, missing query/box/image size, or a template without slot.
    """
    pset = prompt_set or PromptSet()
    text = pset.template_for(task) if template is None else PROMPT_TEMPLATES.get(template, template)
    _check_template(task, text)
    if task not in _TASKS_WITH_SLOT:
        return text
    if task in ("categorization", "keypoint"):
        box = request.task_bbox if task == "categorization" else box_xyxy
        if box is None:
            what = "request.task_bbox" if task == "categorization" else "box_xyxy (a person box)"
            raise ValueError(f"{task} prompt needs {what}")
        if image_wh is None:
            raise ValueError(f"{task} prompt needs image_wh to place the box")
        slot = region_tokens(box, image_wh)
    else:
        if not isinstance(request.task_query, str) or not request.task_query.strip():
            raise ValueError(f"{task} prompt needs a non-empty task_query, got "
                             f"{request.task_query!r}")
        slot = request.task_query
        if task == "segmentation":
            slot = strip_stuff_marker(slot)
        if task in pset.lowercase_query:
            slot = slot.lower()
    return text.replace(_SLOT, slot)
