"""Prompt-robustness studies: one table per task in the shape of the Unified-IO paper's prompt
table (one row per template, the task's score with its interval), plus the spread across
templates and whether templates agree on the ranking of models.

A study is a sweep over ``model.prompts.<task>`` (``conf/prompts/*.yaml``); each run's
manifest records its template, so the study is rebuilt from run directories alone. Runs
without a template for the task used the adapter's built-in default (``DEFAULT``).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from results.collect import CONFIG_PREFIX, LABEL_IGNORED, label_runs
from results.partitions import TASK_KEYS
from results.report_tables import NOT_RUN, ReportTable, run_cell

DEFAULT = "(adapter default)"
PROMPT_KEY = "model.prompts."
SUMMARY_ROWS = ("mean across templates", "std across templates", "worst-best gap")


@dataclass(frozen=True)
class PromptStudy:
    """The result of ``prompt_study``.

    Attributes:
        task: GRIT task name.
        table: display / CSV table (templates, then the summary rows).
        means, lowers, uppers: [templates x models] frames of ``acc.any.agg.<task>``, NaN where
            a run is missing or failed.
        rank_correlation: mean Spearman correlation of the models' scores between every pair
            of templates (1 = every template ranks the models alike); NaN with < 2 models or
            < 2 templates, or where a template scores all models equally.
    """

    task: str
    table: ReportTable
    means: pd.DataFrame
    lowers: pd.DataFrame
    uppers: pd.DataFrame
    rank_correlation: float


def studied_tasks(runs: pd.DataFrame) -> list[str]:
    """GRIT tasks whose template differs between runs (a prompt study is in ``runs``)."""
    found = []
    for task in TASK_KEYS:
        column = f"{CONFIG_PREFIX}{PROMPT_KEY}{task}"
        if column in runs and runs[column].fillna(DEFAULT).nunique() > 1:
            found.append(task)
    return found


def rank_agreement(means: pd.DataFrame) -> float:
    """Mean pairwise Spearman rho between templates (rows) over models (columns)."""
    values = means.to_numpy(np.float64)
    rhos = []
    for i, j in itertools.combinations(range(values.shape[0]), 2):
        ok = ~(np.isnan(values[i]) | np.isnan(values[j]))
        if ok.sum() < 2 or np.ptp(values[i][ok]) == 0 or np.ptp(values[j][ok]) == 0:
            continue  # rho is undefined for constant scores
        rhos.append(stats.spearmanr(values[i][ok], values[j][ok]).statistic)
    return float(np.mean(rhos)) if rhos else math.nan


def prompt_study(runs: pd.DataFrame, task: str, names: Mapping[str, str] | None = None) -> PromptStudy:
    """Build the prompt table of ``task`` from a collected sweep.

    Args:
        runs: from ``results.collect.collect_runs``.
        task: GRIT task name (``refexp``).
        names: optional template -> short name, shown beside the template.

    Returns:
        A ``PromptStudy``. Rows follow the order in which templates first appear (the sweep's
        order); columns are the models, i.e. runs that differ in anything but templates.

    Raises:
        ValueError: an unknown task.
    """
    if task not in TASK_KEYS:
        raise ValueError(f"unknown task {task!r}; choose from {list(TASK_KEYS)}")
    short = TASK_KEYS[task]
    column = f"{CONFIG_PREFIX}{PROMPT_KEY}{task}"
    templates = (runs[column] if column in runs else pd.Series([None] * len(runs))).fillna(DEFAULT)
    models = label_runs(runs, exclude=(*LABEL_IGNORED, PROMPT_KEY), unique=False)
    order_t = list(dict.fromkeys(templates))
    order_m = list(dict.fromkeys(models))
    texts: dict[tuple[str, str], str] = {}
    values: dict[tuple[str, str], tuple[float, float, float]] = {}
    for template, model, run in zip(templates, models, runs.to_dict("records")):
        # A repeated (template, model) pair keeps the last run, as the sweep's latest word.
        text, found = run_cell(run, f"acc.any.agg.{short}", short)
        texts[template, model] = text
        values[template, model] = found or (math.nan,) * 3
    cells = pd.DataFrame({m: [texts.get((t, m), NOT_RUN) for t in order_t] for m in order_m},
                         index=order_t, dtype=object)
    means, lowers, uppers = (
        pd.DataFrame({m: [values.get((t, m), (math.nan,) * 3)[k] for t in order_t] for m in order_m},
                     index=order_t, dtype=np.float64) for k in range(3))
    summary = pd.DataFrame({
        SUMMARY_ROWS[0]: means.mean(axis=0),
        SUMMARY_ROWS[1]: means.std(axis=0, ddof=1),
        SUMMARY_ROWS[2]: means.max(axis=0) - means.min(axis=0),
    }).T
    rho = rank_agreement(means)
    names = names or {}
    label = [f"{names[t]}: {t}" if t in names else t for t in order_t]
    body = pd.concat([cells, summary.map(lambda v: "" if math.isnan(v) else f"{v:.1f}")])
    shown = pd.concat([pd.DataFrame({"template": label + list(SUMMARY_ROWS)}),
                       body.reset_index(drop=True)], axis=1)
    columns = {"template": label + list(SUMMARY_ROWS)}
    for model in order_m:
        columns[f"{model}.mean"] = list(means[model]) + list(summary[model])
        columns[f"{model}.lower"] = list(lowers[model]) + [math.nan] * len(SUMMARY_ROWS)
        columns[f"{model}.upper"] = list(uppers[model]) + [math.nan] * len(SUMMARY_ROWS)
    numbers = pd.DataFrame(columns)
    rho_text = "n/a (needs 2+ models with distinct scores)" if math.isnan(rho) else f"{rho:.3f}"
    note = (f"`acc.any.agg.{short}` with its 95% interval, one row per template (`{{}}` = the "
            f"query slot); columns are models. Std uses ddof=1; the gap is best minus worst. "
            f"Rank correlation of models across templates (mean pairwise Spearman): {rho_text}.")
    table = ReportTable(f"prompt_study_{task}", f"Prompt study: {task}",
                        shown, numbers, note)
    return PromptStudy(task, table, means, lowers, uppers, rho)

