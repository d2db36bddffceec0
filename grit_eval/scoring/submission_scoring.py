"""The one scoring path of a GRIT submission, shared by ``grit-eval-score`` and ``grit-eval`` runs.

``score_submission_tasks`` reads each task's predictions from an opened submission, scores
them against the ground truth with ``sample_scorer.score_samples`` (worker processes for large
sets, so a run's thousands of normal maps are scored in parallel, as the scorer does), builds
the records frame and the official leaderboard metrics; ``write_metrics_json`` writes them.
A run's ``metrics.json`` and ``grit-eval-score``'s ``<subset>_metrics.json`` for the same
submission are therefore the same bytes. The callers differ only in what an unscorable sample
does: the scorer stops with an error, a run scores it 0 and records why (``lenient``).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from grit_eval.errors import DataError, SubmissionError
from grit_eval.run.atomic import write_text_atomic
from grit_eval.scoring.sample_scorer import sample_outcome, score_samples
from grit_eval.scoring.submission_reader import read_predictions
from grit_eval.types import GRIT_TASKS, Sample


@dataclass
class ScoredSubmission:
    """What scoring a submission gives.

    Attributes:
        metrics: the official leaderboard dict (``<subset>_metrics.json`` content).
        records: the records frame (``results.records``), rows in GRIT task order, each task's
            samples in ground-truth order.
        missing: tasks without a prediction file (they count as 0 in cross-task averages).
        unscorable: (task, example_id) -> why, for samples scored 0 in lenient mode.
    """

    metrics: dict[str, Any]
    records: Any
    missing: list[str]
    unscorable: dict[tuple[str, str], str] = field(default_factory=dict)


def score_submission_tasks(submission, truth: Mapping[str, tuple[str, Sequence[Sample]]], *,
                           gt_normals_dir: Path | None,
                           lemma2groups: Mapping[str, Sequence[str]],
                           lenient: bool, log: logging.Logger) -> ScoredSubmission:
    """Score every task of an opened submission against its ground truth.

    Args:
        submission: an open ``submission_reader`` submission.
        truth: task -> (file or label named in messages, GT samples in official order).
            Tasks absent here and without a prediction file count as missing.
        gt_normals_dir: folder of the GT normal PNGs.
        lemma2groups: lemma -> concept groups.
        lenient: True scores an unscorable sample 0 and records why (runs); False raises.
        log: where warnings go.

    Raises:
        SubmissionError / DataError: a missing or foreign prediction, an unreadable file, or
            (not lenient) an unscorable sample.
    """
    from results.leaderboard import leaderboard_metrics
    from results.records import records_frame

    outcomes, missing, unscorable = [], [], {}
    for task in GRIT_TASKS:
        if not submission.task_file(task).is_file():
            if task in truth:
                log.warning("%s: no %s.json: %s scores 0 in every cross-task average",
                            submission.label, task, task)
            missing.append(task)
            continue
        gt_name, samples = truth.get(task, (f"the ground truth of {task}", ()))
        pairs = _pairs(submission, task, gt_name, samples)
        results = score_samples(pairs, gt_normals_dir=gt_normals_dir,
                                pred_normals_dir=submission.normals_dir)
        pred_name = submission.name(submission.task_file(task))
        for (sample, pred), (status, value) in zip(pairs, results):
            if status == "unscorable":
                message = submission.relabel(value)
                if not lenient:
                    raise SubmissionError(f"{pred_name}: {sample.example_id}: {message}")
                unscorable[(task, sample.example_id)] = f"unscorable: {message}"
                log.warning("%s %s: unscorable: %s", task, sample.example_id, message)
                value = 0.0
            elif status != "ok":
                raise (DataError if status == "DataError" else SubmissionError)(
                    submission.relabel(value))
            outcomes.append(sample_outcome(sample, value, pred["confidence"]))
    records = records_frame(outcomes, lemma2groups)
    metrics = leaderboard_metrics(records, submission.params_in_millions, missing)
    return ScoredSubmission(metrics, records, missing, unscorable)


def _pairs(submission, task: str, gt_name: str, samples: Sequence[Sample]) -> list[tuple]:
    """(sample, prediction) in GT order; every GT sample predicted, no foreign id."""
    predictions = read_predictions(submission, task)
    pred_name = submission.name(submission.task_file(task))
    pairs = []
    for sample in samples:
        pred = predictions.get(sample.target["example_id"])
        if pred is None:
            raise SubmissionError(f"{pred_name}: {sample.target['example_id']}: "
                                  "no prediction for this ground-truth sample")
        pairs.append((sample, pred))
    foreign = set(predictions).difference(s.target["example_id"] for s in samples)
    if foreign:
        raise SubmissionError(f"{pred_name}: {min(foreign)}: not a sample of the ground "
                              f"truth {gt_name} ({len(foreign)} such id(s))")
    return pairs


def metrics_json(metrics: Mapping[str, Any]) -> str:
    """The metrics file's text: the official ``dump_json_object`` layout (indent 4, sorted
    keys), the same bytes for a run and for ``grit-eval-score``."""
    return json.dumps(metrics, indent=4, sort_keys=True)


def write_metrics_json(path: Path, metrics: Mapping[str, Any]) -> None:
    write_text_atomic(path, metrics_json(metrics))
