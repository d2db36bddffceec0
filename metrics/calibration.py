"""Per-sample leaderboard measures of GRIT (evaluate.py lines 226-258, spec section 3).

These are the six columns the official evaluator writes for every sample before
aggregation. Confidence is NOT clipped or validated (the official code passes NaN and values
outside [0, 1] through); a missing confidence is the caller's business (GRIT data uses 1.0).
"""
from __future__ import annotations

import numpy as np

MEASURES: tuple[str, ...] = ("acc", "inf", "misinf", "conf", "sa", "rmse")


def sample_measures(score: np.ndarray, confidence: np.ndarray) -> dict[str, np.ndarray]:
    """Compute the per-sample measures, vectorised over samples.

    Args:
        score: ``[N]`` per-sample scores s in [0, 1] (or a scalar).
        confidence: ``[N]`` predicted confidences c (or a scalar), same shape as ``score``.

    Returns:
        Dict of float64 arrays of the input shape, in percent:
        ``acc`` = 100 s; ``inf`` = 100 c s; ``misinf`` = 100 c (1-s); ``conf`` = 100 c;
        ``sa`` = 100 (c s + (1-c)(1-s)); ``rmse`` = (100 (c-s))^2, a squared error whose mean
        the aggregation square-roots (the name is the official column name).
    """
    s = np.asarray(score, dtype=np.float64)
    c = np.asarray(confidence, dtype=np.float64)
    if s.shape != c.shape:
        raise ValueError(f"score shape {s.shape} and confidence shape {c.shape} differ")
    # Same operation order as evaluate.py, so values are bit-identical. The square is the C
    # library's pow(x, 2) as Python's (and numpy 1.x scalars') ``** 2`` computes it: it can
    # differ from x * x (numpy's array ``** 2``) in the last bit.
    error = 100 * (c - s)
    squared = np.array([v**2 for v in error.ravel().tolist()], np.float64).reshape(error.shape)
    return {
        "acc": 100 * s,
        "inf": 100 * c * s,
        "misinf": 100 * c * (1 - s),
        "conf": 100 * c,
        "sa": 100 * (c * s + (1 - c) * (1 - s)),
        "rmse": squared,
    }
