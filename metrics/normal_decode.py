"""Normal-map decoding: the official float64 bits, and a float32 screen with a proven bound.

The official metric decodes colours with `rgb2normal` ((rgb - 122.5) / 122.5, unit length),
and re-normalises the valid rows once more before R-RANSAC. Every official decision is a
threshold on a dot product of such vectors. Computing all of them in float64 costs ~20 full
passes per image, so the metric first screens every dot product in float32 and recomputes
the official float64 expression only where the screen cannot decide (`SCREEN_BAND`).

Error bound of the float32 screen (eps = 2^-24, the float32 unit roundoff):

* `unit_planar32`: c - 122.5 is exact in float32 (a half-integer), and so is the squared
  length (a multiple of 1/4 below 2^16); sqrt and the division round once each, so every
  component is within 2 eps (relative) of the exact unit vector: |u32 - u| <= 2 eps.
* a dot product of two such vectors (3 products, 2 sums): within 2 + 2 + 3 = 7 eps of the
  exact cosine. A rotated dot product `(R32 u32) . v32` with R32 = float32(R): within
  2 (u) + 1.8 (R rounding) + 5.2 (R u arithmetic) + 2 (v) + 3 (dot) = 14 eps of exact.
* the official float64 value is within ~1e-15 of exact, and its arccos comparison moves the
  decision by less than 1e-9 (see `normal_inliers`).

So a float32 dot farther than 14 eps + 1e-9 (< 1e-6) from the threshold's cosine is decided
exactly as the official code decides it; `SCREEN_BAND` = 4e-6 leaves a factor of 4.
"""
from __future__ import annotations

import numpy as np

# Half-width of the float32 screen around a threshold cosine (module docstring).
SCREEN_BAND = 4e-6


def decode_normals(rgb: np.ndarray) -> np.ndarray:
    """Official `rgb2normal`: (rgb - 122.5) / 122.5, then unit length per pixel.

    Args:
        rgb: [..., 3] uint8 colours.

    Returns:
        [..., 3] float64 unit normals (never zero: 122.5 is not an integer), bit-identical to
        the official `n /= np.linalg.norm(n, ord=2, axis=-1, keepdims=True)`.
    """
    return np.stack(_decode_planar(rgb), axis=-1)


def official_unit_rows(colours: np.ndarray) -> np.ndarray:
    """The official `U_flat` rows for these pixels: decode, then normalise once more.

    Args:
        colours: [M, 3] uint8 colours of valid pixels.

    Returns:
        [M, 3] float64, bit-identical to the official rows of those pixels (every step is
        per pixel, so decoding a subset gives the same bits as decoding the image).
    """
    channels = _decode_planar(colours)
    _unit_in_place(*channels)  # the second normalisation can move the last bit: kept
    return np.stack(channels, axis=1)


def unit_planar32(rgb: np.ndarray) -> np.ndarray:
    """Approximate unit normals for screening, channels first: [..., 3] uint8 -> [3, ...]
    float32, each component within 2 eps (relative) of the exact unit vector of
    (rgb - 122.5)."""
    half = np.float32(122.5)
    out = np.empty((3,) + rgb.shape[:-1], dtype=np.float32)
    for c in range(3):
        np.subtract(rgb[..., c], half, out=out[c], dtype=np.float32)
    length = out[0] * out[0]
    tmp = out[1] * out[1]
    length += tmp
    np.multiply(out[2], out[2], out=tmp)
    length += tmp
    np.sqrt(length, out=length)
    for c in range(3):  # per channel: a broadcast [3, ...] / [...] division is ~5x slower
        out[c] /= length
    return out


def _unit_in_place(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> None:
    """Divide (x, y, z) by their length in place, with the bits of the official
    `n /= np.linalg.norm(n, ord=2, axis=-1, keepdims=True)`.

    numpy's norm is sqrt(add.reduce(n * n)); over a length-3 axis that sum is
    (x*x + y*y) + z*z. Written out on separate channels because the reduction over a
    length-3 axis, and the broadcast division, are slow.
    """
    length = x * x
    length += y * y
    length += z * z
    np.sqrt(length, out=length)
    x /= length
    y /= length
    z /= length


def _decode_planar(rgb: np.ndarray) -> list[np.ndarray]:
    """Official `rgb2normal` as three channel arrays: [..., 3] uint8 -> 3 x [...] float64."""
    # (rgb - 122.5) / 122.5 per channel, as the official code computes it. Note 122.5, not
    # 127.5 (spec section 6 item 13): kept on purpose.
    xyz = [(rgb[..., c] - 122.5) / 122.5 for c in range(3)]
    _unit_in_place(*xyz)
    return xyz
