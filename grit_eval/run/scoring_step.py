"""Score a run's submission folder against its split's ground truth.

The run scores the files it wrote into ``submission/<subset>/`` with the same functions as
``grit-eval-score``, so a run's metrics and ``grit-eval-score`` on its zip agree exactly, and
a replayed submission reproduces the scorer. Unlike the scorer, one sample that cannot be
scored (``UnscorableInput``) does not stop a run: it scores 0 and its record says why.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping

from grit_eval.run.atomic import write_json_atomic, write_jsonl_atomic, write_text_atomic
from grit_eval.scoring.sample_scorer import sample_outcome, score_sample
from grit_eval.scoring.submission_reader import open_submission, read_predictions
from grit_eval.splits import EvalSplit
from grit_eval.types import GRIT_TASKS, Prediction
from metrics.errors import UnscorableInput

log = logging.getLogger(__name__)


def score_run(run_dir: Path, split: EvalSplit, predictions: Mapping[str, Mapping[str, Prediction]],
              pred_normals_dir: Path, params_in_millions: int, run_name: str) -> tuple[dict, str]:
    """Score, then write ``records.jsonl``, ``metrics.json`` and ``leaderboard.md``.

    Returns:
        (official metrics dict, leaderboard Markdown).
    """
    from results.leaderboard import leaderboard_metrics
    from results.records import records_frame
    from results.tables import leaderboard_markdown, sample_means_markdown

    outcomes, errors = [], []
    with open_submission(split.subset, pred_dir=run_dir / "submission") as submission:
        for task in predictions:
            submitted = read_predictions(submission, task)
            for sample in split.samples:
                if sample.task != task or sample.target is None:
                    continue
                entry = submitted[sample.example_id]
                error = predictions[task][sample.example_id].error
                try:
                    score = score_sample(sample, entry, gt_normals_dir=split.gt_normals_dir,
                                         pred_normals_dir=submission.normals_dir)
                except UnscorableInput as exc:
                    score, error = 0.0, f"unscorable: {exc}"
                    log.warning("%s %s: %s", task, sample.example_id, error)
                outcomes.append(sample_outcome(sample, score, entry["confidence"]))
                errors.append(error)
    records = records_frame(outcomes, split.lemma2groups)
    records["error"] = errors
    missing = [t for t in GRIT_TASKS if t not in predictions]
    metrics = leaderboard_metrics(records, params_in_millions, missing)
    write_jsonl_atomic(run_dir / "records.jsonl", records.to_dict(orient="records"))
    write_json_atomic(run_dir / "metrics.json", metrics, indent=4)
    table = leaderboard_markdown([(run_name, metrics)])
    means = sample_means_markdown(records)
    write_text_atomic(run_dir / "leaderboard.md", f"# {run_name}\n\n{table}\n{means}")
    return metrics, table
