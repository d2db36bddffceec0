"""GRIT file reader: the three schemas, the data-root layout, and one clear error per defect."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from grit_eval.data.grit_reader import (
    read_ground_truth, read_lemma2groups, read_official_examples, read_split,
)
from grit_eval.errors import DataError


def test_official_examples(golden_dir):
    folder = golden_dir / "grit" / "official_examples"
    samples = read_official_examples(folder / "samples.json", folder)
    assert len(samples) == 14
    by_id = {s.example_id: s for s in samples}
    cat = by_id["categorization_0"]
    assert cat.task == "categorization" and cat.target["words"] == ["carrot"]
    assert cat.task_bbox == (185, 295, 228, 346) and cat.output_options is None
    assert cat.meta.data_source == "coco_cat" and cat.meta.is_distorted is False
    assert all(Path(s.image_path).is_file() for s in samples)
    assert Path(by_id["normal_1"].target["out_image_name"]).is_file()
    assert by_id["vqa_0"].task_query == "What is she swinging?"
    assert by_id["segmentation_0"].gt_query == "watch"
    assert "bboxes" not in cat.target  # null GT fields are dropped


def _write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


PUBLIC = {"example_id": "c1", "image_id": "coco/x.jpg", "task_name": "categorization",
          "task_query": None, "task_bbox": [1, 2, 30, 40], "output_options": "coco_categories"}
TRUTH = {"input": {"example_id": "c1", "task_query": None},
         "output": {"example_id": "c1", "words": ["dog"]},
         "meta": {"data_source": "coco", "is_new_source": True, "has_new_concept": False,
                  "is_distorted": False, "concepts": [{"lemma": "dog"}]}}


@pytest.fixture
def root(tmp_path):
    _write(tmp_path / "samples" / "ablation" / "categorization.json", [PUBLIC])
    _write(tmp_path / "ground_truth" / "ablation" / "categorization.json", [TRUTH])
    _write(tmp_path / "output_options" / "coco_categories.json", ["cat", "dog"])
    return tmp_path


def test_read_split_merges_ground_truth(root):
    (sample,) = read_split(root, "ablation", ["categorization"])
    assert sample.image_path == str(root / "images" / "coco" / "x.jpg")
    assert sample.output_options == ("cat", "dog")
    assert sample.target == {"example_id": "c1", "words": ["dog"]}
    assert sample.meta.is_new_source is True and sample.meta.lemmas == ("dog",)


def test_read_split_public_only_has_no_target(root):
    (root / "ground_truth" / "ablation" / "categorization.json").unlink()
    (sample,) = read_split(root, "ablation", ["categorization"])
    assert sample.target is None and sample.meta.is_new_source is None


def test_read_ground_truth_defaults_task_from_file_name(root):
    (sample,) = read_ground_truth(root / "ground_truth" / "ablation" / "categorization.json")
    assert sample.task == "categorization" and sample.image_path == ""


def _expect(path: Path, match: str, call):
    with pytest.raises(DataError) as info:
        call()
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert match in message, message


@pytest.mark.parametrize(
    "public, truth, match",
    [
        ({**PUBLIC, "task_name": "vqa"}, None, "c1: task_name is 'vqa'"),
        ({**PUBLIC, "task_bbox": [1, 2, 3]}, None, "c1: task_bbox must be [x1, y1, x2, y2]"),
        ({**PUBLIC, "example_id": 7}, None, "entry 0: example_id must be a str"),
        ({**PUBLIC, "output_options": "nope"}, None, "output_options file"),
        (None, {**TRUTH, "output": {"example_id": "c1"}}, "c1: output has no 'words' field"),
        (None, {**TRUTH, "output": {"example_id": "c1", "words": "dog"}}, "c1: output 'words' must be a list of str"),
        (None, {**TRUTH, "meta": {**TRUTH["meta"], "is_distorted": "no"}}, "c1: meta.is_distorted"),
        (None, {**TRUTH, "input": {"example_id": "other"}}, "no ground truth for this public sample"),
    ],
)
def test_malformed_files_name_file_and_example(root, public, truth, match):
    if public is not None:
        path = _write(root / "samples" / "ablation" / "categorization.json", [public])
    if truth is not None:
        path = _write(root / "ground_truth" / "ablation" / "categorization.json", [truth])
    if "output_options file" in match or "no ground truth" in match:
        path = root / ("samples" if public else "ground_truth") / "ablation" / "categorization.json"
    _expect(path, match, lambda: read_split(root, "ablation", ["categorization"]))


def test_not_json_and_missing_files(root):
    bad = root / "ground_truth" / "ablation" / "categorization.json"
    bad.write_text("{oops")
    _expect(bad, "not valid JSON", lambda: read_split(root, "ablation", ["categorization"]))
    missing = root / "samples" / "ablation" / "vqa.json"
    _expect(missing, "file not found", lambda: read_split(root, "ablation", ["vqa"]))


def test_bad_ground_truth_masks_and_points(tmp_path):
    seg = {**TRUTH, "output": {"example_id": "c1", "masks": [{"shape": [2, 2], "counts": "x"}]}}
    path = _write(tmp_path / "segmentation.json", [seg])
    _expect(path, "c1: masks[0] has no 'size' key (found 'shape'", lambda: read_ground_truth(path))
    kp = {**TRUTH, "output": {"example_id": "c1", "points": [[0] * 50]}}
    path = _write(tmp_path / "keypoint.json", [kp])
    _expect(path, "points[0] must have 51 numbers", lambda: read_ground_truth(path))


def test_lemma2groups(tmp_path):
    good = _write(tmp_path / "l2g.json", {"dog": ["animals"], "cup": ["kitchen_objects", "household_objects"]})
    assert read_lemma2groups(good)["cup"] == ("kitchen_objects", "household_objects")
    bad = _write(tmp_path / "bad.json", {"dog": "animals"})
    _expect(bad, "dog: groups must be a list of str", lambda: read_lemma2groups(bad))


@pytest.mark.parametrize("folder", ["samples", "ground_truth"])
def test_duplicated_example_id_is_named_as_such(root, folder):
    """Not "no ground truth for this public sample" (issue 13, item 14)."""
    entry = PUBLIC if folder == "samples" else TRUTH
    path = _write(root / folder / "ablation" / "categorization.json", [entry, entry])
    with pytest.raises(DataError, match=f"^{path}: c1: duplicated example id$"):
        read_split(root, "ablation", ["categorization"])
