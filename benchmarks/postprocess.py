"""Unified-IO pre/post-processing speed vs straightforward versions, measured in the same run.

    python benchmarks/postprocess.py [--repeats 20]

* preprocessing of a 640x480 uint8 image (resize with antialias, pad, normalise, patch mask):
  ours (banded taps, one vectorised pass per tap) vs a straightforward version that builds
  the dense [out, in] weight matrices with a Python loop per output pixel and applies two
  dense matmuls;
* segmentation post-processing of a 256x256 generated image: ours (run lengths with np.diff)
  vs the reference's approach (`scipy.ndimage.label` on the flattened mask, then a Python loop
  over components, OR-ing the kept ones).

Prints milliseconds per call (median) and the speed-up ratio. Both versions are checked to
give the same output before timing.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from scipy import ndimage

from model_adapters.unified_io.postprocess import segmentation_masks
from model_adapters.unified_io.preprocess import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    patch_mask_for,
    preprocess_image,
    resized_size,
)


def dense_weights_loop(in_size: int, out_size: int) -> np.ndarray:
    """[out, in] antialiased bilinear weights, one output pixel at a time."""
    scale = in_size / out_size
    support = max(scale, 1.0)
    inv = 1.0 / max(scale, 1.0)
    w = np.zeros((out_size, in_size))
    for i in range(out_size):
        center = scale * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), in_size)
        for j in range(lo, hi):
            w[i, j] = max(0.0, 1.0 - abs((j - center + 0.5) * inv))
        w[i] /= w[i].sum()
    return w


def preprocess_baseline(image: np.ndarray) -> np.ndarray:
    x = image / 255.0
    (h, w), _ = resized_size(*x.shape[:2])
    wy, wx = dense_weights_loop(x.shape[0], h), dense_weights_loop(x.shape[1], w)
    resized = np.einsum("oi,ijc->ojc", wy, np.einsum("pj,ijc->ipc", wx, x))
    canvas = np.zeros((384, 384, 3))
    canvas[:h, :w] = resized
    patch_mask_for(h, w)
    return ((canvas - IMAGENET_MEAN) / IMAGENET_STD).astype(np.float32)


def clean_mask_reference_style(mask: np.ndarray, min_size: int = 10):
    labels, n = ndimage.label(mask)
    cleaned = None
    for c in range(1, n + 1):
        is_c = labels == c
        if is_c.sum() > min_size:
            cleaned = is_c if cleaned is None else cleaned | is_c
    return cleaned


def segmentation_baseline(img: np.ndarray) -> list[np.ndarray]:
    h, w = img.shape[:2]
    flat = img.reshape(-1, 3).astype(np.float64)
    means = flat.mean(-1)
    diff = flat - means[:, None]
    cands = [~(means <= 30) & (np.abs(diff).sum(-1) < 100)]
    color = np.argmax(flat, -1)
    cands += [(color == c) & (np.abs(diff[:, c]) > 40) for c in range(3)]
    out = []
    for cand in cands:
        cleaned = clean_mask_reference_style(cand)
        if cleaned is not None and cleaned.any():
            out.append(cleaned.reshape(h, w))
    return out


def generated_like_image(rng: np.random.Generator) -> np.ndarray:
    """A VQ-GAN-like output: coloured blobs, grey fringes and speckle noise."""
    img = rng.integers(0, 40, (256, 256, 3)).astype(np.uint8)
    for colour in ((250, 250, 250), (230, 20, 20), (20, 220, 30), (10, 20, 240)):
        for _ in range(3):
            y, x = rng.integers(0, 220, 2)
            hh, ww = rng.integers(8, 60, 2)
            img[y:y + hh, x:x + ww] = colour
    speckle = rng.random((256, 256)) < 0.03
    img[speckle] = rng.integers(0, 256, (int(speckle.sum()), 3))
    return img


def median_ms(fn, arg, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(arg)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    generated = generated_like_image(rng)

    np.testing.assert_allclose(preprocess_image(photo).image, preprocess_baseline(photo), atol=1e-5)
    ours_masks, base_masks = segmentation_masks(generated), segmentation_baseline(generated)
    assert len(ours_masks) == len(base_masks)
    assert all(np.array_equal(a, b) for a, b in zip(ours_masks, base_masks))

    rows = [
        ("preprocess 640x480", median_ms(lambda x: preprocess_image(x), photo, args.repeats),
         median_ms(preprocess_baseline, photo, max(3, args.repeats // 4))),
        ("segmentation 256x256", median_ms(segmentation_masks, generated, args.repeats),
         median_ms(segmentation_baseline, generated, max(3, args.repeats // 4))),
    ]
    print(f"{'step':<22}{'ours ms':>10}{'baseline ms':>13}{'speed-up':>10}")
    for name, ours, base in rows:
        print(f"{name:<22}{ours:>10.2f}{base:>13.2f}{base / ours:>9.1f}x")


if __name__ == "__main__":
    main()
