"""``grit-eval-submit RUN_DIR --subset ablation|test``: build the zip to upload, or refuse.

It re-reads the run's split in full (ignoring any ``data.limit``), checks that the prediction
store covers every sample of every GRIT task (``_dist`` copies included), rewrites the official
layout with ``params.json``, validates every file with the scorer's own validator, and writes
``<RUN_DIR>/submission/<subset>.zip`` (or ``--out``). An incomplete or invalid run is refused
with the list of what is wrong, and nothing is written.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from grit_eval.errors import OneLineArgumentParser

PROG = "grit-eval-submit"
MAX_LISTED = 5


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


_count.__name__ = "non-negative integer"  # argparse names the type in its message


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path, help="a grit-eval run directory")
    parser.add_argument("--subset", required=True, choices=["ablation", "test"])
    parser.add_argument("--params-in-millions", type=_count, default=None,
                        help="model size for params.json (default: the run's own count)")
    parser.add_argument("--out", type=Path, default=None, help="zip path (default: RUN_DIR/submission/<subset>.zip)")
    return parser


def _coverage_problems(split, store) -> list[str]:
    from grit_eval.types import GRIT_TASKS

    problems = []
    for task in GRIT_TASKS:
        expected = [s.example_id for s in split.samples if s.task == task]
        done = store.load(task)
        missing = [i for i in expected if i not in done]
        if missing and len(missing) == len(expected):
            problems.append(f"{task}: not run ({len(expected)} samples without a prediction)")
        elif missing:
            shown = ", ".join(missing[:MAX_LISTED]) + (" ..." if len(missing) > MAX_LISTED else "")
            problems.append(f"{task}: {len(missing)} of {len(expected)} samples have no prediction: {shown}")
    return problems


def build_submission(run_dir: Path, subset: str, params: int | None, out: Path | None) -> Path:
    from grit_eval.errors import SubmissionError
    from grit_eval.run.store import PredictionStore
    from grit_eval.scoring.submission_reader import open_submission, read_predictions
    from grit_eval.settings import DataSettings
    from grit_eval.splits import load_split
    from grit_eval.submission.layout import write_submission, zip_folder
    from grit_eval.types import GRIT_TASKS

    manifest_path = run_dir / "manifest.json"
    if not manifest_path.is_file():
        raise SubmissionError(f"{manifest_path}: not found; is {run_dir} a grit-eval run directory?")
    config = json.loads(manifest_path.read_text())["config"]
    data = DataSettings(**{**config["data"], "limit": None})
    if data.subset != subset:
        raise SubmissionError(f"{run_dir}: the run evaluated subset {data.subset!r}, not {subset!r}")
    split = load_split(data, list(GRIT_TASKS))
    if not split.is_grit:
        raise SubmissionError(f"{run_dir}: the run evaluated data={config['data']['name']}, not a GRIT "
                              "split; grit-eval-submit builds GRIT leaderboard submissions only")
    store = PredictionStore(run_dir / "predictions" / subset, strict=True)
    problems = _coverage_problems(split, store)
    if problems:
        raise SubmissionError(f"{run_dir}: the run does not cover the split: " + "; ".join(problems))
    if params is None:
        params_file = run_dir / "submission" / subset / "params.json"
        if not params_file.is_file():
            raise SubmissionError(f"{params_file}: not found; pass --params-in-millions")
        params = int(json.loads(params_file.read_text())["params_in_millions"])
    predictions = {t: store.load(t) for t in GRIT_TASKS}
    failed = sum(1 for by_id in predictions.values() for p in by_id.values() if p.error)
    if failed:
        print(f"{PROG}: warning: {failed} prediction(s) failed in the run and are submitted as "
              "empty answers with confidence 0", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="grit-eval-submit-") as tmp:
        folder = write_submission(Path(tmp), subset, split.samples, predictions, store.artifact_dir, params)
        with open_submission(subset, pred_dir=Path(tmp)) as submission:
            for task in GRIT_TASKS:
                read_predictions(submission, task)  # the scorer's validation, file by file
        return zip_folder(folder, out or run_dir / "submission" / f"{subset}.zip")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from grit_eval.errors import GritEvalError, error_line

    try:
        path = build_submission(args.run_dir, args.subset, args.params_in_millions, args.out)
    except KeyboardInterrupt:
        print(f"{PROG}: error: interrupted; nothing was written", file=sys.stderr)
        return 130
    except (GritEvalError, OSError) as exc:
        print(f"{PROG}: error: {error_line(exc)}", file=sys.stderr)
        return 2
    print(f"{PROG}: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
