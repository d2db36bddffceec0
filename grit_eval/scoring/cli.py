"""``grit-eval-score``: drop-in for the official GRIT ``evaluate.py``.

Same flags, same ``<outdir>/<subset>_metrics.json`` (keys, values, rounding), plus
``<outdir>/<subset>_samples.jsonl`` with one line of per-sample measures per sample. Both files
are written atomically, and only when everything scored: any malformed input gives one line
``grit-eval-score: error: <file>: <example_id>: <problem>`` on stderr and exit status 2.

Differences from the official script, on purpose: predictions are validated (finite confidence
in [0, 1], well-formed fields) instead of crashing or silently skewing results; a zip is
extracted into a private temporary folder (``--pred_dir`` is then unused); ``--lemma2groups``
is optional (no concept groups without it); a cross-task ``all`` key that cannot be computed
is left out with a warning instead of a KeyError (results/leaderboard.py).

Heavy imports (pandas, metrics) happen after argument parsing so ``--help`` is instant.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Sequence

from grit_eval.errors import OneLineArgumentParser

PROG = "grit-eval-score"
OFFICIAL_PRED_DIR = Path("/predictions")  # the official script's --pred_dir default
# Columns of <subset>_samples.jsonl, in order.
SAMPLE_LINE_FIELDS = ("example_id", "task", "acc", "confidence", "inf", "misinf", "conf", "sa",
                      "rmse", "src", "cpt", "dist", "undistp", "groups")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineArgumentParser(
        prog=PROG, description="Score a GRIT submission exactly as the official leaderboard.")
    parser.add_argument("--pred_zip", type=Path, default=None,
                        help="submission zip holding <subset>/ (extracted to a temporary folder)")
    parser.add_argument("--pred_dir", type=Path, default=None,
                        help="folder holding an extracted <subset>/ (used when --pred_zip is absent; "
                             f"default {OFFICIAL_PRED_DIR} when it holds <subset>/, as official)")
    parser.add_argument("--grit_samples_dir", type=Path, required=True,
                        help="ground-truth folder: <grit_samples_dir>/<subset>/<task>.json")
    parser.add_argument("--grit_normals_dir", type=Path, default=None,
                        help="GT normal PNGs (default: <grit_samples_dir>/normals)")
    parser.add_argument("--lemma2groups", type=Path, default=None,
                        help="lemma -> concept groups JSON (default: no concept-group keys)")
    parser.add_argument("--subset", required=True, help="ablation, test, or a local subset name")
    parser.add_argument("--outdir", type=Path, required=True, help="where the outputs are written")
    return parser


def score_submission(args: argparse.Namespace, log: logging.Logger):
    """Score the submission named by ``args``.

    Returns:
        (metrics dict as written to ``<subset>_metrics.json``, records DataFrame).
    """
    from grit_eval.data.grit_reader import read_ground_truth, read_lemma2groups
    from grit_eval.errors import DataError, SubmissionError
    from grit_eval.scoring.submission_reader import ZipLimits, open_submission
    from grit_eval.scoring.submission_scoring import score_submission_tasks
    from grit_eval.types import GRIT_TASKS

    lemma2groups = read_lemma2groups(args.lemma2groups) if args.lemma2groups else {}
    normals_dir = args.grit_normals_dir or args.grit_samples_dir / "normals"
    truth = {}
    for task in GRIT_TASKS:
        # As official: every task's ground truth must exist, submitted or not.
        gt_path = args.grit_samples_dir / args.subset / f"{task}.json"
        if not gt_path.is_file():
            raise DataError(f"{gt_path}: file not found")
        truth[task] = (str(gt_path), read_ground_truth(gt_path, task))

    pred_dir = args.pred_dir
    if args.pred_zip is None and pred_dir is None:
        if not (OFFICIAL_PRED_DIR / args.subset).is_dir():
            raise SubmissionError("no submission given: pass --pred_zip ZIP (or --pred_dir DIR "
                                  "holding <subset>/)")
        pred_dir = OFFICIAL_PRED_DIR
    limits = ZipLimits.for_split({task: len(samples) for task, (_, samples) in truth.items()})
    with open_submission(args.subset, pred_zip=args.pred_zip, pred_dir=pred_dir, limits=limits) as sub:
        scored = score_submission_tasks(sub, truth, gt_normals_dir=normals_dir,
                                        lemma2groups=lemma2groups, lenient=False, log=log)
    return scored.metrics, scored.records


def _sample_lines(records) -> str:
    lines = []
    for row in records[list(SAMPLE_LINE_FIELDS)].itertuples(index=False):
        item = dict(zip(SAMPLE_LINE_FIELDS, row))
        item["undistp"] = bool(item["undistp"])
        item["groups"] = list(item["groups"])
        lines.append(json.dumps(item, allow_nan=False) + "\n")
    return "".join(lines)


def _check_outdir(outdir: Path) -> None:
    """``--outdir`` must be a folder or creatable as one (no file on its path)."""
    from grit_eval.errors import ConfigError

    for path in (outdir, *outdir.parents):
        if path.exists():
            if not path.is_dir():
                raise ConfigError(f"--outdir {outdir}: {path} is a file, not a folder")
            return


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; returns the exit status (0 ok, 2 bad input)."""
    args = build_parser().parse_args(argv)
    log = logging.getLogger(PROG)
    # Warnings (missing tasks, omitted "all" keys) go to stderr; the handler is removed again
    # so that calling main() twice (tests, notebooks) does not duplicate lines.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(levelname)s: %(message)s"))
    loggers = (log, logging.getLogger("results"))
    for logger in loggers:
        logger.addHandler(handler)
    from grit_eval.errors import GritEvalError, error_line
    from grit_eval.run.atomic import write_json_atomic, write_text_atomic
    from grit_eval.scoring.environment import numeric_environment
    from grit_eval.scoring.submission_scoring import metrics_json

    try:
        _check_outdir(args.outdir)  # before the (long) scoring, not after it
        metrics, records = score_submission(args, log)
        samples_text = _sample_lines(records)
        write_text_atomic(args.outdir / f"{args.subset}_samples.jsonl", samples_text)
        # Which BLAS kernel scored the normal maps (it can move an R-RANSAC score).
        write_json_atomic(args.outdir / f"{args.subset}_environment.json", numeric_environment())
        write_text_atomic(args.outdir / f"{args.subset}_metrics.json", metrics_json(metrics))
    except KeyboardInterrupt:
        print(f"{PROG}: error: interrupted; rerun the same command", file=sys.stderr)
        return 130
    except (GritEvalError, OSError) as err:
        print(f"{PROG}: error: {error_line(err)}", file=sys.stderr)
        return 2
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    print(f"{PROG}: overall {metrics.get('overall.mean', 'n/a')} -> "
          f"{args.outdir / (args.subset + '_metrics.json')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
