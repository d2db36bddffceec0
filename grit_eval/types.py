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

# Request kinds: what an answer must be, whatever the task. The harness groups a run's
# requests by kind and calls the adapter method of the same name (model_adapters/protocol.py);
# an adapter implements only the kinds it supports.
GENERATE_TEXT = "generate_text"  # free text (VQA answers, captions)
CHOOSE_OPTION = "choose_option"  # one of the request's output_options
LOCALIZE_BOXES = "localize_boxes"  # [x1, y1, x2, y2] boxes
LOCATE_KEYPOINTS = "locate_keypoints"  # 17 COCO joints per person
SEGMENT_MASKS = "segment_masks"  # binary masks (RLE)
DENSE_MAP = "dense_map"  # a per-pixel map stored as a PNG artifact (normals, depth)
REQUEST_KINDS: tuple[str, ...] = (GENERATE_TEXT, CHOOSE_OPTION, LOCALIZE_BOXES, LOCATE_KEYPOINTS,
                                  SEGMENT_MASKS, DENSE_MAP)


@dataclass(frozen=True)
class Headline:
    """The number a per-dataset table prints for a task: metric key, column label, print
    scale (x100 for shares) and decimals."""

    metric: str
    label: str
    scale: float
    decimals: int


@dataclass(frozen=True)
class TaskSpec:
    """Everything task-specific outside the readers and the metric functions, once.

    Attributes:
        kind: the request kind (REQUEST_KINDS) the adapter is asked for.
        output_field: the submission field its prediction carries.
        grit_metric: ``"module:function"`` of the GRIT per-sample metric (None: not a GRIT task).
        dataset_scorer: ``"module:function"`` scoring a per-dataset split of this task
            (``(samples, predictions, artifact_dir) -> (metrics, rows)``; None: GRIT only).
        headline: the per-dataset table's column (None when there is no dataset scorer).
    """

    kind: str
    output_field: str
    grit_metric: str | None = None
    dataset_scorer: str | None = None
    headline: Headline | None = None


_DS = "grit_eval.run.dataset_scoring"
# The one task table. GRIT tasks first, in GRIT_TASKS order; a per-dataset task reuses its
# GRIT namesake's entry. A depth prediction names a 16-bit PNG in millimetres, stored as an
# artifact beside the prediction, like a normal map.
TASKS: Mapping[str, TaskSpec] = {
    "categorization": TaskSpec(CHOOSE_OPTION, "words", "metrics.categorization:categorization_score"),
    "localization": TaskSpec(LOCALIZE_BOXES, "bboxes", "metrics.localization:localization_score"),
    "vqa": TaskSpec(GENERATE_TEXT, "words", "metrics.vqa:grit_vqa_score", f"{_DS}:score_vqa",
                    Headline("vqa_accuracy", "acc", 100.0, 1)),
    "refexp": TaskSpec(LOCALIZE_BOXES, "bboxes", "metrics.refexp:refexp_score", f"{_DS}:score_refexp",
                       Headline("accuracy", "Acc@0.5", 100.0, 1)),
    "segmentation": TaskSpec(SEGMENT_MASKS, "masks", "metrics.segmentation:segmentation_score"),
    "keypoint": TaskSpec(LOCATE_KEYPOINTS, "points", "metrics.keypoint:keypoint_score",
                         f"{_DS}:score_keypoint", Headline("AP", "AP", 100.0, 1)),
    "normal": TaskSpec(DENSE_MAP, "normal", "metrics.normal:normal_score", f"{_DS}:score_normal",
                       Headline("mean_angle_deg", "mean angle", 1.0, 1)),
    "captioning": TaskSpec(GENERATE_TEXT, "words", None, f"{_DS}:score_captioning",
                           Headline("cider_d", "CIDEr", 100.0, 1)),
    "classification": TaskSpec(CHOOSE_OPTION, "words", None, f"{_DS}:score_classification",
                               Headline("top1_accuracy", "top-1", 100.0, 1)),
    "depth": TaskSpec(DENSE_MAP, "depth", None, f"{_DS}:score_depth", Headline("rmse", "RMSE", 1.0, 3)),
}
# Views of the table the callers index by task.
TASK_OUTPUT_FIELD: Mapping[str, str] = {task: spec.output_field for task, spec in TASKS.items()}
TASK_KIND: Mapping[str, str] = {task: spec.kind for task, spec in TASKS.items()}
DATASET_TASKS: tuple[str, ...] = tuple(t for t, spec in TASKS.items() if spec.dataset_scorer)


class SettingsError(ValueError):
    """An adapter's settings are missing, unknown or unusable (raised by ``from_settings``);
    the harness reports it as one ``error:`` line, like its own configuration errors."""


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

    @property
    def kind(self) -> str:
        """The request kind (REQUEST_KINDS) of its task."""
        return TASK_KIND[self.task]


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
        trace: what the model saw and said, for per-sample studies: ``prompt`` (the rendered
            prompt), ``raw`` (decoded text before post-processing) and, where cheap, ``tokens``
            or ``option_scores``; JSON values or numpy arrays (one of more than 64 elements is
            written to its own ``.npy`` file and referenced by name). Kept in the prediction's
            store line and written to the run's ``sample_logs.jsonl`` (``run.sample_logs``),
            never to the submission.
    """

    example_id: str
    task: str
    output: Mapping[str, Any]
    confidence: float
    error: str | None = None
    artifacts: Mapping[str, bytes] = field(default_factory=dict)
    trace: Mapping[str, Any] = field(default_factory=dict)
