"""COCO compressed RLE helpers as GRIT uses them (grit_official ``utils/rle.py``).

A GRIT mask is ``{"size": [H, W], "counts": str}``: pycocotools' compressed RLE with its
``counts`` bytes decoded to a UTF-8 string. Decoding validates the string first, because
pycocotools silently writes garbage (values other than 0/1) for a malformed one.
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np
from pycocotools import mask as mask_utils

from metrics.errors import UnscorableInput


@contextmanager
def _quiet_pycocotools() -> Iterator[None]:
    # pycocotools 2.0.x on numpy 2 emits a DeprecationWarning about __array__(copy=...) on
    # every call; it is harmless (the official evaluator would turn it into an error).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, message=r".*__array__ implementation.*")
        yield


def rle_encode(mask: np.ndarray) -> dict[str, Any]:
    """Encode a binary mask as GRIT's RLE dict.

    Args:
        mask: ``[H, W]`` bool or 0/1 integer array; nonzero = foreground.

    Returns:
        ``{"size": [H, W], "counts": str}`` (pycocotools compressed RLE, UTF-8 string).
    """
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"rle_encode takes a 2-D mask, got shape {m.shape}")
    with _quiet_pycocotools():
        encoded = mask_utils.encode(np.asfortranarray(m != 0, dtype=np.uint8))
    return {"size": [int(s) for s in encoded["size"]], "counts": encoded["counts"].decode("utf-8")}


def parse_counts(counts: str) -> np.ndarray:
    """Decode a compressed RLE counts string into run lengths (pycocotools ``rleFrString``).

    Each value is a little-endian sequence of 5-bit groups in characters ``'0' + c``; bit
    0x20 means "more groups follow", bit 0x10 of the last group is the sign. From the third
    value on, each value is a delta to the value two places before.

    Returns:
        ``[M]`` int64 run lengths, alternately background and foreground, starting with
        background, in column-major pixel order.

    Raises:
        UnscorableInput: a character outside ``'0'..'o'`` or a truncated value.
    """
    codes = np.frombuffer(counts.encode("utf-8"), dtype=np.uint8).astype(np.int64) - 48
    if codes.size == 0:
        return np.zeros(0, dtype=np.int64)
    if codes.min() < 0 or codes.max() > 63:
        raise UnscorableInput("RLE counts contains characters outside '0'..'o'; it is not a COCO compressed RLE")
    more = (codes & 0x20) != 0
    if more[-1]:
        raise UnscorableInput("RLE counts string is truncated (its last value is incomplete)")
    ends = np.flatnonzero(~more)
    starts = np.concatenate([[0], ends[:-1] + 1])
    lengths = ends - starts + 1
    if lengths.max() > 8:  # 40 bits: far beyond any real run length
        raise UnscorableInput("RLE counts holds a run length too large for any image")
    group = np.repeat(np.arange(ends.size), lengths)
    shift = 5 * (np.arange(codes.size) - starts[group])
    values = np.bincount(group, weights=(codes & 0x1F) << shift).astype(np.int64)
    negative = (codes[ends] & 0x10) != 0
    values[negative] -= np.int64(1) << (5 * lengths[negative])
    # Deltas: value m (m > 2) adds the decoded value m - 2, so odd and even chains are cumsums.
    out = values.copy()
    out[1::2] = np.cumsum(values[1::2])
    if out.size > 2:
        out[2::2] = np.cumsum(values[2::2])
    return out


def _check_rle(rle: Any, what: str) -> tuple[int, int, bytes]:
    if not isinstance(rle, dict):
        raise UnscorableInput(f"{what} must be an RLE dict {{'size': [H, W], 'counts': str}}, got {type(rle).__name__}")
    if "size" not in rle:
        if "shape" in rle:
            raise UnscorableInput(
                f"{what} has a 'shape' key; GRIT RLE needs 'size': [H, W] (submission_format.md is "
                "wrong about 'shape'; encode masks with metrics.rle.rle_encode)")
        raise UnscorableInput(f"{what} has no 'size': [H, W] key")
    size = rle["size"]
    if (not isinstance(size, (list, tuple)) or len(size) != 2
            or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0 for s in size)):
        raise UnscorableInput(f"{what} 'size' must be [H, W] non-negative integers, got {size!r}")
    counts = rle.get("counts")
    if isinstance(counts, (list, tuple)):
        raise UnscorableInput(
            f"{what} is an uncompressed RLE (counts is a list); GRIT needs compressed RLE with a "
            "string 'counts' (use metrics.rle.rle_encode or pycocotools.mask.frPyObjects)")
    if isinstance(counts, bytes):  # what pycocotools returns; JSON files carry str
        counts = counts.decode("utf-8")
    if not isinstance(counts, str):
        raise UnscorableInput(f"{what} 'counts' must be a string, got {type(counts).__name__}")
    h, w = int(size[0]), int(size[1])
    runs = parse_counts(counts)
    if np.any(runs < 0) or int(runs.sum()) != h * w:
        raise UnscorableInput(f"{what} 'counts' does not describe a {h}x{w} mask (its runs sum to {int(runs.sum())})")
    return h, w, counts.encode("utf-8")


def rle_decode(rle: dict[str, Any], what: str = "mask") -> np.ndarray:
    """Decode one GRIT RLE dict with pycocotools, after validating it.

    Args:
        rle: ``{"size": [H, W], "counts": str}`` (bytes counts are accepted too).
        what: name used in error messages, e.g. "predicted mask 2".

    Returns:
        ``[H, W]`` uint8 array of 0/1, as the official ``rle.decode``.

    Raises:
        UnscorableInput: not a dict, ``shape`` instead of ``size``, uncompressed (list)
            counts, or counts that do not describe an HxW mask.
    """
    h, w, counts = _check_rle(rle, what)
    with _quiet_pycocotools():
        return mask_utils.decode({"size": [h, w], "counts": counts})
