"""``grit-eval-report RUN_OR_SWEEP_DIRS... --out DIR``: tables and plots over many runs.

Arguments may be single run directories or sweep directories (searched recursively for runs).
Exit status 0 when the report is written (failed runs are in it, marked), 2 on bad input.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from grit_eval.errors import OneLineArgumentParser, error_line
from results.table_formats import FORMATS

PROG = "grit-eval-report"


def _parser() -> argparse.ArgumentParser:
    parser = OneLineArgumentParser(
        prog=PROG,
        description="Collect grit-eval run directories (single runs and multirun sweeps) into "
                    "leaderboard, per-dataset, calibration, robustness, concept-group and "
                    "prompt-study tables (Markdown, CSV, LaTeX) and PNG plots.")
    parser.add_argument("paths", nargs="+", metavar="RUN_OR_SWEEP_DIR")
    parser.add_argument("--out", required=True, help="output folder (created; files overwritten)")
    parser.add_argument("--formats", default=",".join(FORMATS),
                        help=f"comma-separated table formats among {','.join(FORMATS)}")
    parser.add_argument("--no-plots", action="store_true", help="tables only")
    parser.add_argument("--test-scores", metavar="CSV",
                        help="test-subset scores to show in the leaderboard's test columns "
                             "(columns: run, cat, loc, vqa, ref, seg, kp, sn, all, optional "
                             "<short>.lower / <short>.upper)")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"),
                        help="paired comparison of two runs (labels as in the tables, or run dirs)")
    parser.add_argument("--bootstrap", type=int, default=10_000, help="bootstrap resamples (paired)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (paired)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from results.leaderboard_import import read_test_scores
    from results.report import write_report

    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    try:
        scores = read_test_scores(args.test_scores) if args.test_scores else None
        report = write_report(args.paths, args.out, formats=formats, plots=not args.no_plots,
                              test_scores=scores, compare=tuple(args.compare) if args.compare else None,
                              n_boot=args.bootstrap, seed=args.seed)
    except KeyboardInterrupt:
        print(f"{PROG}: error: interrupted; rerun the same command", file=sys.stderr)
        return 130
    except (OSError, ValueError) as exc:
        print(f"{PROG}: error: {error_line(exc)}", file=sys.stderr)
        return 2
    counts = ", ".join(f"{n} {status}" for status, n in report.status_counts().items())
    print(f"{len(report.runs)} runs ({counts}); {len(report.files)} files in {report.out_dir}")
    for row in report.runs[report.runs["status"] != "finished"].itertuples():
        print(f"  {row.status}: {row.run} ({row.error})", file=sys.stderr)
    print(f"see {report.out_dir / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
