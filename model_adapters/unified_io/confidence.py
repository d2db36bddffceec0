"""Confidences in [0, 1] from the decoder's per-step log-probabilities.

The released code only returns a score summed over every step (post-EOS and dummy steps
included), so these definitions are ours **[inferred]** (UNIFIED_IO.md section 6): text and
boxes = probability of the sequence through EOS; answer options = softmax over -NLL; generated
images = exp(mean per-code log-prob). Never NaN, always in [0, 1].
"""
from __future__ import annotations

import numpy as np

from model_adapters.unified_io import vocab

def _clean_logprobs(logp) -> np.ndarray:
    # NaN counts as impossible; a log-prob above 0 can only be noise, so it counts as 0.
    lp = np.asarray(logp, np.float64)
    return np.minimum(np.where(np.isnan(lp), -np.inf, lp), 0.0)


def _finite_prob(logp: np.ndarray) -> np.ndarray:
    return np.clip(np.exp(_clean_logprobs(logp)), 0.0, 1.0)


def text_confidence(token_ids, step_logprobs, length_normalize: bool = False):
    """Probability of a decoded answer through its EOS.

    Args:
        token_ids: int [T] or [B, T] generated ids.
        step_logprobs: float [T] or [B, T], log-prob of each generated id (natural log).
        length_normalize: use the per-token geometric mean instead of the product.

    Returns:
        ``exp(sum of log-probs up to and including the first EOS)`` (all steps when there is
        no EOS), a float or float64 [B] in [0, 1].
    """
    ids = np.asarray(token_ids)
    lp = _clean_logprobs(step_logprobs)
    if ids.shape != lp.shape or ids.ndim not in (1, 2):
        raise ValueError(f"token_ids {ids.shape} and step_logprobs {lp.shape} must both be "
                         f"[T] or [B, T]")
    ids2, lp2 = np.atleast_2d(ids), np.atleast_2d(lp)
    is_eos = ids2 == vocab.EOS_ID
    first = np.where(is_eos.any(axis=1), is_eos.argmax(axis=1), ids2.shape[1] - 1)
    keep = np.arange(ids2.shape[1])[None, :] <= first[:, None]
    with np.errstate(over="ignore"):  # a sum of huge negatives may overflow to -inf: fine
        total = np.where(keep, lp2, 0.0).sum(axis=1)
    if length_normalize:
        total = total / np.maximum(keep.sum(axis=1), 1)
    conf = _finite_prob(total)
    return float(conf[0]) if ids.ndim == 1 else conf


def option_confidence(option_nll):
    """Choice and confidence of answer-option scoring.

    Args:
        option_nll: float [K] or [B, K] total NLL per option (lower is better); non-finite
            values count as impossible options.

    Returns:
        (index of the min-NLL option, softmax(-NLL) probability of it), ints/floats for [K]
        input or int64 [B] / float64 [B]. With every option impossible: (0, 0.0).
    """
    nll = np.asarray(option_nll, np.float64)
    if nll.ndim not in (1, 2) or nll.shape[-1] == 0:
        raise ValueError(f"option_nll must be [K] or [B, K] with K >= 1, got {nll.shape}")
    with np.errstate(over="ignore", invalid="ignore"):  # extreme NLLs: exp underflows to 0
        return _option_confidence(nll)


def _option_confidence(nll: np.ndarray):
    scores = np.where(np.isfinite(nll), -np.atleast_2d(nll), -np.inf)
    best = scores.argmax(axis=1)
    top = scores.max(axis=1, keepdims=True)
    ok = np.isfinite(top[:, 0])
    shifted = np.exp(np.where(ok[:, None], scores - np.where(ok[:, None], top, 0.0), -np.inf))
    denom = shifted.sum(axis=1)
    conf = np.where(ok, 1.0 / np.where(ok, denom, 1.0), 0.0)  # exp(0) / sum
    conf = np.clip(conf, 0.0, 1.0)
    if nll.ndim == 1:
        return int(best[0]), float(conf[0])
    return best.astype(np.int64), conf


def image_confidence(code_logprobs):
    """``exp(mean per-code log-prob)`` of a generated image: float, or [B] for [B, N] input."""
    lp = _clean_logprobs(code_logprobs)
    if lp.ndim not in (1, 2) or lp.shape[-1] == 0:
        raise ValueError(f"code_logprobs must be [N] or [B, N] with N >= 1, got {lp.shape}")
    with np.errstate(over="ignore"):
        conf = _finite_prob(np.atleast_2d(lp).mean(axis=1))
    return float(conf[0]) if lp.ndim == 1 else conf
