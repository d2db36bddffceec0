"""Per-sample prompt robustness over a prompt sweep: which samples flip between templates.

Input: one run per template (same model, same samples), each with its ``records.jsonl``. The
per-sample measure is the record's ``score`` (GRIT: the official per-sample score, e.g. refexp
0/1; per-dataset: the task's per-sample headline measure). Samples are the undistorted ones
scored in every template's run (``_dist`` copies are GRIT's robustness split, not a prompt
question), in the order of the first run's records.

Measures (accuracy = 100 x mean score):

* per template: accuracy with its 95% t interval (``scipy.stats.t.interval`` over the
  per-sample scores, as the leaderboard's intervals) and the sample count;
* spread: best minus worst template accuracy, and their std (ddof=1);
* worst-template accuracy;
* flip rate: the share of samples whose score is not the same under every template;
* agreement: the mean over template pairs of the share of samples scored the same by both.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from results.collect import CONFIG_PREFIX, LABEL_IGNORED, label_runs, read_records
from results.intervals import t_interval
from results.prompt_study import DEFAULT, PROMPT_KEY
from results.report_tables import ReportTable

SUMMARY = ("best-worst gap", "std across templates", "worst template", "flip rate (%)",
           "agreement between templates (%)")


@dataclass(frozen=True)
class Robustness:
    """``scores``: [samples x templates] per-sample scores; ``per_template``: accuracy, lower,
    upper, n per template; ``summary``: SUMMARY name -> value."""

    task: str
    scores: pd.DataFrame
    per_template: pd.DataFrame
    summary: dict[str, float]


def score_matrix(records: Mapping[str, pd.DataFrame], task: str) -> pd.DataFrame:
    """Template -> that run's records, to [samples x templates] scores of ``task``'s
    undistorted samples present in every run."""
    columns = {}
    for template, frame in records.items():
        rows = frame[(frame["task"] == task) & (frame["dist"] != "dist")]
        columns[template] = pd.Series(rows["score"].to_numpy(np.float64), index=rows["example_id"])
    matrix = pd.DataFrame(columns)
    return matrix.dropna(axis=0, how="any")


def robustness(records: Mapping[str, pd.DataFrame], task: str) -> Robustness:
    scores = score_matrix(records, task)
    if scores.shape[0] < 2 or scores.shape[1] < 2:
        raise ValueError(f"{task}: a robustness table needs 2+ templates and 2+ shared samples, "
                         f"got {scores.shape[1]} templates and {scores.shape[0]} samples")
    values = scores.to_numpy(np.float64)
    n = values.shape[0]
    mean = values.mean(axis=0)
    sem = values.std(axis=0, ddof=1) / math.sqrt(n)
    lower, upper = t_interval(mean, sem, np.full(len(mean), n))
    per_template = pd.DataFrame({"accuracy": 100 * mean, "lower": 100 * lower,
                                 "upper": 100 * upper, "n": n}, index=scores.columns)
    acc = per_template["accuracy"].to_numpy()
    same_all = (values == values[:, :1]).all(axis=1)
    pairs = [np.mean(values[:, i] == values[:, j])
             for i, j in itertools.combinations(range(values.shape[1]), 2)]
    summary = dict(zip(SUMMARY, (float(acc.max() - acc.min()), float(np.std(acc, ddof=1)),
                                 float(acc.min()), float(100 * (1 - same_all.mean())),
                                 float(100 * np.mean(pairs)))))
    return Robustness(task, scores, per_template, summary)


def sample_robustness_table(result: Robustness, model: str, index: int = 0) -> ReportTable:
    """The table of one model (``index`` > 0 suffixes the file name: several models)."""
    rows = [(t, f"{r.accuracy:.1f} [{r.lower:.1f}, {r.upper:.1f}]")
            for t, r in result.per_template.iterrows()]
    rows += [(name, f"{value:.1f}") for name, value in result.summary.items()]
    shown = pd.DataFrame(rows, columns=["template", model])
    numbers = pd.concat([result.per_template.reset_index(names="template"),
                         pd.DataFrame({"template": list(result.summary),
                                       "accuracy": list(result.summary.values())})],
                        ignore_index=True)
    note = (f"Per-sample prompt robustness of `{model}` on {result.task}: "
            f"{int(result.per_template['n'].iloc[0])} undistorted samples scored under every "
            "template. Accuracy = 100 x mean per-sample score with its 95% t interval; flip rate = "
            "share of samples whose score changes with the template; agreement = mean over "
            "template pairs of the share of samples scored alike.")
    name = f"prompt_robustness_{result.task}" + (f"_{index}" if index else "")
    return ReportTable(name, f"Prompt robustness per sample: {result.task}, {model}", shown,
                       numbers, note)


def robustness_plot(result: Robustness, path) -> object:
    """Per-sample scores (rows: samples sorted by how many templates score them) beside the
    per-template accuracy with intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values = result.scores.to_numpy(np.float64)
    order = np.argsort(-values.mean(axis=1), kind="stable")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.imshow(values[order], aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
    left.set_xlabel("template")
    left.set_ylabel("sample")
    left.set_title(f"{result.task}: per-sample score")
    pt = result.per_template
    x = np.arange(len(pt))
    right.errorbar(x, pt["accuracy"], yerr=[pt["accuracy"] - pt["lower"], pt["upper"] - pt["accuracy"]],
                   fmt="o", capsize=3)
    right.axhline(result.summary["worst template"], linestyle="--", color="grey")
    right.set_xticks(x)
    right.set_xlabel("template")
    right.set_ylabel("accuracy")
    right.set_title(f"flip rate {result.summary['flip rate (%)']:.1f}%")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def study_records(runs: pd.DataFrame, task: str) -> dict[str, dict[str, pd.DataFrame]]:
    """Model label -> template -> records of the finished runs of a prompt study of ``task``
    (runs that differ only in templates are one model, as in ``results.prompt_study``)."""
    column = f"{CONFIG_PREFIX}{PROMPT_KEY}{task}"
    templates = (runs[column] if column in runs else pd.Series([None] * len(runs))).fillna(DEFAULT)
    models = label_runs(runs, exclude=(*LABEL_IGNORED, PROMPT_KEY), unique=False)
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for template, model, run in zip(templates, models, runs.to_dict("records")):
        try:
            out.setdefault(model, {})[template] = read_records(run["path"])
        except (FileNotFoundError, ValueError):
            continue  # a failed or unscored run: the prompt study table already shows it
    return out
