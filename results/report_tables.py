"""The report's tables over many runs, from each run's own ``metrics.json`` (official keys).

Every table comes twice: ``cells`` (strings ``mean [lower, upper]`` and markers, for Markdown
and LaTeX) and ``numbers`` (floats, NaN where absent, for CSV). No run is ever dropped: a
failed or incomplete run gets a row whose cells say so, and a task that was not run says
``not run`` (see ``results.collect`` for the statuses).

Markers:
    ``FAILED`` / ``INCOMPLETE`` / ``NOT SCORED``: the run's status; its cells hold no number.
    ``not run``: the task is not in the run's config.
    ``missing``: the task was run but the key is absent (the adapter skipped the task, or a
        partition had fewer than 2 samples, where the official scorer has no value either).
    empty: a test cell with nothing imported (GRIT test ground truth is hidden).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import pandas as pd

from results.collect import FINISHED, LABEL_IGNORED, label_runs
from results.partitions import CONCEPT_GROUPS, TASK_KEYS

SHORT_TO_TASK = {short: task for task, short in TASK_KEYS.items()}
COLUMNS_SHORT = (*TASK_KEYS.values(), "all")
NOT_RUN, MISSING = "not run", "missing"
SUBSETS = ("ablation", "test")
CALIBRATION_MEASURES = ("acc", "conf", "inf", "misinf", "rmse", "sa")
ROBUSTNESS_PARTITIONS = ("undist", "dist", "deldist")


@dataclass(frozen=True)
class ReportTable:
    """One table of the report.

    Attributes:
        name: file stem (``leaderboard`` -> leaderboard.md / .csv / .tex).
        title: heading in the Markdown report.
        cells: display frame (strings).
        numbers: numeric frame, one column per (cell, stat); NaN where absent.
        note: one paragraph on what the cells are.
    """

    name: str
    title: str
    cells: pd.DataFrame
    numbers: pd.DataFrame
    note: str = ""


def format_interval(mean: float, lower: float | None = None, upper: float | None = None) -> str:
    """``mean [lower, upper]`` with one decimal, as ``results.tables``; ``mean`` alone when a
    bound is absent."""
    # "+ 0.0" turns the official files' -0.0 (e.g. a deldist bound) into 0.0 for display.
    if lower is None or upper is None or _nan(lower) or _nan(upper):
        return f"{mean + 0.0:.1f}"
    return f"{mean + 0.0:.1f} [{lower + 0.0:.1f}, {upper + 0.0:.1f}]"


def _nan(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def interval(metrics: Mapping[str, float], base: str) -> tuple[float, float, float] | None:
    """(mean, lower, upper) of ``<base>.{mean,lower,upper}`` (bounds NaN if absent), or None."""
    mean = metrics.get(f"{base}.mean")
    if mean is None:
        return None
    nan = float("nan")
    return (float(mean), float(metrics.get(f"{base}.lower", nan)),
            float(metrics.get(f"{base}.upper", nan)))


def status_marker(status: str) -> str | None:
    """The cell text of a run that has no numbers (None for a finished run)."""
    return None if status == FINISHED else status.upper()


def run_cell(run: Mapping, base: str, short: str) -> tuple[str, tuple[float, float, float] | None]:
    """(cell text, (mean, lower, upper) or None) of ``base`` in a run row (see module markers)."""
    marker = status_marker(run["status"])
    if marker:
        return marker, None
    found = interval(run["metrics"], base)
    if found is not None:
        return format_interval(*found), found
    task = SHORT_TO_TASK.get(short)
    return (NOT_RUN if task is not None and task not in run["tasks"] else MISSING), None


def _put(numbers: dict, prefix: str, found: tuple[float, float, float] | None) -> None:
    for stat, value in zip(("mean", "lower", "upper"), found or (math.nan,) * 3):
        numbers[f"{prefix}.{stat}"] = value


def _records(runs: pd.DataFrame) -> list[dict]:
    return runs[["run", "status", "error", "split", "subset", "tasks", "metrics"]].to_dict("records")


def missing_tasks(run: Mapping) -> str:
    """Short names of the GRIT tasks a run did not evaluate ("" when it ran all)."""
    return ",".join(s for t, s in TASK_KEYS.items() if t not in run["tasks"])


def leaderboard_table(runs: pd.DataFrame,
                      test_scores: Mapping[str, Mapping[str, tuple]] | None = None) -> ReportTable:
    """The GRIT leaderboard in the paper's shape: rows = runs, columns = 7 tasks x
    {ablation, test} + all.

    Args:
        runs: from ``results.collect.collect_runs``.
        test_scores: run label -> short task name -> (mean, lower, upper), imported from a
            leaderboard CSV (``results.leaderboard_import``); labels that match no run become
            rows of their own with status ``imported``.

    A run's values go under ``test`` when its subset is ``test`` and under ``ablation``
    otherwise (the ``split`` column names the data).
    """
    test_scores = dict(test_scores or {})
    cell_rows, number_rows = [], []
    for run in _records(runs):
        cells = {"run": run["run"], "split": run["split"], "status": run["status"]}
        numbers = {"run": run["run"], "split": run["split"], "status": run["status"],
                   "error": run["error"], "missing_tasks": missing_tasks(run)}
        own = "test" if run["subset"] == "test" else "ablation"
        imported = test_scores.pop(run["run"], {})
        for short in COLUMNS_SHORT:
            for subset in SUBSETS:
                if subset == own:
                    text, found = run_cell(run, f"acc.any.agg.{short}", short)
                else:
                    found = imported.get(short) if subset == "test" else None
                    text = format_interval(*found) if found else ""
                cells[f"{short} {subset}"] = text
                _put(numbers, f"{short}.{subset}", found)
        cells["missing tasks"] = numbers["missing_tasks"]
        numbers["params"] = run["metrics"].get("params", math.nan)
        cell_rows.append(cells)
        number_rows.append(numbers)
    for label, scores in test_scores.items():
        cells = {"run": label, "split": "grit/test", "status": "imported"}
        numbers = dict(cells, error=None, missing_tasks="")
        for short in COLUMNS_SHORT:
            found = scores.get(short)
            cells[f"{short} ablation"] = ""
            cells[f"{short} test"] = format_interval(*found) if found else ""
            _put(numbers, f"{short}.ablation", None)
            _put(numbers, f"{short}.test", found)
        cells["missing tasks"] = ""
        numbers["params"] = math.nan
        cell_rows.append(cells)
        number_rows.append(numbers)
    note = ("Per-task `acc.any.agg` (equal-weight mean of sameSrc and newSrc) with the "
            "leaderboard's 95% z-interval; `all` is `acc.any.agg.all` (the overall score, where "
            "a task that was not run counts as 0, as official). Test cells stay empty unless a "
            "leaderboard CSV is imported. Markers: FAILED / INCOMPLETE / NOT SCORED (run status), "
            "`not run` (task not in the config), `missing` (no value in metrics.json).")
    return ReportTable("leaderboard", "GRIT leaderboard", pd.DataFrame(cell_rows),
                       pd.DataFrame(number_rows), note)


def per_dataset_table(runs: pd.DataFrame, key: str = "acc.any.agg.all") -> ReportTable:
    """Rows = models (config without the data settings), columns = splits; cell = ``key``."""
    models = label_runs(runs, exclude=(*LABEL_IGNORED, "data."))
    cell_rows: dict[str, dict] = {}
    number_rows: dict[str, dict] = {}
    for model, run in zip(models, _records(runs)):
        text, found = run_cell(run, key, key.split(".")[-1])
        cell_rows.setdefault(model, {"model": model})[run["split"]] = text
        _put(number_rows.setdefault(model, {"model": model}), str(run["split"]), found)
    cells = pd.DataFrame(list(cell_rows.values())).fillna(NOT_RUN)
    note = (f"`{key}` per split; rows are runs that differ in anything but the data settings; "
            f"`{NOT_RUN}`: that model was not evaluated on that split.")
    return ReportTable("per_dataset", "Per dataset", cells, pd.DataFrame(list(number_rows.values())), note)


def _task_rows(runs: pd.DataFrame, columns: Sequence[tuple[str, str]], name: str, title: str,
               note: str) -> ReportTable:
    """Rows = (run, task) for every task with a value (and ``all``); one row per failed run."""
    cell_rows, number_rows = [], []
    for run in _records(runs):
        shorts = [s for s in COLUMNS_SHORT
                  if any(f"{pattern.format(short=s)}.mean" in run["metrics"] for _, pattern in columns)]
        for short in shorts or [""]:
            cells = {"run": run["run"], "task": short or "-", "status": run["status"]}
            numbers = dict(cells)
            for header, pattern in columns:
                if short:
                    text, found = run_cell(run, pattern.format(short=short), short)
                else:  # no task has a value: a failed run, or one with no scores at all
                    text, found = status_marker(run["status"]) or MISSING, None
                cells[header] = text
                _put(numbers, header, found)
            cell_rows.append(cells)
            number_rows.append(numbers)
    return ReportTable(name, title, pd.DataFrame(cell_rows), pd.DataFrame(number_rows), note)


def calibration_table(runs: pd.DataFrame) -> ReportTable:
    """Rows = (run, task); columns = acc, conf, inf, misinf, rmse, sa (``<m>.any.agg.<task>``)."""
    columns = [(m, f"{m}.any.agg.{{short}}") for m in CALIBRATION_MEASURES]
    return _task_rows(runs, columns, "calibration", "Calibration",
                      "`<measure>.any.agg.<task>` with its interval: conf = 100 x confidence, "
                      "inf = 100 c s, misinf = 100 c (1 - s), rmse = root of the mean squared "
                      "100 (c - s), sa = self-awareness (GRIT_SPEC.md 3).")


def robustness_table(runs: pd.DataFrame) -> ReportTable:
    """Rows = (run, task); columns = undist, dist, deldist of ``acc.any``."""
    columns = [(p, f"acc.any.{p}.{{short}}") for p in ROBUSTNESS_PARTITIONS]
    return _task_rows(runs, columns, "robustness", "Robustness to distortions",
                      "`acc.any.<partition>.<task>`: undist = undistorted samples that have a "
                      "distorted copy, dist = the copies, deldist = mean per-pair drop "
                      "(undistorted minus distorted; positive = the distortion hurts).")


def concept_group_table(runs: pd.DataFrame) -> ReportTable:
    """Rows = (run, concept group), columns = tasks: ``acc.<group>.agg.<task>``."""
    cell_rows, number_rows = [], []
    for run in _records(runs):
        groups = [g for g in CONCEPT_GROUPS
                  if any(f"acc.{g}.agg.{s}.mean" in run["metrics"] for s in TASK_KEYS.values())]
        for group in groups or [""]:
            cells = {"run": run["run"], "group": group or "-", "status": run["status"]}
            numbers = dict(cells)
            for short in TASK_KEYS.values():
                if group:
                    text, found = run_cell(run, f"acc.{group}.agg.{short}", short)
                else:
                    text, found = status_marker(run["status"]) or MISSING, None
                cells[short] = text
                _put(numbers, short, found)
            cell_rows.append(cells)
            number_rows.append(numbers)
    return ReportTable("concept_groups", "Concept groups", pd.DataFrame(cell_rows),
                       pd.DataFrame(number_rows),
                       "`acc.<group>.agg.<task>` for the 24 official concept groups; groups "
                       "with no sample in a run are not listed for it.")
