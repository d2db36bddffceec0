"""Visual question answering files: VQAv2 / OK-VQA, VizWiz-VQA and A-OKVQA.

All readers give one ``Sample`` per question, task ``vqa``, ``task_query`` = the question.

``target`` keys (None when the split's answers are hidden, e.g. VQAv2 test-dev):
``answers`` (the annotators' answers, raw, duplicates kept: the official VQAv2 accuracy
counts them), ``question_id``, ``image_id`` and, where the format has them,
``answer_type``, ``multiple_choice_answer`` (VQAv2), ``answerable`` (VizWiz),
``choices`` / ``correct_choice_idx`` (A-OKVQA).

* VQAv2 / OK-VQA: ``<...>_questions.json`` ``{data_subtype, questions: [{question_id,
  image_id, question}]}`` + ``<...>_annotations.json`` ``{annotations: [{question_id,
  answers: [{answer}], ...}]}``; image files ``COCO_<data_subtype>_<image_id:012d>.jpg``.
* VizWiz: one ``<split>.json`` list of ``{image, question, answers: [{answer}]}``;
  the question id is the image file name (VizWiz has one question per image).
* A-OKVQA: one ``aokvqa_v1p0_<split>.json`` list of ``{question_id, image_id, question,
  choices, correct_choice_idx, direct_answers}``; images ``<image_id:012d>.jpg`` (COCO 2017).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from grit_eval.datasets.json_files import load_json, record_error, require_keys, require_list
from grit_eval.errors import DataError
from grit_eval.types import Sample

VQAV2_IMAGE_TEMPLATE = "COCO_{subtype}_{image_id:012d}.jpg"


def read_vqa(
    questions_file: str | Path,
    annotations_file: str | Path | None,
    image_dir: str | Path,
    *,
    image_template: str = VQAV2_IMAGE_TEMPLATE,
) -> list[Sample]:
    """Reads VQAv2 / OK-VQA questions and (optionally) their annotations.

    Args:
        questions_file: the questions JSON.
        annotations_file: the annotations JSON, or None for a split with hidden answers.
        image_dir: folder of the images.
        image_template: file name from ``{subtype}`` (the questions' ``data_subtype``) and
            ``{image_id}``.

    Returns:
        One sample per question, in the questions file's order.
    """
    q_path = Path(questions_file)
    q_data = load_json(q_path)
    questions = require_list(q_data, "questions", q_path)
    subtype = q_data.get("data_subtype")
    if subtype is None and "{subtype" in image_template:
        raise DataError(f"{q_path}: no 'data_subtype' (e.g. \"val2014\") to name the image "
                        "files; pass image_template without {subtype}")
    answers: dict[Any, dict] | None = None
    if annotations_file is not None:
        a_path = Path(annotations_file)
        answers = {}
        for k, ann in enumerate(require_list(load_json(a_path), "annotations", a_path)):
            require_keys(ann, ("question_id", "answers"), a_path, f"annotation #{k}")
            answers[ann["question_id"]] = ann
    samples = []
    for k, q in enumerate(questions):
        require_keys(q, ("question_id", "image_id", "question"), q_path, f"question #{k}")
        qid = q["question_id"]
        target = None
        if answers is not None:
            ann = answers.get(qid)
            if ann is None:
                raise record_error(a_path, f"question {qid}", "has no annotation")
            if ann.get("image_id", q["image_id"]) != q["image_id"]:
                raise record_error(a_path, f"question {qid}", f"image_id {ann['image_id']} "
                                   f"differs from the questions file's {q['image_id']}")
            target = {
                "answers": _answer_strings(ann["answers"], a_path, qid),
                "question_id": qid,
                "image_id": q["image_id"],
                "answer_type": ann.get("answer_type"),
                "multiple_choice_answer": ann.get("multiple_choice_answer"),
            }
        try:
            name = image_template.format(subtype=subtype, image_id=q["image_id"])
        except (ValueError, KeyError, IndexError) as err:
            raise record_error(q_path, f"question {qid}", f"image name template failed ({err})")
        samples.append(Sample(
            example_id=str(qid), task="vqa", image_path=str(Path(image_dir) / name),
            task_query=str(q["question"]), target=target,
        ))
    return samples


def read_vizwiz(annotations_file: str | Path, image_dir: str | Path) -> list[Sample]:
    """Reads a VizWiz-VQA ``train.json`` / ``val.json`` / ``test.json`` (no answers in test)."""
    path = Path(annotations_file)
    samples = []
    for k, rec in enumerate(require_list(load_json(path), None, path)):
        require_keys(rec, ("image", "question"), path, f"record #{k}")
        qid = rec["image"]
        target = None
        if "answers" in rec:
            target = {
                "answers": _answer_strings(rec["answers"], path, qid),
                "question_id": qid,
                "image_id": qid,
                "answer_type": rec.get("answer_type"),
                "answerable": rec.get("answerable"),
            }
        samples.append(Sample(
            example_id=str(qid), task="vqa", image_path=str(Path(image_dir) / qid),
            task_query=str(rec["question"]), target=target,
        ))
    return samples


def read_aokvqa(
    annotations_file: str | Path, image_dir: str | Path, *, multiple_choice: bool = False
) -> list[Sample]:
    """Reads an A-OKVQA ``aokvqa_v1p0_<split>.json``.

    Args:
        annotations_file: the A-OKVQA JSON list.
        image_dir: folder of the COCO 2017 images of that split.
        multiple_choice: give the four ``choices`` as ``output_options`` (the MC setting);
            by default the direct-answer setting, with no options shown.
    """
    path = Path(annotations_file)
    samples = []
    for k, rec in enumerate(require_list(load_json(path), None, path)):
        require_keys(rec, ("question_id", "image_id", "question", "choices"), path,
                     f"record #{k}")
        qid = rec["question_id"]
        choices = rec["choices"]
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise record_error(path, f"question {qid}", "choices must be a list of strings")
        target = None
        if "direct_answers" in rec:
            idx = rec.get("correct_choice_idx")
            if idx is not None and not (isinstance(idx, int) and 0 <= idx < len(choices)):
                raise record_error(path, f"question {qid}",
                                   f"correct_choice_idx {idx!r} is not an index into choices")
            target = {
                "answers": _answer_strings(rec["direct_answers"], path, qid),
                "question_id": qid,
                "image_id": rec["image_id"],
                "choices": list(choices),
                "correct_choice_idx": idx,
            }
        if not isinstance(rec["image_id"], int):
            raise record_error(path, f"question {qid}", "image_id must be an integer")
        samples.append(Sample(
            example_id=str(qid), task="vqa",
            image_path=str(Path(image_dir) / f"{rec['image_id']:012d}.jpg"),
            task_query=str(rec["question"]),
            output_options=tuple(choices) if multiple_choice else None,
            target=target,
        ))
    return samples


def _answer_strings(answers: Any, path: Path, qid: Any) -> list[str]:
    """``[{answer: str}, ...]`` or ``[str, ...]`` as a list of strings."""
    if not isinstance(answers, list) or not answers:
        raise record_error(path, f"question {qid}", "answers must be a non-empty list")
    out = []
    for a in answers:
        text = a.get("answer") if isinstance(a, dict) else a
        if not isinstance(text, str):
            raise record_error(path, f"question {qid}", f"answer {a!r} is not a string")
        out.append(text)
    return out

