"""Per-dataset leaderboard table: paper shape, scales, merging, missing cells, bad input."""
from __future__ import annotations

import pytest

from results.dataset_tables import (dataset_leaderboard_frame, dataset_leaderboard_markdown,
                                    format_value)


def doc(dataset, split, task, **metrics):
    return {"dataset": dataset, "split": split, "task": task, "metrics": metrics}


def test_rows_are_runs_and_columns_follow_the_paper_order():
    entries = [
        ("uio-xl", doc("vqav2", "val2014", "vqa", vqa_accuracy=0.779)),
        ("uio-xl", doc("nyuv2_depth", "test", "depth", rmse=0.3854, abs_rel=0.1)),
        ("uio-xl", doc("coco_captions", "val2014", "captioning", cider_d=1.268)),
        ("prior", doc("vqav2", "val2014", "vqa", vqa_accuracy=0.3)),
    ]
    frame = dataset_leaderboard_frame(entries)
    assert list(frame.columns) == ["run", "nyuv2_depth/test RMSE", "vqav2/val2014 acc",
                                   "coco_captions/val2014 CIDEr"]
    assert frame["run"].tolist() == ["uio-xl", "prior"]
    # The paper prints 0.385 m, 77.9 and 126.8 for these numbers.
    assert frame.iloc[0].tolist()[1:] == ["0.385", "77.9", "126.8"]
    # prior has no depth or caption run: visible as missing, not dropped.
    assert frame.iloc[1].tolist()[1:] == ["missing", "30.0", "missing"]


def test_all_columns_lists_every_metric_of_each_dataset():
    entries = [("m", doc("refcoco", "testA", "refexp", accuracy=0.5, mean_iou=0.25))]
    frame = dataset_leaderboard_frame(entries, columns="all")
    assert list(frame.columns) == ["run", "refcoco/testA accuracy", "refcoco/testA mean_iou"]
    assert frame.iloc[0].tolist() == ["m", "50.0", "25.0"]


def test_splits_of_one_dataset_are_separate_columns():
    entries = [("m", doc("refcoco", "testB", "refexp", accuracy=0.6)),
               ("m", doc("refcoco", "testA", "refexp", accuracy=0.7))]
    frame = dataset_leaderboard_frame(entries)
    assert list(frame.columns) == ["run", "refcoco/testA Acc@0.5", "refcoco/testB Acc@0.5"]
    assert frame.iloc[0].tolist() == ["m", "70.0", "60.0"]


@pytest.mark.parametrize("value,expected", [
    (0.12345, "12.3"), (-1.0, "-1"), (float("nan"), "missing"), (None, "missing"),
    (True, "missing"), ("0.5", "missing"),
])
def test_format_value(value, expected):
    assert format_value(value, 100.0, 1) == expected


def test_keypoint_minus_one_is_kept_as_cocoeval_reports_it():
    frame = dataset_leaderboard_frame([("m", doc("coco_keypoints", "val2017", "keypoint", AP=-1.0))])
    assert frame.iloc[0, 1] == "-1"


def test_markdown_has_a_header_row_per_column():
    text = dataset_leaderboard_markdown([("m", doc("imagenet", "val", "classification",
                                                   top1_accuracy=0.791))])
    assert "| run | imagenet/val top-1 |" in text and "| m | 79.1 |" in text


def test_a_grit_metrics_dict_is_refused_with_a_clear_error():
    with pytest.raises(ValueError, match="no 'dataset'.*GRIT metrics.json"):
        dataset_leaderboard_frame([("m", {"acc.any.agg.vqa.mean": 50.0})])


def test_unknown_task_and_column_mode_are_refused():
    with pytest.raises(ValueError, match="unknown per-dataset task 'segmentation'"):
        dataset_leaderboard_frame([("m", doc("x", "val", "segmentation", iou=1.0))])
    with pytest.raises(ValueError, match="columns must be"):
        dataset_leaderboard_frame([], columns="some")
