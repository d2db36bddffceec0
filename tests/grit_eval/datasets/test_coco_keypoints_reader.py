"""COCO person-keypoints reader on small files written here (named *_reader: the metric test
module is tests/metrics/test_coco_keypoints.py)."""
from __future__ import annotations

import json

import pytest

from grit_eval.datasets.coco_keypoints import read_coco_keypoints
from grit_eval.errors import DataError

KP = [10.0, 20.0, 2] + [0, 0, 0] * 16  # one labelled keypoint


def _gt():
    return {
        "images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "b.jpg"},
                   {"id": 3, "file_name": "c.jpg"}],
        "annotations": [
            {"id": 11, "image_id": 1, "keypoints": KP, "iscrowd": 0},
            {"id": 12, "image_id": 1, "keypoints": [0] * 51, "iscrowd": 0},  # no labelled kp
            {"id": 13, "image_id": 2, "keypoints": [0] * 51, "iscrowd": 1},
        ],
        "categories": [{"id": 1, "name": "person", "keypoints": ["nose"] * 17}],
    }


def _write(tmp_path, data):
    path = tmp_path / "person_keypoints_val2017.json"
    path.write_text(json.dumps(data))
    return path


def test_one_sample_per_image_with_points(tmp_path):
    path = _write(tmp_path, _gt())
    samples = read_coco_keypoints(path, "/coco/val2017")
    assert [s.example_id for s in samples] == ["1", "2", "3"]
    s1, s2, _ = samples
    assert s1.task == "keypoint" and s1.task_query == "person"
    assert s1.image_path == "/coco/val2017/a.jpg"
    assert s1.target["points"] == [[float(v) for v in KP]]  # unlabelled person left out
    assert s2.target["points"] == [] and s2.target["num_crowd"] == 1
    assert s1.target["annotation_file"] == str(path.resolve())
    only = read_coco_keypoints(path, "/img", only_with_people=True)
    assert [s.example_id for s in only] == ["1"]


def test_target_points_feed_the_grit_keypoint_score(tmp_path):
    from metrics.keypoint import keypoint_score

    gt = _gt()
    person = [float(v) for k in range(17) for v in (10 + 3 * k, 20 + 5 * k, 2)]
    gt["annotations"][0]["keypoints"] = person
    target = read_coco_keypoints(_write(tmp_path, gt), "/img")[0].target
    assert keypoint_score(target["points"], target["points"]) == 1.0
    assert keypoint_score([], target["points"]) == 0.0


def test_not_a_keypoints_file(tmp_path):
    gt = _gt()
    gt["categories"] = [{"id": 1, "name": "person"}]
    with pytest.raises(DataError, match="no category has a 'keypoints' list"):
        read_coco_keypoints(_write(tmp_path, gt), "/img")


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda g: g["annotations"][0].pop("keypoints"),
         r"annotation 11: missing key\(s\) 'keypoints'"),
        (lambda g: g["annotations"][0].update(image_id=9), "annotation 11: image_id 9 is not in"),
        (lambda g: g["annotations"][0].update(keypoints=[1, 2, 3]),
         "annotation 11: keypoints must be 51"),
        (lambda g: g["images"][1].pop("file_name"), r"image #1: missing key\(s\) 'file_name'"),
        (lambda g: g.pop("annotations"), "'annotations' list"),
    ],
)
def test_malformed(tmp_path, mutate, match):
    gt = _gt()
    mutate(gt)
    with pytest.raises(DataError, match=match):
        read_coco_keypoints(_write(tmp_path, gt), "/img")


def test_not_json(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("{nope")
    with pytest.raises(DataError, match="not valid JSON"):
        read_coco_keypoints(path, "/img")
