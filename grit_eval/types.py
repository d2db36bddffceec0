"""Core value types that flow through the harness (see ARCHITECTURE.md).

All are frozen dataclasses holding plain Python / numpy values, so they are cheap to
build in tests and safe to pass between layers. Boxes are always corner format
``[x1, y1, x2, y2]`` in pixels of the original image, as GRIT uses throughout.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

# The seven GRIT tasks, in the order the official evaluator and leaderboard list them.
GRIT_TASKS: tuple[str, ...] = (
    "categorization",
    "localization",
    "vqa",
    "refexp",
    "segmentation",
    "keypoint",
    "normal",
)

# Short names used in the official metric keys (`acc.any.agg.<short>.mean`).
TASK_SHORT_NAMES: Mapping[str, str] = {
    "categorization": "cat",
    "localization": "loc",
    "vqa": "vqa",
    "refexp": "ref",
    "segmentation": "seg",
    "keypoint": "kp",
    "normal": "sn",
}

# The submission field each task's prediction carries.
TASK_OUTPUT_FIELD: Mapping[str, str] = {
    "categorization": "words",
    "vqa": "words",
    "localization": "bboxes",
    "refexp": "bboxes",
    "segmentation": "masks",
    "keypoint": "points",
    "normal": "normal",
    # Per-dataset tasks (issue 6). A depth prediction names a 16-bit PNG in millimetres,
    # stored as an artifact beside the prediction, like a normal map.
    "captioning": "words",
    "classification": "words",
    "depth": "depth",
}


@dataclass(frozen=True)
class SampleMeta:
    """Leaderboard flags and concepts of one sample (GT ``meta`` block).

    ``None`` flags mean the split does not say (e.g. the public GRIT samples files).
    """

    data_source: str | None = None
    is_new_source: bool | None = None
    has_new_concept: bool | None = None
    is_distorted: bool | None = None
    lemmas: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sample:
    """One evaluation example, in any split (GRIT or a native per-dataset format).

    Attributes:
        example_id: unique id within the split; distorted GRIT copies end in ``_dist``.
        task: one of ``GRIT_TASKS`` or a per-dataset task name (e.g. ``captioning``, ``depth``).
        image_path: absolute path of the input image.
        task_query: category / question / expression / "person", or None.
        task_bbox: ``[x1, y1, x2, y2]`` pixels (categorization only) or None.
        output_options: candidate answers (categorization / classification) or None.
        target: the ground-truth block (GRIT ``output`` dict, or the dataset's own), None when
            hidden (GRIT ablation/test).
        meta: leaderboard flags and lemmas.
        gt_query: the ground truth's ``input.task_query`` (segmentation reads "(Stuff)" there).
    """

    example_id: str
    task: str
    image_path: str
    task_query: str | None = None
    task_bbox: tuple[float, float, float, float] | None = None
    output_options: tuple[str, ...] | None = None
    target: Mapping[str, Any] | None = None
    meta: SampleMeta = field(default_factory=SampleMeta)
    gt_query: str | None = None

    def to_request(self) -> "Request":
        return Request(
            example_id=self.example_id,
            task=self.task,
            image_path=self.image_path,
            task_query=self.task_query,
            task_bbox=self.task_bbox,
            output_options=self.output_options,
        )


@dataclass(frozen=True)
class Request:
    """What a model may see of a sample: everything but the target and the meta flags."""

    example_id: str
    task: str
    image_path: str
    task_query: str | None = None
    task_bbox: tuple[float, float, float, float] | None = None
    output_options: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Prediction:
    """A model's answer to one request, in GRIT submission terms.

    Attributes:
        example_id, task: copied from the request.
        output: the task's submission field(s), e.g. ``{"words": "dog"}``,
            ``{"bboxes": [[x1, y1, x2, y2], ...]}``, ``{"masks": [{"size": [H, W], "counts": str}]}``,
            ``{"points": [[x, y, v] * 17, ...]}``, ``{"normal": "<file>.png"}``.
        confidence: in [0, 1].
        error: why the adapter could not answer (the output is then empty, confidence 0).
        artifacts: files the prediction refers to, as ``{file name: bytes}`` (normal PNGs).
    """

    example_id: str
    task: str
    output: Mapping[str, Any]
    confidence: float
    error: str | None = None
    artifacts: Mapping[str, bytes] = field(default_factory=dict)
