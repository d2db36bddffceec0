"""VQAv2 / OK-VQA two-file format, VizWiz and A-OKVQA files written here."""
from __future__ import annotations

import json

import pytest

from grit_eval.datasets.vqa_format import read_aokvqa, read_vizwiz, read_vqa
from grit_eval.errors import DataError

ANSWERS = ["2", "two", "2", "2", "2", "3", "2", "2", "2", "2"]


def _vqa(tmp_path, questions=None, annotations=None):
    q = {"data_subtype": "val2014", "questions": questions or [
        {"question_id": 4200, "image_id": 42, "question": "How many dogs?"},
        {"question_id": 4201, "image_id": 42, "question": "What color?"}]}
    a = {"annotations": annotations or [
        {"question_id": 4201, "image_id": 42, "answer_type": "other",
         "multiple_choice_answer": "red", "answers": [{"answer": "red", "answer_id": 1}]},
        {"question_id": 4200, "image_id": 42, "answer_type": "number",
         "multiple_choice_answer": "2", "answers": [{"answer": x} for x in ANSWERS]}]}
    qp, ap = tmp_path / "q.json", tmp_path / "a.json"
    qp.write_text(json.dumps(q))
    ap.write_text(json.dumps(a))
    return qp, ap


def test_vqav2_joins_questions_and_annotations(tmp_path):
    qp, ap = _vqa(tmp_path)
    samples = read_vqa(qp, ap, "/coco/val2014")
    assert [s.example_id for s in samples] == ["4200", "4201"]  # questions-file order
    s = samples[0]
    assert s.task == "vqa" and s.task_query == "How many dogs?"
    assert s.image_path == "/coco/val2014/COCO_val2014_000000000042.jpg"
    assert s.target["answers"] == ANSWERS and s.target["answer_type"] == "number"
    assert s.target["multiple_choice_answer"] == "2"


def test_vqav2_hidden_answers_and_custom_template(tmp_path):
    qp, _ = _vqa(tmp_path)
    samples = read_vqa(qp, None, "/img", image_template="{image_id}.png")
    assert samples[0].target is None and samples[0].image_path == "/img/42.png"


def test_vqav2_without_subtype_needs_a_template(tmp_path):
    qp = tmp_path / "q.json"
    qp.write_text(json.dumps({"questions": [{"question_id": 1, "image_id": 2, "question": "?"}]}))
    with pytest.raises(DataError, match="no 'data_subtype'"):
        read_vqa(qp, None, "/img")
    assert read_vqa(qp, None, "/img", image_template="{image_id}.jpg")[0].image_path == "/img/2.jpg"


def test_vqav2_question_without_annotation(tmp_path):
    qp, ap = _vqa(tmp_path, annotations=[{"question_id": 4201, "answers": ["red"]}])
    with pytest.raises(DataError, match="question 4200: has no annotation"):
        read_vqa(qp, ap, "/img")


def test_vqav2_image_ids_disagree(tmp_path):
    qp, ap = _vqa(tmp_path, annotations=[
        {"question_id": 4200, "image_id": 7, "answers": ["2"]},
        {"question_id": 4201, "image_id": 42, "answers": ["red"]}])
    with pytest.raises(DataError, match="question 4200: image_id 7 differs"):
        read_vqa(qp, ap, "/img")


@pytest.mark.parametrize(
    "questions, annotations, match",
    [
        ([{"question_id": 1, "image_id": 1}], None, r"question #0: missing key\(s\) 'question'"),
        (None, [{"question_id": 4200}], r"annotation #0: missing key\(s\) 'answers'"),
        (None, [{"question_id": 4200, "answers": []}, {"question_id": 4201, "answers": ["x"]}],
         "question 4200: answers must be a non-empty list"),
        (None, [{"question_id": 4200, "answers": [{"answer": 2}]},
                {"question_id": 4201, "answers": ["x"]}], "is not a string"),
    ],
)
def test_vqav2_malformed(tmp_path, questions, annotations, match):
    qp, ap = _vqa(tmp_path, questions, annotations)
    with pytest.raises(DataError, match=match):
        read_vqa(qp, ap, "/img")


def test_vizwiz(tmp_path):
    path = tmp_path / "val.json"
    path.write_text(json.dumps([
        {"image": "VizWiz_val_00000000.jpg", "question": "What is this?", "answerable": 0,
         "answer_type": "unanswerable", "answers": [{"answer": "unanswerable"}] * 10},
        {"image": "VizWiz_val_00000001.jpg", "question": "Color?"},  # test-style, no answers
    ]))
    a, b = read_vizwiz(path, "/vizwiz/val")
    assert a.example_id == "VizWiz_val_00000000.jpg"
    assert a.image_path == "/vizwiz/val/VizWiz_val_00000000.jpg"
    assert a.target["answers"] == ["unanswerable"] * 10 and a.target["answerable"] == 0
    assert b.target is None
    path.write_text(json.dumps([{"question": "x"}]))
    with pytest.raises(DataError, match=r"record #0: missing key\(s\) 'image'"):
        read_vizwiz(path, "/v")


def _aokvqa(tmp_path, **changes):
    rec = {"question_id": "22jbM6gDxdaMaunuzgrsBB", "image_id": 461751, "question": "Why?",
           "choices": ["a", "b", "c", "d"], "correct_choice_idx": 2,
           "direct_answers": ["c"] * 10, "rationales": ["..."]}
    rec.update(changes)
    path = tmp_path / "aokvqa_v1p0_val.json"
    path.write_text(json.dumps([rec]))
    return path


def test_aokvqa_direct_answer_and_multiple_choice(tmp_path):
    path = _aokvqa(tmp_path)
    (da,) = read_aokvqa(path, "/coco/val2017")
    assert da.image_path == "/coco/val2017/000000461751.jpg"
    assert da.output_options is None and da.target["answers"] == ["c"] * 10
    assert da.target["choices"][da.target["correct_choice_idx"]] == "c"
    (mc,) = read_aokvqa(path, "/coco/val2017", multiple_choice=True)
    assert mc.output_options == ("a", "b", "c", "d")


@pytest.mark.parametrize(
    "changes, match",
    [({"correct_choice_idx": 4}, "correct_choice_idx 4 is not an index"),
     ({"choices": "abcd"}, "choices must be a list of strings"),
     ({"image_id": "x"}, "image_id must be an integer")],
)
def test_aokvqa_malformed(tmp_path, changes, match):
    with pytest.raises(DataError, match=match):
        read_aokvqa(_aokvqa(tmp_path, **changes), "/c")


def test_top_level_must_be_list(tmp_path):
    path = tmp_path / "val.json"
    path.write_text(json.dumps({"questions": []}))
    with pytest.raises(DataError, match="the top level must be a JSON list"):
        read_vizwiz(path, "/v")
