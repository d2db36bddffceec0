"""The per-sample record: one scored sample, the input of every leaderboard aggregation.

A records frame is long format: one row per (sample), no composite keys, and NaN (never a
string such as "N/A") where a number is missing. Its columns are the fields of ``Record``.
Concept groups stay a tuple per row; the leaderboard explodes them when it needs them.

The measures follow the official evaluator (evaluate.py lines 226-258, GRIT_SPEC.md 3) and are
computed by ``metrics.calibration.sample_measures``; the flags follow the same code, including
its truthiness: a meta flag that is ``None`` (not given) counts as False.
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence, TypedDict

import numpy as np
import pandas as pd

from metrics.calibration import sample_measures

MEASURES: tuple[str, ...] = ("acc", "inf", "misinf", "conf", "sa", "rmse")

# Length of the suffix that marks a distorted copy. The official code cuts the last 5
# characters of a distorted id without checking that they are "_dist"; so do we.
DIST_SUFFIX_LEN = len("_dist")


class Outcome(TypedDict):
    """What the scorer knows about one sample (input of ``records_frame``).

    Attributes:
        example_id: the GT ``input.example_id``.
        task: full GRIT task name (``categorization`` ... ``normal``).
        score: per-sample score in [0, 1].
        confidence: the prediction's confidence (official code does not clip it).
        is_new_source, has_new_concept, is_distorted: GT meta flags (None counts as False).
        lemmas: the lemmas of the sample's concepts.
    """

    example_id: str
    task: str
    score: float
    confidence: float
    is_new_source: bool | None
    has_new_concept: bool | None
    is_distorted: bool | None
    lemmas: Sequence[str]


class Record(TypedDict):
    """One row of a records frame.

    Attributes:
        example_id: GT example id.
        task: full GRIT task name.
        score: per-sample score in [0, 1].
        confidence: prediction confidence, unclipped.
        acc: 100 * score.
        inf: 100 * confidence * score ("informativeness").
        misinf: 100 * confidence * (1 - score) ("misinformation").
        conf: 100 * confidence.
        sa: 100 * (c * s + (1 - c) * (1 - s)) ("self-awareness").
        rmse: (100 * (c - s)) ** 2, a squared error; the leaderboard roots its mean.
        src: ``"newSrc"`` if the sample comes from a new source, else ``"sameSrc"``.
        cpt: ``"newCpt"`` if the sample has a new concept, else ``"sameCpt"``.
        dist: ``"dist"`` for a distorted copy, else ``"undist"``.
        undistp: True when the sample has a distorted copy in the same task ("parallel").
        groups: concept groups of the sample's lemmas (sorted, unique; unknown lemmas ignored).
    """

    example_id: str
    task: str
    score: float
    confidence: float
    acc: float
    inf: float
    misinf: float
    conf: float
    sa: float
    rmse: float
    src: str
    cpt: str
    dist: str
    undistp: bool
    groups: tuple[str, ...]


RECORD_COLUMNS: tuple[str, ...] = tuple(Record.__annotations__)


def concept_groups(lemmas: Iterable[str], lemma2groups: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """The concept groups of a sample: every group any of its lemmas maps to.

    Args:
        lemmas: the sample's concept lemmas (duplicates allowed).
        lemma2groups: lemma -> group names; lemmas not in it belong to no group (as official).

    Returns:
        Sorted tuple of unique group names.
    """
    groups: set[str] = set()
    for lemma in lemmas:
        groups.update(lemma2groups.get(lemma, ()))
    return tuple(sorted(groups))


def records_frame(
    outcomes: Iterable[Outcome], lemma2groups: Mapping[str, Sequence[str]] | None = None
) -> pd.DataFrame:
    """Build the records frame of scored samples.

    Args:
        outcomes: one ``Outcome`` per sample, any task order.
        lemma2groups: lemma -> concept groups (None: no groups).

    Returns:
        DataFrame with the columns of ``Record`` (in that order), one row per outcome, in
        input order. Float columns are float64; ``undistp`` is bool.

    Raises:
        ValueError: an outcome lacks a field.
    """
    rows = list(outcomes)
    lemma2groups = lemma2groups or {}
    try:
        frame = pd.DataFrame(
            {
                "example_id": pd.Series([r["example_id"] for r in rows], dtype=object),
                "task": pd.Series([r["task"] for r in rows], dtype=object),
                "score": np.array([r["score"] for r in rows], dtype=np.float64),
                "confidence": np.array([r["confidence"] for r in rows], dtype=np.float64),
            }
        )
        # bool(None) is False: the official code tests these flags by truthiness.
        new_src = np.array([bool(r["is_new_source"]) for r in rows], dtype=bool)
        new_cpt = np.array([bool(r["has_new_concept"]) for r in rows], dtype=bool)
        distorted = np.array([bool(r["is_distorted"]) for r in rows], dtype=bool)
        groups = [concept_groups(r["lemmas"], lemma2groups) for r in rows]
    except KeyError as err:
        raise ValueError(f"outcome is missing the field {err.args[0]!r}") from None

    measures = sample_measures(frame["score"].to_numpy(), frame["confidence"].to_numpy())
    for name in MEASURES:
        frame[name] = np.asarray(measures[name], dtype=np.float64)
    frame["src"] = np.where(new_src, "newSrc", "sameSrc").astype(object)
    frame["cpt"] = np.where(new_cpt, "newCpt", "sameCpt").astype(object)
    frame["dist"] = np.where(distorted, "dist", "undist").astype(object)
    frame["undistp"] = _parallel_undistorted(frame["task"], frame["example_id"], distorted)
    frame["groups"] = pd.Series(groups, dtype=object)
    return frame[list(RECORD_COLUMNS)]


def _parallel_undistorted(task: pd.Series, example_id: pd.Series, distorted: np.ndarray) -> np.ndarray:
    """[N] bool: the id is a distorted id of the same task minus its last 5 characters."""
    parents = pd.MultiIndex.from_arrays(
        [task[distorted], example_id[distorted].str[:-DIST_SUFFIX_LEN]]
    )
    return pd.MultiIndex.from_arrays([task, example_id]).isin(parents)
