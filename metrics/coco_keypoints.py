"""COCO keypoint AP/AR: pycocotools' own ``COCOeval(iouType="keypoints")``, not a rewrite.

torchmetrics' history (about ten bug-fix rounds of a hand-written mAP before wrapping
pycocotools) is why this only builds the in-memory ``COCO`` objects, runs the official
evaluate / accumulate / summarize, silences their prints and returns the 10 numbers by name.
"""
from __future__ import annotations

import contextlib
import copy
import io
from typing import Any, Iterable, Mapping, Sequence

from metrics.errors import UnscorableInput

# COCOeval.summarize() order for iouType="keypoints" (maxDets=20 throughout).
KEYPOINT_STAT_NAMES = (
    "AP", "AP50", "AP75", "AP_medium", "AP_large",
    "AR", "AR50", "AR75", "AR_medium", "AR_large",
)
_DET_KEYS = ("image_id", "category_id", "keypoints", "score")
# What COCOeval(iouType="keypoints") reads from every ground-truth annotation.
_GT_KEYS = ("id", "image_id", "category_id", "keypoints", "num_keypoints", "area", "bbox",
            "iscrowd")


def coco_keypoint_ap(
    ground_truth: Mapping[str, Any],
    detections: Sequence[Mapping[str, Any]],
    *,
    image_ids: Iterable[int] | None = None,
) -> dict[str, float]:
    """Runs pycocotools' keypoint evaluation on in-memory data.

    Args:
        ground_truth: a COCO person-keypoints dataset dict (``images``, ``annotations``,
            ``categories``), as loaded from ``person_keypoints_<split>.json``.
        detections: COCO results: ``{"image_id", "category_id", "keypoints": [x, y, v] * 17
            (pixels), "score"}`` per detected person. Not modified.
        image_ids: evaluate only these images (e.g. after ``limit``/``subset``); default all.

    Returns:
        The 10 ``COCOeval.stats`` by name (``KEYPOINT_STAT_NAMES``); -1 where COCOeval has no
        ground truth for an area range, as it reports.

    Raises:
        UnscorableInput: the ground truth lacks a key (COCOeval would raise KeyError deep
            inside), a detection lacks a key or names an image that is not in the ground truth.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    for key in ("images", "annotations", "categories"):
        if key not in ground_truth:
            raise UnscorableInput(f"keypoint ground truth has no {key!r} list")
    for i, ann in enumerate(ground_truth["annotations"]):
        missing = [k for k in _GT_KEYS if k not in ann]
        if missing:
            raise UnscorableInput(f"ground-truth annotation {ann.get('id', i)!r} has no {missing}")
    known = {img["id"] for img in ground_truth["images"]}
    for i, det in enumerate(detections):
        missing = [k for k in _DET_KEYS if k not in det]
        if missing:
            raise UnscorableInput(f"detection {i} has no {missing}")
        if det["image_id"] not in known:
            raise UnscorableInput(f"detection {i} is for image {det['image_id']!r}, not in the GT")
        if len(det["keypoints"]) % 3:
            raise UnscorableInput(f"detection {i}: keypoints must be [x, y, v] triples")

    quiet = io.StringIO()  # pycocotools prints progress; callers get the numbers instead
    with contextlib.redirect_stdout(quiet):
        gt = COCO()
        gt.dataset = copy.deepcopy(dict(ground_truth))
        gt.createIndex()
        if detections:
            dt = gt.loadRes(copy.deepcopy(list(detections)))
        else:
            # loadRes([]) raises IndexError; an empty result set must still score 0.
            dt = COCO()
            dt.dataset = {"images": list(gt.dataset["images"]), "annotations": [],
                          "categories": copy.deepcopy(gt.dataset["categories"])}
            dt.createIndex()
        evaluator = COCOeval(gt, dt, iouType="keypoints")
        if image_ids is not None:
            evaluator.params.imgIds = sorted(set(image_ids))
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return {name: float(v) for name, v in zip(KEYPOINT_STAT_NAMES, evaluator.stats)}
