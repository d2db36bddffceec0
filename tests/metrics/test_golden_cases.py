"""Golden vectors from the official GRIT scorer (all tasks but surface normals).

Provenance: ../shared/golden/grit/ (see its README): `example_cases.json` scored by
allenai/grit_official f1860b39 in its 2022 environment (`example_scores.json`), with the
keypoint `vis` NameError fixed. Every non-normal case is compared to 1e-9, the per-sample
`record` measures included; cases where the official code raised check our documented
behaviour instead.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from metrics.calibration import sample_measures
from metrics.categorization import categorization_score
from metrics.errors import UnscorableInput
from metrics.keypoint import keypoint_score
from metrics.localization import localization_score
from metrics.refexp import refexp_score
from metrics.rle import rle_encode
from metrics.segmentation import is_stuff_query, segmentation_score
from metrics.vqa import grit_vqa_score

TASKS = ("categorization", "localization", "refexp", "vqa", "segmentation", "keypoint")


def _load(golden_dir: Path, name: str):
    with open(golden_dir / "grit" / name) as f:
        return json.load(f)


def _cases(golden_dir: Path) -> list[dict]:
    cases = _load(golden_dir, "example_cases.json")
    return [case for task in TASKS for case in cases[task]]


def _masks(block: dict) -> list:
    # The README: `masks_dense` 0/1 arrays were RLE-encoded with pycocotools before scoring.
    if "masks_dense" in block:
        return [rle_encode(np.asarray(m, dtype=np.uint8)) for m in block["masks_dense"]]
    return block["masks"]


def _score(case: dict) -> float:
    gt = case["sample"]["output"] if "sample" in case else case["gt"]
    pred = case["prediction"]
    task = case.get("task") or _task_of(case)
    if task == "categorization":
        return categorization_score(pred["words"], gt["words"])
    if task == "localization":
        return localization_score(pred["bboxes"], gt["bboxes"])
    if task == "refexp":
        return refexp_score(pred["bboxes"], gt["bboxes"])
    if task == "vqa":
        return grit_vqa_score(pred["words"], gt["words"])
    if task == "segmentation":
        return segmentation_score(_masks(pred), _masks(gt), is_stuff_query(case["sample"]["input"]["task_query"]))
    if task == "keypoint":
        return keypoint_score(pred["points"], gt["points"])
    raise AssertionError(task)


def _task_of(case: dict) -> str:
    prefix = case["id"].split("_")[0]
    return {"cat": "categorization", "loc": "localization", "ref": "refexp", "vqa": "vqa",
            "seg": "segmentation", "kp": "keypoint"}[prefix]


@pytest.fixture(scope="module")
def golden(golden_dir):
    scores = {r["id"]: r for r in _load(golden_dir, "example_scores.json")}
    return _cases(golden_dir), scores


def test_every_non_normal_case_is_covered(golden):
    cases, scores = golden
    expected = {r["id"] for r in scores.values() if r["task"] in TASKS}
    assert {c["id"] for c in cases} == expected
    assert len(expected) >= 60


def test_scores_and_records_match_official(golden):
    cases, scores = golden
    checked = 0
    for case in cases:
        ref = scores[case["id"]]
        if ref["error"]:
            continue
        score = _score(case)
        assert math.isclose(score, ref["score"], rel_tol=0, abs_tol=1e-9), (case["id"], score, ref["score"])
        conf = case["prediction"].get("confidence", 1.0)  # README: missing confidence = 1.0
        measures = sample_measures(np.array([score]), np.array([conf]))
        for name, value in ref["record"].items():
            assert math.isclose(measures[name][0], value, rel_tol=0, abs_tol=1e-9), (case["id"], name)
        checked += 1
    assert checked >= 55


def _case(golden, case_id):
    cases, scores = golden
    return next(c for c in cases if c["id"] == case_id), scores


def test_stuff_with_size_mismatch_gets_documented_resize_value(golden):
    # Official: cv2.resize rejects the bool merged mask. Ours: resize the merged mask. This case
    # has the same single pred/GT masks as seg_lowres_pred, so it must get that official score.
    case, scores = _case(golden, "seg_stuff_lowres_pred")
    assert scores["seg_stuff_lowres_pred"]["error"]
    twin, _ = _case(golden, "seg_lowres_pred")
    assert case["prediction"]["masks_dense"] == twin["prediction"]["masks_dense"]
    assert case["sample"]["output"]["masks_dense"] == twin["sample"]["output"]["masks_dense"]
    assert math.isclose(_score(case), scores["seg_lowres_pred"]["score"], rel_tol=0, abs_tol=1e-12)


def test_gt_keypoint_instance_without_labels_is_unscorable(golden):
    case, scores = _case(golden, "kp_gt_all_unlabeled")
    assert scores[case["id"]]["error"]
    with pytest.raises(UnscorableInput, match="ground-truth keypoint instance 0 has no labeled keypoint"):
        _score(case)


def test_short_keypoint_prediction_is_unscorable(golden):
    case, scores = _case(golden, "kp_short_pred")
    assert scores[case["id"]]["error"]
    with pytest.raises(UnscorableInput, match="predicted keypoint instance 0 has 34 values"):
        _score(case)


def test_no_other_official_errors_in_non_normal_cases(golden):
    cases, scores = golden
    errors = {c["id"] for c in cases if scores[c["id"]]["error"]}
    assert errors == {"seg_stuff_lowres_pred", "kp_gt_all_unlabeled", "kp_short_pred"}
