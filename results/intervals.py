"""Confidence intervals exactly as the GRIT leaderboard computes them (GRIT_SPEC.md 4.2-4.4).

Two kinds, both 95%:

* per partition, a Student-t interval around the mean (``scipy.stats.t.interval`` in the
  official code), with ``1e-6`` added to the standard error;
* for ``agg`` and for the cross-task ``all``, a z-interval (1.96) around an unweighted
  average of partition means, with ``d = sqrt(sum(var / n)) / K``.

Everything is vectorised: inputs are arrays (or pandas Series) of equal length.
"""
from __future__ import annotations

import numpy as np
from scipy import special

# The official scorer adds 1e-6 to the standard error before scaling it (evaluate.py
# get_metric), so even a zero-variance partition has a (tiny) interval.
SEM_EPS = 1e-6
CONFIDENCE = 0.95
Z_95 = 1.96


def t_interval(mean, sem, n) -> tuple[np.ndarray, np.ndarray]:
    """Student-t 95% interval, as ``scipy.stats.t.interval(0.95, n - 1, mean, sem + 1e-6)``.

    Args:
        mean: [P] float, partition means.
        sem: [P] float, standard errors of the mean (``sqrt(var / n)``).
        n: [P] int, number of values per partition (each >= 2).

    Returns:
        (lower, upper): two [P] float arrays.
    """
    mean = np.asarray(mean, dtype=np.float64)
    scale = np.asarray(sem, dtype=np.float64) + SEM_EPS
    dof = np.asarray(n, dtype=np.float64) - 1.0
    # Same quantiles as scipy's t.interval: (1 - 0.95) / 2 and (1 + 0.95) / 2, which are not
    # exactly symmetric in floating point.
    q_low = special.stdtrit(dof, (1.0 - CONFIDENCE) / 2.0)
    q_high = special.stdtrit(dof, (1.0 + CONFIDENCE) / 2.0)
    return mean + q_low * scale, mean + q_high * scale


def z_average(means, variances, counts) -> tuple[float, float, float]:
    """Unweighted average of K partition means with the leaderboard's z-interval.

    Args:
        means: [K] float, the partition means (each entry has equal weight, whatever its n).
        variances: [K] float, sample variances (ddof=1) of the partitions.
        counts: [K] int, partition sizes.

    Returns:
        (mean, lower, upper) with ``d = sqrt(sum(var / n)) / K`` and bounds ``mean -/+ 1.96 d``.
    """
    means = np.asarray(means, dtype=np.float64)
    d = np.sqrt(np.sum(np.asarray(variances, np.float64) / np.asarray(counts, np.float64)))
    d = d / means.size
    mean = float(np.mean(means))
    return mean, float(mean - Z_95 * d), float(mean + Z_95 * d)
