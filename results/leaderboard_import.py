"""Import test-subset scores (from the GRIT leaderboard or a paper) into the leaderboard table.

GRIT's test ground truth is hidden, so local runs never fill the table's test columns. A CSV
fills them, one row per model:

    run,cat,cat.lower,cat.upper,loc,...,all
    Unified-IO XL,60.8,,,67.1,...,64.3

``run`` names the row (a row whose name equals a run's label fills that run's test cells;
other rows become rows of their own). Score columns are the short task names ``cat loc vqa ref
seg kp sn all``; ``<short>.lower`` / ``<short>.upper`` are optional. Empty cells are absent.
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from results.report_tables import COLUMNS_SHORT


def read_test_scores(path: str | Path) -> dict[str, dict[str, tuple[float, float, float]]]:
    """Run name -> short task -> (mean, lower, upper) (bounds NaN when not given).

    Raises:
        FileNotFoundError: no such file.
        ValueError: no ``run`` column, no score column, a repeated run name, or a cell that is
            not a number (the message names the row and column).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"test-scores CSV not found: {path}")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "run" not in frame.columns:
        raise ValueError(f"{path}: needs a 'run' column, has {list(frame.columns)}")
    shorts = [s for s in COLUMNS_SHORT if s in frame.columns]
    if not shorts:
        raise ValueError(f"{path}: no score column; expected some of {list(COLUMNS_SHORT)}")
    repeated = frame["run"][frame["run"].duplicated()].tolist()
    if repeated:
        raise ValueError(f"{path}: run names repeat: {repeated}")
    scores: dict[str, dict[str, tuple[float, float, float]]] = {}
    for line, row in enumerate(frame.to_dict("records"), start=2):  # line 1 is the header
        entry = {}
        for short in shorts:
            values = [_number(row.get(c, ""), path, line, c)
                      for c in (short, f"{short}.lower", f"{short}.upper")]
            if not math.isnan(values[0]):
                entry[short] = tuple(values)
        scores[row["run"]] = entry
    return scores


def _number(text: str, path: Path, line: int, column: str) -> float:
    text = text.strip()
    if text in ("", "-"):  # the paper writes "-" for a score it does not report
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{path}:{line}: column {column!r} is not a number: {text!r}") from None
