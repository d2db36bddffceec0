"""COCO person keypoints (``person_keypoints_<split>.json``) as ``keypoint`` samples.

One ``Sample`` per image of the file (images with no person too: COCOeval counts detections
there as false positives), task ``keypoint``, ``task_query`` "person", ``example_id`` = the
COCO image id as a string.

``target`` keys: ``points`` (one ``[x, y, v] * 17`` list per non-crowd person with at least
one labelled keypoint: the GRIT keypoint ground-truth field, for the per-sample OKS score),
``image_id`` (int), ``annotation_file`` (absolute path of the JSON, which
``metrics.coco_keypoints.coco_keypoint_ap`` needs whole for COCO AP/AR), ``num_crowd``.
"""
from __future__ import annotations

from pathlib import Path

from grit_eval.datasets.json_files import load_json, record_error, require_keys, require_list
from grit_eval.errors import DataError
from grit_eval.types import Sample

_N_KEYPOINTS = 17


def read_coco_keypoints(
    annotation_file: str | Path, image_dir: str | Path, *, only_with_people: bool = False
) -> list[Sample]:
    """Reads a COCO person-keypoints annotation file.

    Args:
        annotation_file: ``person_keypoints_<split>.json``.
        image_dir: folder of that split's images (``file_name`` is relative to it).
        only_with_people: keep only images with at least one labelled person.

    Returns:
        One sample per image, in the file's image order.
    """
    path = Path(annotation_file).resolve()
    data = load_json(path)
    images = require_list(data, "images", path)
    annotations = require_list(data, "annotations", path)
    categories = require_list(data, "categories", path)
    if not any(isinstance(c, dict) and "keypoints" in c for c in categories):
        raise DataError(f"{path}: no category has a 'keypoints' list; is this a keypoints file?")

    points: dict[int, list[list[float]]] = {}
    crowd: dict[int, int] = {}
    image_ids = set()
    for k, img in enumerate(images):
        require_keys(img, ("id", "file_name"), path, f"image #{k}")
        image_ids.add(img["id"])
    for k, ann in enumerate(annotations):
        ann_id = f"annotation {ann.get('id', '#' + str(k))}" if isinstance(ann, dict) else k
        require_keys(ann, ("image_id", "keypoints"), path, ann_id)
        if ann["image_id"] not in image_ids:
            raise record_error(path, ann_id, f"image_id {ann['image_id']} is not in 'images'")
        kps = ann["keypoints"]
        if not isinstance(kps, list) or len(kps) != 3 * _N_KEYPOINTS:
            raise record_error(path, ann_id, "keypoints must be 51 numbers ([x, y, v] * 17)")
        if ann.get("iscrowd", 0):
            crowd[ann["image_id"]] = crowd.get(ann["image_id"], 0) + 1
        elif any(v > 0 for v in kps[2::3]):
            points.setdefault(ann["image_id"], []).append([float(v) for v in kps])

    samples = []
    for img in images:
        if only_with_people and img["id"] not in points:
            continue
        samples.append(Sample(
            example_id=str(img["id"]),
            task="keypoint",
            image_path=str(Path(image_dir) / img["file_name"]),
            task_query="person",
            target={
                "points": points.get(img["id"], []),
                "image_id": img["id"],
                "annotation_file": str(path),
                "num_crowd": crowd.get(img["id"], 0),
            },
        ))
    return samples
