"""Encoder preprocessing (spec 3.1): antialiased resize, padding, normalisation, patch mask."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_adapters.unified_io.preprocess import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    aa_resize_taps,
    blank_image,
    preprocess_image,
    resize_bilinear_antialias,
    resize_nearest_index,
    resized_size,
)


def pattern(h: int, w: int) -> np.ndarray:
    i, j, c = np.meshgrid(np.arange(h), np.arange(w), np.arange(3), indexing="ij")
    return ((i * 7 + j * 13 + c * 5 + (i * j) % 11) % 256).astype(np.uint8)


# Provenance: torch 2.13.0+cpu (wheel installed in a throwaway venv),
#   x = torch.from_numpy((pattern(H, W) / 255.0).transpose(2, 0, 1))[None]
#   torch.nn.functional.interpolate(x, size=hw, mode="bilinear", antialias=True,
#                                   align_corners=False)
# on float64 (what the reference's torchvision F.resize calls for a uint8 image divided by 255.0),
# read back as [h, w, 3]; (pixel, value) pairs and the sum of the whole output.
TORCH_REFERENCE = [
    ((480, 640), (288, 384),
     [((0, 0, 0), 0.03433373349339737), ((1, 2, 1), 0.2891067538126363),
      ((144, 128, 2), 0.48333333333333445), ((287, 383, 0), 0.5278911564625877),
      ((7, 382, 1), 0.7202130234809976)], 165876.24283801485),
    ((37, 23), (384, 238),  # upscaling
     [((0, 0, 0), 0.0), ((1, 2, 1), 0.0196078431372549), ((192, 79, 2), 0.9083958951227545),
      ((383, 237, 0), 0.10196078431372549), ((7, 236, 1), 0.1433670343137255)],
     136930.93828918823),
    ((1000, 700), (384, 268),
     [((0, 0, 0), 0.0886009003291091), ((1, 2, 1), 0.4409578594620693),
      ((192, 89, 2), 0.6000761088933518), ((383, 267, 0), 0.7533508165227693),
      ((7, 266, 1), 0.8536204106130256)], 154362.51738362497),
]


@pytest.mark.parametrize("in_hw,out_hw,points,total", TORCH_REFERENCE)
def test_resize_matches_torch_reference(in_hw, out_hw, points, total):
    out = resize_bilinear_antialias(pattern(*in_hw) / 255.0, out_hw)
    assert out.shape == out_hw + (3,)
    for idx, value in points:
        assert out[idx] == pytest.approx(value, abs=1e-12)
    assert out.sum() == pytest.approx(total, rel=1e-12)


def test_preprocess_uses_reference_resize_then_pads_and_normalises():
    img = pattern(480, 640)
    pre = preprocess_image(img)
    assert pre.image.shape == (384, 384, 3) and pre.image.dtype == np.float32
    assert pre.info.resized_hw == (288, 384) and pre.info.original_hw == (480, 640)
    # Content pixel (torch reference value above), normalised after resizing.
    expected = (0.48333333333333445 - IMAGENET_MEAN[2]) / IMAGENET_STD[2]
    assert pre.image[144, 128, 2] == pytest.approx(expected, abs=1e-6)
    # Padding rows become -mean/std, not 0.
    np.testing.assert_allclose(pre.image[288:, :, :], np.broadcast_to(
        -IMAGENET_MEAN / IMAGENET_STD, (96, 384, 3)), atol=1e-6)


def test_patch_mask_half_covered_patch_is_real():
    # 232 rows of content: patch row 14 covers rows 224..239, its top-left pixel is real.
    pre = preprocess_image(np.zeros((232, 384, 3), np.uint8))
    grid = pre.patch_mask.reshape(24, 24)
    assert pre.patch_mask.dtype == np.int32
    assert grid[:15].all() and not grid[15:].any()
    pre = preprocess_image(np.zeros((384, 16 * 5, 3), np.uint8))  # exactly 5 columns
    assert pre.patch_mask.reshape(24, 24).sum(axis=1).tolist() == [5] * 24


def test_long_side_already_384_uint8_is_still_scaled_to_unit_range():
    # The reference skips the /255 when no resize happens (bug); we do not.
    img = np.full((384, 200, 3), 255, np.uint8)
    pre = preprocess_image(img)
    np.testing.assert_allclose(pre.image[0, 0], (1 - IMAGENET_MEAN) / IMAGENET_STD, atol=1e-6)
    assert pre.info.resized_hw == (384, 200)


def test_resized_size_uses_python_float_truncation():
    # 384 / 37 * 23 = 238.7... -> 238; the long side stays 384.
    assert resized_size(37, 23)[0] == (384, 238)
    assert resized_size(640, 480)[0] == (384, 288)
    # 384 / 535 * 535 = 383.99999999999994 in float64, so the reference gets 383 rows (and a
    # 384x383 canvas content); hand-checked in Python.
    assert resized_size(535, 400)[0] == (383, 287)
    assert resized_size(400, 535)[0] == (287, 383)
    # A 1-pixel-thin side would truncate to 0 (the reference crashes); we keep 1.
    assert resized_size(1000, 1)[0] == (384, 1)


@settings(max_examples=25, deadline=None)
@given(h=st.integers(1, 700), w=st.integers(1, 700), value=st.integers(0, 255))
def test_constant_image_stays_constant(h, w, value):
    pre = preprocess_image(np.full((h, w, 3), value, np.uint8))
    rh, rw = pre.info.resized_hw
    assert max(rh, rw) in (383, 384)
    expected = (value / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    np.testing.assert_allclose(pre.image[:rh, :rw], np.broadcast_to(expected, (rh, rw, 3)),
                               atol=1e-5)
    assert pre.patch_mask.sum() == len(np.arange(0, 384, 16)[np.arange(0, 384, 16) < rh]) * \
        len(np.arange(0, 384, 16)[np.arange(0, 384, 16) < rw])


@settings(max_examples=40, deadline=None)
@given(n_in=st.integers(1, 3000), n_out=st.integers(1, 500))
def test_taps_are_normalised_and_in_range(n_in, n_out):
    start, w = aa_resize_taps(n_in, n_out)
    assert np.all(start >= 0) and np.all(start + w.shape[1] <= n_in)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(w >= 0)


def test_nearest_index_matches_torch_float32_rule():
    # Hand-checked against torch 2.13 float32 "nearest": 464 -> 154 picks floor(i * 3.012987).
    assert resize_nearest_index(384, 24).tolist() == list(range(0, 384, 16))
    assert resize_nearest_index(3, 6).tolist() == [0, 0, 1, 1, 2, 2]  # 2x shortcut: i >> 1
    assert resize_nearest_index(5, 5).tolist() == [0, 1, 2, 3, 4]
    assert resize_nearest_index(4, 3).tolist() == [0, 1, 2]


def test_blank_image_is_normalised_zeros_with_empty_mask():
    pre = blank_image()
    np.testing.assert_allclose(pre.image[5, 5], -IMAGENET_MEAN / IMAGENET_STD, atol=1e-6)
    assert pre.patch_mask.shape == (576,) and pre.patch_mask.sum() == 0


@pytest.mark.parametrize("bad,err", [
    (np.zeros((10, 10), np.uint8), "RGB"),
    (np.zeros((10, 10, 4), np.uint8), "RGB"),
    (np.zeros((0, 10, 3), np.uint8), "non-empty"),
    (np.full((4, 4, 3), 2.0), r"\[0, 1\]"),
    (np.full((4, 4, 3), np.nan), "NaN"),
    (np.zeros((4, 4, 3), np.int32), "dtype"),
])
def test_bad_images_raise_clear_errors(bad, err):
    with pytest.raises((ValueError, TypeError), match=err):
        preprocess_image(bad)
