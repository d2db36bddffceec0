"""Top-1 accuracy for ImageNet / Places365-style classification.

The prediction is a class NAME (a generative model answers with words) and is compared with
the ground-truth name exactly, after trimming surrounding whitespace and lower-casing: class
lists are the reference vocabulary, so no further answer normalisation is applied.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from metrics.errors import UnscorableInput


def _canonical(name: str) -> str:
    return " ".join(name.split()).lower()


def top1_correct(prediction: str, label: str) -> float:
    """1.0 if the predicted class name is the label (whitespace/case-insensitive), else 0.0."""
    if not isinstance(prediction, str) or not isinstance(label, str):
        raise UnscorableInput(
            f"class names must be strings, got {type(prediction).__name__} and "
            f"{type(label).__name__}"
        )
    return float(_canonical(prediction) == _canonical(label))


def top1_accuracy(predictions: Sequence[str], labels: Sequence[str]) -> float:
    """Share of images whose predicted class name equals the label, in [0, 1].

    Args:
        predictions: [N] predicted class names.
        labels: [N] ground-truth class names.
    """
    if len(predictions) != len(labels):
        raise UnscorableInput(f"{len(predictions)} predictions for {len(labels)} labels")
    if not labels:
        raise UnscorableInput("no samples to score")
    return float(np.mean([top1_correct(p, g) for p, g in zip(predictions, labels)]))
