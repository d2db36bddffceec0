"""Score a run's submission folder against its split's ground truth.

The run scores the files it wrote into ``submission/<subset>/`` through the scorer's own path
(``grit_eval.scoring.submission_scoring``: same reading, same worker processes, same
aggregation, same metrics writer), so a run's ``metrics.json`` and ``grit-eval-score`` on its
zip are the same bytes. Unlike the scorer, one sample that cannot be scored
(``UnscorableInput``) does not stop a run: it scores 0 and its record says why.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping

from grit_eval.run.atomic import write_jsonl_atomic, write_text_atomic
from grit_eval.scoring.submission_reader import open_submission
from grit_eval.scoring.submission_scoring import score_submission_tasks, write_metrics_json
from grit_eval.splits import EvalSplit
from grit_eval.types import GRIT_TASKS, Prediction

log = logging.getLogger(__name__)


def score_run(run_dir: Path, split: EvalSplit, predictions: Mapping[str, Mapping[str, Prediction]],
              run_name: str) -> tuple[dict, str]:
    """Score, then write ``records.jsonl``, ``metrics.json`` and ``leaderboard.md``.

    Everything scored (predictions, predicted normal maps, ``params.json``) is read back from
    the run's ``submission/<subset>/``, as ``grit-eval-score`` reads a submission.

    Returns:
        (official metrics dict, leaderboard Markdown).
    """
    from results.tables import leaderboard_markdown, sample_means_markdown

    truth = {task: (f"{split.name} {task}",
                    [s for s in split.samples if s.task == task and s.target is not None])
             for task in GRIT_TASKS if task in predictions}
    with open_submission(split.subset, pred_dir=run_dir / "submission") as submission:
        scored = score_submission_tasks(submission, truth, gt_normals_dir=split.gt_normals_dir,
                                        lemma2groups=split.lemma2groups, lenient=True, log=log)
    records, metrics = scored.records, scored.metrics
    records["error"] = [
        scored.unscorable.get((task, eid)) or predictions[task][eid].error
        for task, eid in zip(records["task"], records["example_id"])]
    write_jsonl_atomic(run_dir / "records.jsonl", records.to_dict(orient="records"))
    write_metrics_json(run_dir / "metrics.json", metrics)
    table = leaderboard_markdown([(run_name, metrics)])
    means = sample_means_markdown(records)
    write_text_atomic(run_dir / "leaderboard.md", f"# {run_name}\n\n{table}\n{means}")
    return metrics, table
