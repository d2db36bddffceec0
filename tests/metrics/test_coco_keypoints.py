"""COCO keypoint AP: our wrapper must give exactly what COCOeval gives on the same files."""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from metrics.coco_keypoints import KEYPOINT_STAT_NAMES, coco_keypoint_ap
from metrics.errors import UnscorableInput


def _person(ann_id, image_id, x0, y0, rng):
    xs = x0 + rng.uniform(0, 60, 17)
    ys = y0 + rng.uniform(0, 120, 17)
    kps = np.stack([xs, ys, np.full(17, 2.0)], 1).round(1).ravel().tolist()
    return {"id": ann_id, "image_id": image_id, "category_id": 1, "iscrowd": 0,
            "keypoints": kps, "num_keypoints": 17, "area": 60.0 * 120 * 0.6,
            "bbox": [x0, y0, 60.0, 120.0]}


@pytest.fixture()
def coco_files(tmp_path):
    rng = np.random.default_rng(0)
    anns = [_person(k + 1, 1 + k % 3, 10 + 70 * (k // 3), 20, rng) for k in range(7)]
    gt = {"images": [{"id": i, "width": 640, "height": 480, "file_name": f"{i}.jpg"}
                     for i in (1, 2, 3)],
          "annotations": anns,
          "categories": [{"id": 1, "name": "person", "supercategory": "person",
                          "keypoints": [f"k{i}" for i in range(17)], "skeleton": []}]}
    dets = []
    for a in anns[:6]:  # one person missed; noisy keypoints; one false positive
        kps = np.array(a["keypoints"]).reshape(17, 3)
        kps[:, :2] += rng.normal(0, 2.0 + a["id"], (17, 2))
        dets.append({"image_id": a["image_id"], "category_id": 1,
                     "keypoints": kps.ravel().tolist(), "score": float(rng.uniform(0.3, 1))})
    dets.append({"image_id": 2, "category_id": 1, "score": 0.9,
                 "keypoints": (np.tile([500.0, 400.0, 1.0], 17)).tolist()})
    gt_path, dt_path = tmp_path / "person_keypoints_val.json", tmp_path / "results.json"
    gt_path.write_text(json.dumps(gt))
    dt_path.write_text(json.dumps(dets))
    return gt_path, dt_path


def _reference(gt_path, dt_path, img_ids=None):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        dt = gt.loadRes(str(dt_path))
        ev = COCOeval(gt, dt, "keypoints")
        if img_ids is not None:
            ev.params.imgIds = img_ids
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats


def test_equals_cocoeval_on_same_files(coco_files, capsys):
    gt_path, dt_path = coco_files
    gt, dets = json.loads(gt_path.read_text()), json.loads(dt_path.read_text())
    ours = coco_keypoint_ap(gt, dets)
    assert capsys.readouterr().out == ""  # pycocotools' prints are swallowed
    assert list(ours) == list(KEYPOINT_STAT_NAMES)
    np.testing.assert_array_equal([ours[k] for k in KEYPOINT_STAT_NAMES], _reference(*coco_files))
    assert 0.0 < ours["AP"] < 1.0  # a non-trivial case
    assert dets[0].keys() == {"image_id", "category_id", "keypoints", "score"}  # not mutated


def test_image_subset_equals_cocoeval_subset(coco_files):
    gt_path, dt_path = coco_files
    gt, dets = json.loads(gt_path.read_text()), json.loads(dt_path.read_text())
    ours = coco_keypoint_ap(gt, dets, image_ids=[1, 3])
    np.testing.assert_array_equal([ours[k] for k in KEYPOINT_STAT_NAMES],
                                  _reference(*coco_files, img_ids=[1, 3]))


def test_no_detections_scores_zero(coco_files):
    gt = json.loads(coco_files[0].read_text())
    assert coco_keypoint_ap(gt, [])["AP"] == 0.0


@pytest.mark.parametrize(
    "det, match",
    [({"image_id": 1, "category_id": 1, "keypoints": [0.0] * 51}, "score"),
     ({"image_id": 99, "category_id": 1, "keypoints": [0.0] * 51, "score": 1}, "image 99"),
     ({"image_id": 1, "category_id": 1, "keypoints": [0.0] * 50, "score": 1}, "triples")],
)
def test_bad_detections(coco_files, det, match):
    gt = json.loads(coco_files[0].read_text())
    with pytest.raises(UnscorableInput, match=match):
        coco_keypoint_ap(gt, [det])


def test_gt_annotation_missing_key(coco_files):
    gt = json.loads(coco_files[0].read_text())
    del gt["annotations"][2]["num_keypoints"]
    with pytest.raises(UnscorableInput, match=r"annotation 3 has no \['num_keypoints'\]"):
        coco_keypoint_ap(gt, [])


def test_gt_missing_key():
    with pytest.raises(UnscorableInput, match="categories"):
        coco_keypoint_ap({"images": [], "annotations": []}, [])
