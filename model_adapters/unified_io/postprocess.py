"""Turn Unified-IO outputs into GRIT answers (spec section 6), numpy only.

Rules follow the released `uio/utils.py` (``tokens_to_regions``, ``extract_keypoints``,
``extract_segmentation_masks``, ``undo_image_preprocessing``), quirks included, except where a
docstring says it parses more defensively than the reference (which raises on any output
that does not fit its grammar).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from model_adapters.unified_io import vocab
from model_adapters.unified_io.preprocess import resize_nearest_index

MIN_COMPONENT_PIXELS = 10  # runs of <= 10 pixels are dropped (reference `clean_mask(m, 10)`)
NUM_KEYPOINTS = 17


def _long_side(image_wh: Sequence[float]) -> float:
    try:
        size = np.asarray(image_wh, np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"image_wh must be 2 numbers (width, height), got {image_wh!r}") from None
    if size.shape != (2,) or not np.all(np.isfinite(size)) or np.any(size <= 0):
        raise ValueError(f"image_wh must be 2 positive numbers (width, height), got {image_wh!r}")
    return float(size.max())


def _ids_until_end(token_ids) -> np.ndarray:
    ids = np.asarray(token_ids).reshape(-1)
    if ids.size == 0:
        return ids.astype(np.int64)  # [] arrives as float64
    if ids.dtype.kind not in "iu":
        raise TypeError(f"token ids must be integers, got dtype {ids.dtype}")
    # EOS ends the output; PAD (0) can only follow it, so it ends the output too.
    ends = np.nonzero((ids == vocab.EOS_ID) | (ids == vocab.PAD_ID))[0]
    return ids[: ends[0]] if ends.size else ids


def parse_location_groups(token_ids, group_size: int) -> tuple[np.ndarray, list[list[int]]]:
    """Split decoded ids into groups of `group_size` location ids, each with its label ids.

    Grammar: ``(LOC{group_size} LABEL*)* EOS`` where LOC is a location id (32000..32999,
    bin 999 included) and LABEL a text id 2..31999. Parsing stops at EOS (or PAD). Defensive
    where the reference raises: ids before the first group and runs of fewer than
    `group_size` location ids are skipped; a run of 6 gives one group and skips 2; sentinel
    and image ids never join a label.

    Returns:
        (int64 [n, group_size] location ids, n label-id lists).
    """
    ids = _ids_until_end(token_ids)
    is_loc = vocab.is_location_id(ids)
    groups: list[np.ndarray] = []
    labels: list[list[int]] = []
    i, n = 0, ids.size
    while i < n:
        if not is_loc[i]:
            i += 1  # text before the first box, or debris: skip
            continue
        run = i
        while run < n and is_loc[run] and run - i < group_size:
            run += 1
        if run - i < group_size:
            i = run  # malformed group: too few location ids
            continue
        groups.append(ids[i:run].astype(np.int64))
        label_end = run
        while label_end < n and 2 <= ids[label_end] < vocab.LOCATION_ID_MIN:
            label_end += 1
        labels.append([int(t) for t in ids[run:label_end]])
        i = label_end
    locs = np.stack(groups) if groups else np.zeros((0, group_size), np.int64)
    return locs, labels


def _ids_to_xy(locs: np.ndarray, long_side: float) -> np.ndarray:
    # (33000 - id) is bin + 1 (1..1000): the reference's decode sits about one bin high.
    # It multiplies by (S / 1000) in that order; we keep the order for identical floats.
    yx = (vocab.SENTINEL_ID_MIN - locs).astype(np.float64) * (long_side / 1000)
    n, k = locs.shape
    return yx.reshape(n, k // 2, 2)[:, :, ::-1].reshape(n, k)


def decode_boxes(token_ids, image_wh: Sequence[float]) -> np.ndarray:
    """Boxes of a localization / refexp output.

    Args:
        token_ids: decoded text ids [T] (groups ``y1 x1 y2 x2`` + optional label ids, EOS).
        image_wh: (width, height) of the original image, pixels.

    Returns:
        float64 [n, 4] ``x1 y1 x2 y2`` pixels, ``coord = (33000 - id) * (max(w, h) / 1000)``;
        n may be 0. Not clipped to the image and not reordered, as in the reference.
    """
    long_side = _long_side(image_wh)
    locs, _ = parse_location_groups(token_ids, 4)
    return _ids_to_xy(locs, long_side)


def decode_keypoints(token_ids, image_wh: Sequence[float],
                     decode_label: Callable[[list[int]], str]) -> list[float] | None:
    """17 COCO keypoints of one person from a pose output.

    Grammar: 17 groups of ``y x VIS`` where VIS is the text "1" / "2" / "3" (COCO visibility
    v + 1; label 0 = not labelled). As the reference: a label that is not an integer 1..3
    counts as 0; points with label 0 move to the mean of the labelled ones (v 1 and 2); more
    than 17 groups are truncated; fewer are padded with the mean of all points (label 0).

    Args:
        token_ids: decoded text ids [T].
        image_wh: (width, height) of the original image, pixels.
        decode_label: label ids -> text (``UnifiedIOTokenizer.decode``).

    Returns:
        51 floats ``[x, y, v] * 17`` (pixels, v in 0..2), or None when no point is labelled.
    """
    long_side = _long_side(image_wh)
    locs, label_ids = parse_location_groups(token_ids, 2)
    points = _ids_to_xy(locs, long_side)
    labels = np.zeros(len(points), np.int64)
    for k, ids in enumerate(label_ids):
        try:
            value = int(decode_label(ids)) - 1
        except ValueError:
            value = 0
        labels[k] = value if 0 <= value <= 2 else 0
    if labels.sum() == 0:
        return None
    points[labels == 0] = points[labels != 0].mean(axis=0)
    points, labels = points[:NUM_KEYPOINTS], labels[:NUM_KEYPOINTS]
    missing = NUM_KEYPOINTS - len(points)
    if missing:
        points = np.concatenate([points, np.tile(points.mean(axis=0), (missing, 1))])
        labels = np.concatenate([labels, np.zeros(missing, np.int64)])
    return np.column_stack([points, labels]).reshape(-1).astype(float).tolist()


def decode_text(token_ids, tokenizer, skip_special: bool = False) -> str:
    """Answer text (VQA, free-form categorization): cut at EOS, then detokenise.

    The reference decodes with ``skip_special_tokens=False``, so location / sentinel ids show
    up as ``<extra_id_N>`` text; we keep that default.
    """
    return tokenizer.decode(_ids_until_end(token_ids), skip_special=skip_special)


def _as_uint8_image(image, what: str) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{what} must be [H, W, 3], got shape {arr.shape}")
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{what} contains NaN or infinite values")
        # As the reference: (x * 255).astype(uint8), i.e. truncation (clipped first here).
        return (np.clip(arr, 0.0, 1.0) * 255).astype(np.uint8)
    raise TypeError(f"{what} must be uint8 or float in [0, 1], got dtype {arr.dtype}")


def remove_short_runs(mask_flat: np.ndarray, min_size: int = MIN_COMPONENT_PIXELS) -> np.ndarray:
    """Keep only runs of consecutive True longer than `min_size` in a 1-D bool vector.

    This is what the reference's ``clean_mask`` computes, because it labels connected
    components of the FLATTENED [H*W] mask: components are raster-order runs (a run may wrap
    from one row's end to the next row's start), not 2-D regions.
    """
    m = np.asarray(mask_flat, bool).reshape(-1)
    edges = np.diff(np.concatenate([[0], m.view(np.int8), [0]]))
    starts = np.nonzero(edges == 1)[0]
    ends = np.nonzero(edges == -1)[0]
    keep = (ends - starts) > min_size
    # A run's end (exclusive) is always False, so no start coincides with an end: plain
    # assignment builds the +1/-1 edge vector.
    delta = np.zeros(m.size + 1, np.int8)
    delta[starts[keep]] = 1
    delta[ends[keep]] = -1
    return np.cumsum(delta[:-1], dtype=np.int32) > 0


def segmentation_masks(image) -> list[np.ndarray]:
    """Instance masks of a generated segmentation image ("coarse_color" mode).

    Per pixel (float64 channel mean ``m``): background if ``m <= 30``; grey/white instance if
    not background and ``sum|c - m| < 100``; colour instance R/G/B if that channel is the
    argmax (first on ties) and exceeds ``m`` by more than 40. Each mask is cleaned with
    `remove_short_runs` (flattened runs of > 10 pixels kept) and kept only if non-empty.
    Reference quirk, reproduced: its "already used" bookkeeping starts as ``background AND
    grey`` (always empty) and is updated with AND, so it never excludes anything: colour
    masks may overlap the grey mask and may include "background" pixels such as (90, 0, 0).

    Args:
        image: uint8 [H, W, 3] (256x256 from the VQ-GAN), or float in [0, 1] (converted as
            the reference does).

    Returns:
        bool [H, W] masks in the order grey/white, R, G, B, empty ones omitted.
    """
    img = _as_uint8_image(image, "segmentation image")
    h, w = img.shape[:2]
    flat = img.reshape(-1, 3).astype(np.float64)
    means = flat.mean(axis=-1)
    diff = flat - means[:, None]
    background = means <= 30
    candidates = [~background & (np.abs(diff).sum(axis=-1) < 100)]
    dominant = np.argmax(flat, axis=-1)
    for c in range(3):
        candidates.append((dominant == c) & (np.abs(diff[:, c]) > 40))
    out = []
    for cand in candidates:
        cleaned = remove_short_runs(cand)
        if cleaned.any():
            out.append(cleaned.reshape(h, w))
    return out


def undo_preprocessing(image: np.ndarray, image_hw: Sequence[int]) -> np.ndarray:
    """Crop the padding of a generated square image and resize it to the original size.

    As the reference's ``undo_image_preprocessing``: ``ratio = S / max(H, W)`` (S the square's
    side); keep ``int(ratio * W)`` columns if ``H > W``, else ``int(ratio * H)`` rows; then
    nearest-neighbour resize (PyTorch "nearest", no antialias) to H x W. At least one row /
    column is kept for extremely thin images (the reference would fail there).

    Args:
        image: [S, S, ...] any dtype (values are only selected, never mixed).
        image_hw: (H, W) of the original image, pixels.

    Returns:
        [H, W, ...] same dtype.
    """
    arr = np.asarray(image)
    if arr.ndim < 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"generated image must be square [S, S, ...], got shape {arr.shape}")
    h, w = (int(v) for v in image_hw)
    if h < 1 or w < 1:
        raise ValueError(f"image_hw must be positive (H, W), got {tuple(image_hw)!r}")
    ratio = arr.shape[0] / max(w, h)
    if h > w:
        arr = arr[:, : max(1, int(ratio * w))]
    else:
        arr = arr[: max(1, int(ratio * h)), :]
    rows = resize_nearest_index(arr.shape[0], h)
    cols = resize_nearest_index(arr.shape[1], w)
    return arr[rows][:, cols]


def masks_to_original(masks: Sequence[np.ndarray], image_hw: Sequence[int]) -> list[np.ndarray]:
    """Bring 256x256 canvas masks to the original image: bool [H, W] each **[inferred]**.

    The reference returns canvas masks; GRIT compares masks at the image's size, so we undo
    the padding and scaling the same way as for generated images (nearest neighbour).
    """
    return [undo_preprocessing(np.asarray(m, bool), image_hw) for m in masks]


def normal_image_to_original(image, image_hw: Sequence[int]) -> np.ndarray:
    """Generated surface-normal image -> uint8 [H, W, 3] for the submission PNG.

    Float images in [0, 1] become uint8 by truncation of ``x * 255`` **[inferred]** (the
    reference resizes floats; the PNG conversion is not in its code). Nearest resizing only
    selects pixels, so converting before or after it gives the same PNG.
    """
    return undo_preprocessing(_as_uint8_image(image, "normal image"), image_hw)
