"""Partition statistics and intervals, operation for operation as the GRIT leaderboard.

The official ``evaluate.py`` (GRIT_SPEC.md 4.2-4.4) takes the mean / var / sem of a filtered
pandas column and bounds with ``scipy.stats.t.interval``; ``agg`` and the cross-task ``all``
use ``compute_avg_bounds`` (``np.mean`` of the means, ``d = np.sqrt(np.sum(var / n)) / K``).
Every value here goes through the same floating-point operations in the same order, so a
rounded leaderboard value equals the official one to the last printed digit:

* sums are numpy's pairwise summation of the whole 1-D column in the official row order
  (pandas ``Series.mean`` = ``values.sum() / count``); never a groupby or a 2-D reduction;
* the variance is pandas' two-pass ``nanvar`` and the standard error ``sqrt(var) / sqrt(n)``;
* NaN values are skipped by mean / var / sem while ``cnt`` counts every row (as pandas).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import stats

# The official scorer adds 1e-6 to the standard error before scaling it (evaluate.py
# get_metric), so even a zero-variance partition has a (tiny) interval.
SEM_EPS = 1e-6
CONFIDENCE = 0.95
Z_95 = 1.96


def series_stats(values: np.ndarray) -> tuple[np.float64, np.float64, np.float64]:
    """(mean, var with ddof=1, sem) of one column, as pandas ``Series.mean/var/sem``.

    Args:
        values: [N] float64, the partition's per-sample values in the official row order.

    Returns:
        numpy float64 scalars; var and sem are NaN with fewer than 2 non-NaN values.
    """
    values = np.asarray(values, dtype=np.float64)
    mask = np.isnan(values)
    has_nan = bool(mask.any())
    if has_nan:
        values = values.copy()
        values[mask] = 0.0
    count = np.float64(values.size - int(mask.sum()))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = values.sum() / count if count > 0 else np.float64(np.nan)
        if count <= 1:
            nan = np.float64(np.nan)
            return mean, nan, nan
        squares = (mean - values) ** 2
        if has_nan:
            squares[mask] = 0.0
        var = squares.sum() / (count - np.float64(1))
        sem = np.sqrt(var) / np.sqrt(count)
    return mean, var, sem


def t_interval(mean, sem, n) -> tuple[np.ndarray, np.ndarray]:
    """``scipy.stats.t.interval(0.95, n - 1, mean, sem + 1e-6)``, vectorised.

    Args:
        mean: [P] float, partition means.
        sem: [P] float, standard errors of the mean (``series_stats``).
        n: [P] int, number of rows per partition (each >= 2).

    Returns:
        (lower, upper): two [P] float64 arrays (scipy's ``ppf(q) * scale + loc`` per element).
    """
    mean = np.asarray(mean, dtype=np.float64)
    scale = np.asarray(sem, dtype=np.float64) + SEM_EPS
    dof = np.asarray(n, dtype=np.int64) - 1
    if mean.size == 0:
        return mean.copy(), mean.copy()
    lower, upper = stats.t.interval(CONFIDENCE, dof, mean, scale)
    return np.asarray(lower, np.float64), np.asarray(upper, np.float64)


def z_average(means: Sequence, variances: Sequence, counts: Sequence) -> tuple:
    """Unweighted average of K partition means with the leaderboard's z-interval.

    As ``compute_avg_bounds``: the lists are reduced by ``np.sum`` / ``np.mean`` in the order
    given (the official task order), so pass them in that order.

    Args:
        means: [K] the partition means (each entry has equal weight, whatever its n).
        variances: [K] sample variances (ddof=1) of the partitions.
        counts: [K] partition sizes.

    Returns:
        (mean, lower, upper) numpy float64 scalars: ``d = sqrt(sum(var / n)) / K``, bounds
        ``mean -/+ 1.96 d``.
    """
    d = np.sqrt(np.sum([v / n for v, n in zip(variances, counts)])) / len(counts)
    mean = np.mean(means)
    return mean, mean - Z_95 * d, mean + Z_95 * d
