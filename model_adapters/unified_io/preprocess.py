"""Encoder image preprocessing of Unified-IO (spec section 3.1), numpy only.

Reference pipeline (``uio/utils.py: preprocess_image``): scale the long side to 384 with
``int()`` truncation, resize with torchvision ``F.resize(bilinear, antialias=True)`` on a float
image, zero-pad bottom/right to 384x384, normalise the *padded* image with ImageNet mean/std
(so padding becomes ``-mean/std``), and turn the pixel-validity mask into a 24x24 patch mask
by nearest-neighbour resizing (a patch is real iff its top-left pixel is real).

The antialiased resize is re-implemented from PyTorch's separable AA kernel: for a downscale
factor ``s = in/out`` the triangle filter's support is widened to ``s`` (``1`` when upscaling),
window ``[int(c - support + 0.5), int(c + support + 0.5))`` around ``c = s * (i + 0.5)``, weights
``max(0, 1 - |j - c + 0.5| / max(s, 1))`` normalised to sum 1. It is applied as a banded
(sparse) matrix product per axis: a dense [out, in] matmul costs O(in) per output pixel, which
is seconds for a 4000-pixel photo, while the band has only ``~2s + 2`` taps. Checked against
torch 2.13 ``interpolate`` on float64 (max difference 9e-16 over sizes up to 4000x3000), except
where the OUTPUT is one pixel wide: there torch's AA kernel returns a constant column (e.g.
(10, 1) -> (3, 1) gives [1.49, 1.49, 1.49] for the input 0..9), a torch bug we do not copy.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

IMAGE_SIZE = 384
PATCH_SIZE = 16
NUM_PATCHES_SIDE = IMAGE_SIZE // PATCH_SIZE  # 24
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406])
IMAGENET_STD = np.array([0.229, 0.224, 0.225])


class ResizeInfo(NamedTuple):
    """How the original image maps onto the 384x384 canvas.

    Attributes:
        original_hw: (H, W) of the input image, pixels.
        resized_hw: (h, w) of the resized content in the top-left of the canvas, pixels.
        scale: ``384 / max(H, W)`` (the factor the reference multiplies by before ``int()``).
    """

    original_hw: tuple[int, int]
    resized_hw: tuple[int, int]
    scale: float


class PreprocessedImage(NamedTuple):
    """Encoder input of one image.

    Attributes:
        image: float32 [384, 384, 3], ImageNet-normalised, zero-padded before normalising.
        patch_mask: int32 [576], 1 = real 16x16 patch, raster order over the 24x24 grid.
        info: the resize geometry.
    """

    image: np.ndarray
    patch_mask: np.ndarray
    info: ResizeInfo


def aa_resize_taps(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Banded weights of PyTorch's antialiased bilinear resize along one axis.

    Returns:
        (start int64 [out], weights float64 [out, K]): output i is
        ``sum_k weights[i, k] * x[start[i] + k]``; taps past the window have weight 0 and a
        start index clamped so every index stays inside ``0..in_size-1``.
    """
    scale = in_size / out_size
    support = scale if scale >= 1.0 else 1.0  # bilinear: interp_size 2 -> support 1, widened
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    centers = scale * (np.arange(out_size) + 0.5)
    # PyTorch truncates toward zero (int64 cast) then clamps at 0.
    xmin = np.maximum(np.trunc(centers - support + 0.5), 0).astype(np.int64)
    xmax = np.minimum(np.trunc(centers + support + 0.5), in_size).astype(np.int64)
    width = int((xmax - xmin).max())
    k = np.arange(width)
    w = 1.0 - np.abs((xmin[:, None] + k - centers[:, None] + 0.5) * invscale)
    w = np.where((k < (xmax - xmin)[:, None]) & (w > 0), w, 0.0)
    total = w.sum(axis=1, keepdims=True)
    w = np.divide(w, total, out=np.zeros_like(w), where=total != 0)
    # Shift windows that would run past the end; their extra taps carry weight 0 anyway.
    start = np.minimum(xmin, in_size - width)
    shift = xmin - start
    if shift.any():
        rolled = np.zeros_like(w)
        for i in np.nonzero(shift)[0]:
            rolled[i, shift[i]:] = w[i, : width - shift[i]]
        w = np.where(shift[:, None] > 0, rolled, w)
    return start, w


def _resize_rows(x: np.ndarray, out_size: int) -> np.ndarray:
    """Resize a C-contiguous float64 [in, M] array along axis 0 -> [out_size, M]."""
    start, w = aa_resize_taps(x.shape[0], out_size)
    out = np.zeros((out_size, x.shape[1]), np.float64)
    for k in range(w.shape[1]):  # one vectorised pass per tap (about 2 * scale + 2 taps)
        tap = x[start + k]  # gathers whole contiguous rows: cache-friendly
        tap *= w[:, k, None]
        out += tap
    return out


def resize_bilinear_antialias(image: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """``torch.nn.functional.interpolate(bilinear, antialias=True, align_corners=False)``.

    Args:
        image: float [H, W, C].
        out_hw: (out_h, out_w) pixels.

    Returns:
        float64 [out_h, out_w, C]. Computed in float64, as the reference does for uint8 input
        (it divides by 255.0, which gives float64, before calling torch).
    """
    x = np.asarray(image, np.float64)
    h, w, c = x.shape
    out_h, out_w = out_hw
    # Each pass works on whole rows of a contiguous 2-D view. The vertical pass goes first
    # (PyTorch does horizontal first; in float64 the order changes results by ~1e-16 only)
    # because it is cheap and shrinks the array the width pass must transpose.
    if out_h != h:
        x = _resize_rows(np.ascontiguousarray(x).reshape(h, w * c), out_h).reshape(out_h, w, c)
    if out_w != w:
        xt = np.ascontiguousarray(x.transpose(1, 0, 2)).reshape(w, out_h * c)
        x = _resize_rows(xt, out_w).reshape(out_w, out_h, c).transpose(1, 0, 2)
    return np.ascontiguousarray(x)


def resize_nearest_index(in_size: int, out_size: int) -> np.ndarray:
    """Source index of each output pixel for torch ``interpolate(mode="nearest")``.

    ``floor(i * float32(in / out))`` computed in float32, as PyTorch does for float32 tensors
    (the reference's masks and generated images are float32 when they are resized), clamped to
    in-1; the same size is the identity and exact 2x upsampling uses ``i >> 1`` (PyTorch's
    shortcuts). Checked against torch 2.13 for all in < 600 and many out sizes.
    """
    i = np.arange(out_size)
    if out_size == in_size:
        return i
    if out_size == 2 * in_size:
        return i >> 1
    scale = np.float32(in_size) / np.float32(out_size)
    src = np.floor(i.astype(np.float32) * scale).astype(np.int64)
    return np.minimum(src, in_size - 1)


def _validated_float_image(image) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"image must be RGB [H, W, 3], got shape {arr.shape}")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"image must be non-empty, got shape {arr.shape}")
    if arr.dtype == np.uint8:
        # The reference skips this division when no resize happens (a bug); we always divide.
        return arr / 255.0
    if arr.dtype.kind != "f":
        raise TypeError(f"image must be uint8 or float in [0, 1], got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("image contains NaN or infinite values")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(f"float image must be in [0, 1], got values in [{lo}, {hi}]")
    return arr.astype(np.float64)


def resized_size(height: int, width: int, size: int = IMAGE_SIZE) -> tuple[tuple[int, int], float]:
    """((h, w), scale) of the content after the long side is scaled to `size`.

    Python float arithmetic and ``int()`` truncation exactly as the reference, so e.g. the long
    side can come out one pixel short when ``size / L * L`` rounds below ``size``.
    """
    scale = size / max(height, width)
    if scale == 1.0:
        return (height, width), scale
    # An extremely thin image would truncate to 0 pixels and crash the reference; keep >= 1.
    return (max(1, int(height * scale)), max(1, int(width * scale))), scale


def preprocess_image(image) -> PreprocessedImage:
    """Resize, pad and normalise one image for the Unified-IO encoder.

    Args:
        image: RGB uint8 [H, W, 3] or float [H, W, 3] in [0, 1].

    Returns:
        `PreprocessedImage` (image float32 [384, 384, 3], patch_mask int32 [576], info).
    """
    x = _validated_float_image(image)
    h0, w0 = x.shape[:2]
    (h, w), scale = resized_size(h0, w0)
    if (h, w) != (h0, w0):
        x = resize_bilinear_antialias(x, (h, w))
    canvas = np.zeros((IMAGE_SIZE, IMAGE_SIZE, 3), np.float64)
    canvas[:h, :w] = x
    normalised = ((canvas - IMAGENET_MEAN) / IMAGENET_STD).astype(np.float32)
    return PreprocessedImage(normalised, patch_mask_for(h, w), ResizeInfo((h0, w0), (h, w), scale))


def patch_mask_for(height: int, width: int) -> np.ndarray:
    """int32 [576] patch mask of content occupying the top-left `height` x `width` pixels.

    Nearest-neighbour 384 -> 24 samples pixel 16*i, so patch (r, c) is real iff
    ``16r < height and 16c < width`` (a half-covered patch counts as real).
    """
    src = resize_nearest_index(IMAGE_SIZE, NUM_PATCHES_SIDE)
    rows = src < height
    cols = src < width
    return (rows[:, None] & cols[None, :]).reshape(-1).astype(np.int32)


def blank_image() -> PreprocessedImage:
    """Input for "no image": zeros normalised (``-mean/std``) and an all-zero patch mask."""
    canvas = ((np.zeros((IMAGE_SIZE, IMAGE_SIZE, 3)) - IMAGENET_MEAN) / IMAGENET_STD)
    mask = np.zeros(NUM_PATCHES_SIDE * NUM_PATCHES_SIDE, np.int32)
    return PreprocessedImage(canvas.astype(np.float32), mask, ResizeInfo((0, 0), (0, 0), 0.0))
