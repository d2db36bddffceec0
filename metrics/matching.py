"""The one-to-one matching score GRIT shares between localization, segmentation and keypoints.

Official rule (grit_official ``metrics/localization.py``, ``segmentation.py``,
``keypoint.py``): empty vs empty scores 1, exactly one side empty scores 0; otherwise solve a
one-to-one assignment with ``scipy.optimize.linear_sum_assignment``, keep the assigned pairs
whose similarity is strictly > 0 (K of them), and return
``sum(kept similarities) / (P + G - K)`` = sum / (#predictions + #ground truths left unmatched).
It is neither AP nor F1: every extra prediction enlarges the denominator.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.optimize import linear_sum_assignment

# Localization builds the cost as ``1 - IoU``; segmentation and keypoints use ``-similarity``.
# Both have the same optimum, but float rounding makes scipy break ties differently, so each
# task keeps its own official cost.
CostRule = Literal["one_minus", "negative"]


def one_to_one_score(similarity: np.ndarray, *, cost: CostRule) -> float:
    """Score a prediction set against a ground-truth set from their similarity matrix.

    Args:
        similarity: ``[P, G]`` float similarities in [0, 1] (IoU or OKS); ``P`` or ``G`` may
            be 0.
        cost: ``"one_minus"`` (cost ``1 - M``, localization) or ``"negative"`` (cost ``-M``,
            segmentation and keypoint), as the official code of each task does.

    Returns:
        The per-sample score in [0, 1].
    """
    sim = np.asarray(similarity, dtype=np.float64)
    if sim.ndim != 2:
        raise ValueError(f"similarity must be a [P, G] matrix, got shape {sim.shape}")
    num_pred, num_gt = sim.shape
    if num_pred == 0 and num_gt == 0:
        return 1.0
    if num_pred == 0 or num_gt == 0:
        return 0.0
    if not np.all(np.isfinite(sim)):
        raise ValueError("similarity matrix contains NaN or infinity")
    if cost == "one_minus":
        cost_matrix = 1 - sim
    elif cost == "negative":
        cost_matrix = -sim
    else:
        raise ValueError(f"cost must be 'one_minus' or 'negative', got {cost!r}")
    rows, cols = linear_sum_assignment(cost_matrix)
    matched = sim[rows, cols]
    kept = matched[matched > 0]  # the official code drops assigned pairs with similarity 0
    num_missed = num_gt - kept.size
    # np.sum over the kept values in row order, as the official list -> np.sum does.
    return float(np.sum(kept) / (num_pred + num_missed))
