"""A numpy port of OpenCV's ``cv2.resize(mask, (W, H))`` (INTER_LINEAR) for uint8 masks.

The official GRIT segmentation metric resizes a predicted mask whose size differs from the
GT's with ``cv2.resize`` and its default bilinear interpolation. The package must not depend
on OpenCV, so this reproduces OpenCV's fixed-point 8-bit path bit for bit (checked against
``cv2.resize`` in tests/metrics/test_mask_resize.py):

* Source coordinate of output pixel d: ``f = float32((d + 0.5) * (src / dst) - 0.5)``,
  ``s = floor(f)``, weight ``f - s``. Weights are ``round_half_even(w * 2048)``
  (INTER_RESIZE_COEF_BITS = 11) for ``1 - f`` and ``f`` separately.
* Horizontal: borders are clamped by setting the weight to 0 (left) or using the last
  column alone (right); row buffer ``S[s]*a0 + S[s+1]*a1`` (int, scale 2048).
* Vertical: the weight is NOT reset at the borders; the row index is clamped instead.
  Rows are combined with OpenCV's staged shifts ``((r0 >> 4) * b0 >> 16) + ((r1 >> 4) * b1
  >> 16)``, then ``(x + 2) >> 2`` and saturation to 0..255 (22 fractional bits in all).
"""
from __future__ import annotations

import numpy as np

INTER_RESIZE_COEF_BITS = 11
INTER_RESIZE_COEF_SCALE = 1 << INTER_RESIZE_COEF_BITS  # 2048


def _source_positions(src: int, dst: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer source index and float32 fraction of each output pixel along one axis."""
    # OpenCV: scale = 1 / (dst / src) in double, then fx = (float)((dx + 0.5) * scale - 0.5).
    scale = 1.0 / (dst / src)
    pos = ((np.arange(dst, dtype=np.float64) + 0.5) * scale - 0.5).astype(np.float32)
    index = np.floor(pos).astype(np.int64)
    frac = (pos - index.astype(np.float32)).astype(np.float32)
    return index, frac


def _fixed_weights(frac: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # saturate_cast<short>(w * 2048) rounds half to even, like np.rint; float32 throughout.
    scale = np.float32(INTER_RESIZE_COEF_SCALE)
    w0 = np.rint((np.float32(1) - frac) * scale).astype(np.int32)
    w1 = np.rint(frac * scale).astype(np.int32)
    return w0, w1


def resize_linear_uint8(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize a 2-D uint8 image exactly as ``cv2.resize(image, (width, height))`` does.

    Args:
        image: ``[h, w]`` uint8 (a 0/1 mask in GRIT, but any values work).
        width: output width W in pixels (note the cv2 argument order: width first).
        height: output height H in pixels.

    Returns:
        ``[H, W]`` uint8. For a 0/1 mask the values stay 0/1.
    """
    img = np.asarray(image)
    if img.ndim != 2 or img.dtype != np.uint8:
        raise ValueError(f"resize_linear_uint8 takes a 2-D uint8 array, got {img.dtype} of shape {img.shape}")
    h, w = img.shape
    if min(h, w, width, height) <= 0:
        raise ValueError(f"cannot resize a {h}x{w} image to {height}x{width}: sizes must be positive")
    if (h, w) == (height, width):
        return img.copy()
    # int32 is enough: row values <= 255 * 2048 and (row >> 4) * 2048 < 2**31.
    src = img.astype(np.int32)

    # Horizontal pass into a fixed-point row buffer [h, W] (scale 2048).
    sx, fx = _source_positions(w, width)
    left = sx < 0
    fx[left], sx[left] = 0, 0
    right = sx >= w - 1  # OpenCV's "xmax" columns: only S[w-1] * 2048, no second tap
    fx[right], sx[right] = 0, w - 1
    ax0, ax1 = _fixed_weights(fx)
    rows = src[:, sx] * ax0 + src[:, np.minimum(sx + 1, w - 1)] * ax1
    rows[:, right] = src[:, sx[right]] * INTER_RESIZE_COEF_SCALE

    # Vertical pass: unclamped weights, clamped row indices, OpenCV's staged shifts.
    sy, fy = _source_positions(h, height)
    by0, by1 = _fixed_weights(fy)
    r0 = rows[np.clip(sy, 0, h - 1)] >> 4
    r1 = rows[np.clip(sy + 1, 0, h - 1)] >> 4
    acc = ((r0 * by0[:, None]) >> 16) + ((r1 * by1[:, None]) >> 16)
    return np.clip((acc + 2) >> 2, 0, 255).astype(np.uint8)
