"""Score a finished per-dataset run (``EvalSplit.is_grit`` False) from its prediction store.

Writes into the run directory:

* ``records.jsonl``: one line per sample: ``dataset``, ``split``, ``task``, ``example_id``,
  ``score`` (the task's per-sample headline measure, below), ``confidence``, ``error`` and
  the task's other per-sample measures; NaN is written as null;
* ``metrics.json``: ``{"dataset", "split", "task", "metrics": {name: value}, "count",
  "errors", "run"}``;
* ``leaderboard.md``: the per-dataset table of ``results.dataset_tables``.

| task | per-sample ``score`` | corpus ``metrics`` (units) |
|---|---|---|
| refexp | hit: IoU > 0.5 (0/1); also ``iou`` | ``accuracy`` (share), ``mean_iou`` |
| vqa | VQAv2 accuracy in [0, 1], ``data.vqa_rule`` (A-OKVQA: its own rule) | ``vqa_accuracy`` (share) |
| captioning | per-image CIDEr-D | ``cider_d`` (CIDEr units, x10 included; papers print x100) |
| classification | top-1 correct (0/1) | ``top1_accuracy`` (share) |
| keypoint | GRIT OKS score | COCOeval ``AP`` ... ``AR_large``, ``oks_mean`` |
| depth | per-image RMSE (m); also abs_rel, delta1..3 | mean over images of each (m / shares) |
| normal | per-image mean angle (deg) | pooled pixels: ``mean/median/rmse_angle_deg``, ``within_<t>`` |

Corpus metrics (CIDEr's document frequency, keypoint AP) are computed once over the whole
evaluated split, never averaged from batches. A sample whose prediction failed or cannot be
scored gets the worst honest answer and its record says why: refexp IoU 0, VQA/top-1 0, an
empty caption, no person detected, a depth map of zeros (clipped to the 1 mm floor) or a
normal map with no direction (180 degrees at every valid pixel).
"""
from __future__ import annotations

import json
import logging
from functools import partial
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from grit_eval.errors import ConfigError, DataError
from grit_eval.registry import resolve
from grit_eval.run.atomic import write_json_atomic, write_jsonl_atomic, write_text_atomic
from grit_eval.splits import EvalSplit
from grit_eval.types import Prediction
from metrics.errors import UnscorableInput

log = logging.getLogger(__name__)

Rows = list[dict[str, Any]]


def score_dataset_run(run_dir: Path, split: EvalSplit,
                      predictions: Mapping[str, Mapping[str, Prediction]], artifact_dir: Path,
                      run_name: str, vqa_rule: str | None = None) -> tuple[dict, str]:
    """Score every task of a per-dataset split and write the run's result files.

    Args:
        run_dir: the run directory.
        split: a per-dataset split with ground truth.
        predictions: task -> example id -> stored prediction.
        artifact_dir: folder of the predicted depth / normal PNGs.
        run_name: the leaderboard row label.
        vqa_rule: ``metrics.vqa.vqav2_accuracy``'s rule for VQAv2 / OK-VQA / VizWiz
            (None: ``"official"``).

    Returns:
        (the ``metrics.json`` document, the leaderboard Markdown).
    """
    from results.dataset_tables import dataset_leaderboard_markdown

    dataset = split.name.split("/")[0]
    tasks = split.tasks()
    if len(tasks) != 1:
        raise DataError(f"{split.name}: a per-dataset split holds one task, found {tasks}")
    task = tasks[0]
    if task not in predictions:
        raise ConfigError(f"no {task} predictions for {split.name}: the adapter does not "
                          f"support {task}")
    samples = [s for s in split.samples if s.target is not None]
    preds = [predictions[task].get(s.example_id) for s in samples]
    scorer = resolve("dataset_scorer", task)
    if task == "vqa":
        scorer = partial(scorer, rule=vqa_rule or "official")
    metrics, rows = scorer(samples, preds, Path(artifact_dir))
    errors = 0
    for row, sample, pred in zip(rows, samples, preds):
        row.setdefault("error", None if pred is None else pred.error)
        if pred is None and row["error"] is None:
            row["error"] = "no prediction in the store"
        errors += row["error"] is not None
        row.update(dataset=dataset, split=split.subset, task=task, example_id=sample.example_id,
                   confidence=0.0 if pred is None else float(pred.confidence))
    doc = {"dataset": dataset, "split": split.subset, "task": task, "metrics": metrics,
           "count": len(samples), "errors": errors, "run": run_name}
    write_jsonl_atomic(run_dir / "records.jsonl", rows)
    write_json_atomic(run_dir / "metrics.json", doc, indent=4)
    table = dataset_leaderboard_markdown([(run_name, doc)])
    write_text_atomic(run_dir / "leaderboard.md", f"# {run_name}\n\n{table}")
    return doc, table


def _output(pred: Prediction | None, field: str) -> Any:
    """The prediction's field, or None when there is no usable prediction."""
    if pred is None or pred.error is not None:
        return None
    return pred.output.get(field)


def score_refexp(samples, preds, artifact_dir) -> tuple[dict, Rows]:
    from metrics.refexp_accuracy import paired_iou, refexp_accuracy

    # GRIT and the RefCOCO papers score only the FIRST (top) predicted box.
    boxes = [_output(p, "bboxes") or [[0.0, 0.0, 0.0, 0.0]] for p in preds]
    pred = np.array([b[0] for b in boxes], np.float64)
    gt = np.array([s.target["bboxes"][0] for s in samples], np.float64)
    summary = refexp_accuracy(pred, gt)
    iou = paired_iou(pred, gt)
    rows = [{"score": float(v > 0.5), "iou": float(v)} for v in iou]
    return {"accuracy": summary["accuracy"], "mean_iou": summary["mean_iou"]}, rows


def aokvqa_direct_accuracy(prediction: str, direct_answers: list[str]) -> float:
    """A-OKVQA direct-answer accuracy as its official ``eval_predictions.py`` computes it.

    ``min(1, #exact matches / 3)`` over the 10 direct answers: no leave-one-out and no
    answer normalisation (the released direct answers are already normalised), unlike VQAv2.
    """
    if not isinstance(prediction, str):
        raise UnscorableInput(f"predicted answer must be a str, got {type(prediction).__name__}")
    return min(1.0, sum(prediction == a for a in direct_answers) / 3.0)


def score_vqa(samples, preds, artifact_dir, rule: str) -> tuple[dict, Rows]:
    from metrics.vqa import vqav2_accuracy

    rows = []
    for sample, pred in zip(samples, preds):
        words = _output(pred, "words")
        row: dict[str, Any] = {"score": 0.0}
        # Only the A-OKVQA reader gives "choices"; VQAv2, OK-VQA and VizWiz use VQAv2's rule.
        accuracy = (aokvqa_direct_accuracy if "choices" in sample.target
                    else partial(vqav2_accuracy, rule=rule))
        if words is not None:
            try:
                row["score"] = accuracy(words, sample.target["answers"])
            except UnscorableInput as exc:
                row["error"] = f"unscorable: {exc}"
        rows.append(row)
    return {"vqa_accuracy": float(np.mean([r["score"] for r in rows]))}, rows


def score_captioning(samples, preds, artifact_dir) -> tuple[dict, Rows]:
    from metrics.captioning import cider_d

    candidates, references = {}, {}
    for sample, pred in zip(samples, preds):
        words = _output(pred, "words")
        candidates[sample.example_id] = words if isinstance(words, str) else ""
        references[sample.example_id] = list(sample.target["captions"])
    try:
        corpus, per_image = cider_d(candidates, references)
    except UnscorableInput as exc:
        raise DataError(f"cannot compute CIDEr-D: {exc}") from None
    return {"cider_d": corpus}, [{"score": per_image[s.example_id]} for s in samples]


def score_classification(samples, preds, artifact_dir) -> tuple[dict, Rows]:
    from metrics.classification import top1_correct

    rows = []
    for sample, pred in zip(samples, preds):
        words = _output(pred, "words")
        rows.append({"score": 0.0 if words is None else top1_correct(words, sample.target["label"])})
    return {"top1_accuracy": float(np.mean([r["score"] for r in rows]))}, rows


def score_keypoint(samples, preds, artifact_dir) -> tuple[dict, Rows]:
    from metrics.coco_keypoints import coco_keypoint_ap
    from metrics.keypoint import keypoint_score

    files = {s.target["annotation_file"] for s in samples}
    if len(files) != 1:
        raise DataError(f"keypoint samples come from several annotation files: {sorted(files)}")
    ground_truth = json.loads(Path(files.pop()).read_text())
    person = [c["id"] for c in ground_truth["categories"] if "keypoints" in c][0]
    detections, rows = [], []
    for sample, pred in zip(samples, preds):
        people = _output(pred, "points") or []
        confidence = 0.0 if pred is None else float(pred.confidence)
        detections += [{"image_id": sample.target["image_id"], "category_id": person,
                        "keypoints": list(p), "score": confidence} for p in people]
        row: dict[str, Any] = {"score": 0.0}
        try:
            row["score"] = float(keypoint_score(people, sample.target["points"]))
        except UnscorableInput as exc:
            row["error"] = f"unscorable: {exc}"
        rows.append(row)
    try:
        stats = coco_keypoint_ap(ground_truth, detections,
                                 image_ids=[s.target["image_id"] for s in samples])
    except UnscorableInput as exc:
        raise DataError(f"cannot compute COCO keypoint AP: {exc}") from None
    return {**stats, "oks_mean": float(np.mean([r["score"] for r in rows]))}, rows


def _read_prediction_png(pred: Prediction | None, field: str, artifact_dir: Path,
                         shape: tuple[int, ...]) -> tuple[np.ndarray | None, str | None]:
    """The predicted map as an array of ``shape``'s height and width, or (None, why)."""
    from PIL import Image, UnidentifiedImageError

    name = _output(pred, field)
    if name is None:
        return None, None
    path = artifact_dir / name
    try:
        with Image.open(path) as image:
            array = np.asarray(image if field == "depth" else image.convert("RGB"))
    except (FileNotFoundError, UnidentifiedImageError, OSError) as exc:
        return None, f"unscorable: predicted {field} map {path} is unreadable ({exc})"
    if array.shape[:2] != tuple(shape[:2]):
        return None, (f"unscorable: predicted {field} map is {array.shape[0]}x{array.shape[1]} "
                      f"(HxW), the ground truth {shape[0]}x{shape[1]}; maps are not resized")
    return array, None


def score_depth(samples, preds, artifact_dir) -> tuple[dict, Rows]:
    from grit_eval.datasets.nyuv2 import load_depth_png
    from metrics.depth import DEPTH_METRICS, aggregate_depth, depth_metrics

    per_image, rows = [], []
    for sample, pred in zip(samples, preds):
        gt = load_depth_png(sample.target["depth_path"], sample.target["depth_scale"])
        raw, problem = _read_prediction_png(pred, "depth", artifact_dir, gt.shape)
        if raw is not None and raw.ndim != 2:
            raw, problem = None, f"unscorable: predicted depth PNG must be 16-bit grayscale, got {raw.shape}"
        # Predictions are always millimetres (TASK_OUTPUT_FIELD "depth"), whatever the GT scale.
        depth = np.zeros_like(gt) if raw is None else raw.astype(np.float64) * 1e-3
        row: dict[str, Any] = {"error": problem} if problem else {}
        try:
            m = depth_metrics(depth, gt)
        except UnscorableInput as exc:
            # No valid GT pixel: the image cannot enter the mean (the standard scripts would NaN).
            row.update(score=float("nan"), error=f"unscorable ground truth: {exc}")
            rows.append(row)
            continue
        per_image.append(m)
        row.update(score=m["rmse"], **{k: m[k] for k in DEPTH_METRICS if k != "rmse"})
        rows.append(row)
    try:
        summary = aggregate_depth(per_image)
    except UnscorableInput as exc:
        raise DataError(f"cannot compute depth metrics: {exc}") from None
    return {k: summary[k] for k in DEPTH_METRICS}, rows


def score_normal(samples, preds, artifact_dir) -> tuple[dict, Rows]:
    from grit_eval.datasets.nyuv2 import load_normal_png
    from metrics.normal_angular import angular_errors, decode_normal_png, summarize_angular_errors

    errors, rows = [], []
    for sample, pred in zip(samples, preds):
        gt, valid = decode_normal_png(load_normal_png(sample.target["normal_path"]))
        rgb, problem = _read_prediction_png(pred, "normal", artifact_dir, gt.shape)
        # No usable prediction: zero vectors, which angular_errors counts as 180 degrees.
        normals = np.zeros_like(gt) if rgb is None else decode_normal_png(rgb)[0]
        e = angular_errors(normals, gt, valid)
        errors.append(e)
        row: dict[str, Any] = {"error": problem} if problem else {}
        row["score"] = float(e.mean()) if e.size else float("nan")
        rows.append(row)
    try:
        s = summarize_angular_errors(errors)
    except UnscorableInput as exc:
        raise DataError(f"cannot compute normal metrics: {exc}") from None
    metrics = {"mean_angle_deg": s["mean"], "median_angle_deg": s["median"],
               "rmse_angle_deg": s["rmse"]}
    metrics.update({k: v for k, v in s.items() if k.startswith("within_")})
    return metrics, rows
