"""Post-processing rules on hand-made token sequences and images (spec section 6)."""
from __future__ import annotations

import io
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pycocotools import mask as mask_utils
from scipy import ndimage

from model_adapters.unified_io.postprocess import (
    decode_boxes,
    decode_keypoints,
    decode_text,
    masks_to_original,
    normal_image_to_original,
    remove_short_runs,
    segmentation_masks,
)
from model_adapters.unified_io.confidence import image_confidence, option_confidence, text_confidence
from model_adapters.unified_io.prompts import region_tokens
from model_adapters.unified_io.tokenizer import UnifiedIOTokenizer, train_tiny_sentencepiece


def loc(b: int) -> int:
    return 32999 - b  # spec section 2: bin b is id 32999 - b


@pytest.fixture(scope="module")
def tok(tmp_path_factory) -> UnifiedIOTokenizer:
    return UnifiedIOTokenizer(train_tiny_sentencepiece(tmp_path_factory.mktemp("spm")))


# ---------------------------------------------------------------- boxes
def test_decode_boxes_hand_computed():
    # 640x480: S = 640, coordinate = (bin + 1) * 0.64; yx order in, xy out.
    boxes = decode_boxes([loc(100), loc(200), loc(900), loc(700), 1], (640, 480))
    np.testing.assert_allclose(boxes, [[201 * .64, 101 * .64, 701 * .64, 901 * .64]])


def test_decode_boxes_labels_malformed_and_bin_999():
    ids = [7, 8,  # text before the first box: skipped
           loc(0), loc(1), loc(2), loc(3), 5, 6,  # box + label ids
           loc(10), loc(11), 9,  # only 2 location ids: malformed, skipped
           loc(999), loc(999), loc(999), loc(999),  # id 32000 is a valid bin (reference: >)
           33050, 33152,  # sentinel / image ids: debris
           loc(5), loc(6), loc(7), loc(8), loc(9), loc(4),  # a run of 6: one box, 2 skipped
           1, loc(1), loc(1), loc(1), loc(1)]  # after EOS: ignored
    boxes = decode_boxes(np.array(ids), (100, 50))
    np.testing.assert_allclose(boxes, [[2 / 10, 1 / 10, 4 / 10, 3 / 10],
                                       [100, 100, 100, 100],
                                       [7 / 10, 6 / 10, 9 / 10, 8 / 10]])


def test_decode_boxes_empty_and_padded():
    assert decode_boxes([1], (10, 10)).shape == (0, 4)
    assert decode_boxes([], (10, 10)).shape == (0, 4)
    assert decode_boxes([loc(1), loc(1), 0, 0], (10, 10)).shape == (0, 4)


def test_decode_boxes_bad_input():
    with pytest.raises(ValueError, match="image_wh"):
        decode_boxes([1], (0, 5))
    with pytest.raises(TypeError, match="integers"):
        decode_boxes([1.5], (5, 5))


@settings(max_examples=60, deadline=None)
@given(w=st.integers(1, 3000), h=st.integers(1, 3000), data=st.data())
def test_boxes_round_trip_within_one_bin(tok, w, h, data):
    s = max(w, h)
    x1, x2 = sorted(data.draw(st.floats(0, w)) for _ in range(2))
    y1, y2 = sorted(data.draw(st.floats(0, h)) for _ in range(2))
    ids = tok.encode(region_tokens([x1, y1, x2, y2], (w, h)))
    assert len(ids) == 5
    out = decode_boxes(ids, (w, h))
    assert out.shape == (1, 4)
    # Decode lands (bin + 1) * S / 1000: at most one bin width (S / 999) from the input.
    assert np.all(np.abs(out[0] - [x1, y1, x2, y2]) <= s / 999 + 1e-9)


# ---------------------------------------------------------------- keypoints
LABEL_TEXT = {10: "1", 11: "2", 12: "3", 13: "x"}


def fake_decode(ids):
    return "".join(LABEL_TEXT[i] for i in ids)


def test_keypoints_invisible_points_move_to_visible_mean():
    ids = []
    for k in range(17):
        vis = 10 if k in (0, 5) else (11 if k == 1 else 12)  # "1" (label 0) at k = 0, 5
        ids += [loc(10 * k), loc(20 + k), vis]
    pts = np.array(decode_keypoints(ids + [1], (1000, 500), fake_decode)).reshape(17, 3)
    xs, ys = (20 + np.arange(17) + 1.0), (10 * np.arange(17) + 1.0)  # S = 1000: coord = bin+1
    labelled = [k for k in range(17) if k not in (0, 5)]
    np.testing.assert_allclose(pts[labelled, 0], xs[labelled])
    np.testing.assert_allclose(pts[labelled, 1], ys[labelled])
    np.testing.assert_allclose(pts[[0, 5], 0], xs[labelled].mean())
    np.testing.assert_allclose(pts[[0, 5], 1], ys[labelled].mean())
    assert pts[:, 2].tolist() == [0, 1] + [2] * 3 + [0] + [2] * 11


def test_keypoints_pad_truncate_and_none(tok):
    three = tok.encode("3")[:-1]  # real label text ids of "3" (tiny sentencepiece model)
    ids = [loc(1), loc(3)] + three + [loc(5), loc(7)] + three + [1]
    pts = np.array(decode_keypoints(ids, (1000, 1000), tok.decode)).reshape(17, 3)
    np.testing.assert_allclose(pts[:2, :2], [[4, 2], [8, 6]])
    np.testing.assert_allclose(pts[2:, :2], np.tile([6, 4], (15, 1)))  # mean of all points
    assert pts[2:, 2].sum() == 0
    many = [loc(1), loc(1), 12] * 20 + [1]
    assert len(decode_keypoints(many, (10, 10), fake_decode)) == 51
    none_visible = [loc(1), loc(1), 10, loc(2), loc(2), 13, loc(3), loc(3)] + [1]
    assert decode_keypoints(none_visible, (10, 10), fake_decode) is None
    assert decode_keypoints([1], (10, 10), fake_decode) is None


def test_decode_text_cuts_at_eos(tok):
    ids = tok.encode("yes")[:-1] + [1] + tok.encode("no")
    assert decode_text(ids, tok) == "yes"
    assert decode_text(tok.encode("two")[:-1] + [loc(0)], tok) == "two<extra_id_100>"


# ---------------------------------------------------------------- segmentation
def canvas(fill=(0, 0, 0)):
    img = np.zeros((256, 256, 3), np.uint8)
    img[:] = fill
    return img


def test_drawn_masks_come_back_in_colour_order():
    img = canvas()
    img[30:60, 40:90] = (0, 0, 230)  # blue
    img[100:140, 20:70] = 250  # white
    img[200:210, 100:200] = (240, 10, 10)  # red
    masks = segmentation_masks(img)
    assert len(masks) == 3 and all(m.dtype == bool and m.shape == (256, 256) for m in masks)
    for m, (r, c) in zip(masks, [((100, 140), (20, 70)), ((200, 210), (100, 200)),
                                 ((30, 60), (40, 90))]):
        expected = np.zeros((256, 256), bool)
        expected[r[0]:r[1], c[0]:c[1]] = True
        assert mask_utils.encode(np.asfortranarray(m.astype(np.uint8))) == \
            mask_utils.encode(np.asfortranarray(expected.astype(np.uint8)))


def test_reference_quirks_overlap_and_background_in_colour_masks():
    img = canvas()
    # (163, 100, 100): mean 121, sum|diff| = 84 < 100 -> grey/white; R exceeds mean by 42 -> red.
    img[10:12, 0:100] = (163, 100, 100)
    # (90, 0, 0): mean 30 -> background, yet R exceeds the mean by 60 -> in the red mask, because
    # the reference's "used" bookkeeping (AND instead of OR) never excludes anything.
    img[50, 0:50] = (90, 0, 0)
    grey, red = segmentation_masks(img)
    assert grey[10:12, 0:100].all() and grey.sum() == 200
    assert red[10:12, 0:100].all() and red[50, 0:50].all() and red.sum() == 250


def test_flattened_runs_differ_from_2d_components():
    img = canvas()
    img[100:140, 50] = 255  # vertical line: a 40-pixel 2-D component of 1-pixel row runs
    img[20, 250:256] = 255  # 6 + 6 pixels wrapping from row 20 to row 21: one 12-pixel run
    img[21, 0:6] = 255
    white = (img.mean(-1) > 200)
    labels_2d, n = ndimage.label(white)
    kept_2d = [k for k in range(1, n + 1) if (labels_2d == k).sum() > 10]
    assert len(kept_2d) == 1 and (labels_2d == kept_2d[0])[100:140, 50].all()  # 2-D keeps line
    (mask,) = segmentation_masks(img)
    assert not mask[:, 50].any()  # flattened: the line is 40 runs of 1 pixel -> dropped
    assert mask[20, 250:].all() and mask[21, :6].all() and mask.sum() == 12


def test_float_image_is_converted_like_the_reference():
    img = canvas().astype(np.float32)
    img[0:20, 0:20] = 1.0
    (mask,) = segmentation_masks(img)
    assert mask.sum() == 400
    assert segmentation_masks(canvas()) == []


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_remove_short_runs_matches_1d_scipy_labelling(data):
    # The reference literally calls ndimage.label on the flattened mask and keeps > 10 pixels.
    n = data.draw(st.integers(1, 400))
    m = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    m = np.repeat(m, data.draw(st.integers(1, 15)))
    labels, count = ndimage.label(m)
    expected = np.zeros_like(m)
    for k in range(1, count + 1):
        if (labels == k).sum() > 10:
            expected |= labels == k
    np.testing.assert_array_equal(remove_short_runs(m), expected)


# ---------------------------------------------------------------- crop + resize to the original
def test_mask_round_trip_square_image():
    rng = np.random.default_rng(0)
    blocks = rng.random((256, 256)) > 0.5
    original = np.repeat(np.repeat(blocks, 2, 0), 2, 1)  # 512x512 made of 2x2 blocks
    canvas_mask = original[::2, ::2]
    (back,) = masks_to_original([canvas_mask], (512, 512))
    assert back.dtype == bool
    assert mask_utils.encode(np.asfortranarray(back.astype(np.uint8))) == \
        mask_utils.encode(np.asfortranarray(original.astype(np.uint8)))


def test_masks_crop_the_padding_of_a_landscape_image():
    # 300 wide x 200 high: ratio 256/300, keep int(0.8533 * 200) = 170 rows.
    m = np.zeros((256, 256), bool)
    m[169, :] = True  # last content row
    m[170:, :] = True  # padding: must not reach the output
    (back,) = masks_to_original([m], (200, 300))
    assert back.shape == (200, 300)
    assert back[-1].all() and back[:-1].sum() == 0  # row 199 samples canvas row 169


def test_known_normal_image_comes_back_as_the_same_png():
    rng = np.random.default_rng(1)
    # Portrait 512 (H) x 384 (W): ratio 0.5, keep int(0.5 * 384) = 192 columns.
    blocks = rng.integers(0, 256, (256, 192, 3), dtype=np.uint8)
    original = np.repeat(np.repeat(blocks, 2, 0), 2, 1)
    generated = np.full((256, 256, 3), 77, np.uint8)
    generated[:, :192] = blocks
    back = normal_image_to_original(generated, (512, 384))
    assert back.dtype == np.uint8 and back.shape == (512, 384, 3)

    def png(a):
        buf = io.BytesIO()
        Image.fromarray(a).save(buf, format="PNG")
        return buf.getvalue()

    assert png(back) == png(original)
    # Float output of the model: truncation of x * 255.
    as_float = normal_image_to_original(generated / 255.0, (512, 384))
    assert np.abs(as_float.astype(int) - original).max() <= 1


def test_undo_bad_input():
    with pytest.raises(ValueError, match="square"):
        normal_image_to_original(np.zeros((10, 20, 3), np.uint8), (5, 5))
    with pytest.raises(ValueError, match=r"\[H, W, 3\]"):
        normal_image_to_original(np.zeros((10, 10), np.uint8), (5, 5))


# ---------------------------------------------------------------- confidences
def test_text_confidence_through_eos():
    assert text_confidence([5, 6, 1, 0], [-0.1, -0.2, -0.3, -5.0]) == pytest.approx(math.exp(-0.6))
    assert text_confidence([5, 6], [-0.1, -0.2]) == pytest.approx(math.exp(-0.3))
    normalised = text_confidence([5, 1], [-1.0, -3.0], length_normalize=True)
    assert normalised == pytest.approx(math.exp(-2))
    batch = text_confidence([[1, 5], [5, 1]], [[-0.5, -9.0], [-0.25, -0.25]])
    np.testing.assert_allclose(batch, [math.exp(-0.5), math.exp(-0.5)])
    with pytest.raises(ValueError, match="step_logprobs"):
        text_confidence([1, 2], [0.0])


def test_option_confidence_softmax_of_negative_nll():
    idx, conf = option_confidence([2.0, 1.0, 3.0])
    assert idx == 1
    assert conf == pytest.approx(1 / (1 + math.exp(-1) + math.exp(-2)))
    assert option_confidence([np.inf, 4.0, np.nan]) == (1, 1.0)
    assert option_confidence([np.inf, np.inf]) == (0, 0.0)
    idx, conf = option_confidence([[1.0, 1.0], [0.0, 50.0]])
    assert idx.tolist() == [0, 0]
    np.testing.assert_allclose(conf, [0.5, 1.0])


def test_image_confidence_mean_code_probability():
    assert image_confidence([-0.1, -0.3]) == pytest.approx(math.exp(-0.2))
    np.testing.assert_allclose(image_confidence([[0.0, 0.0], [-1.0, -3.0]]), [1.0, math.exp(-2)])


finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=60, deadline=None)
@given(lp=st.lists(finite_or_not, min_size=1, max_size=8), data=st.data())
def test_confidences_never_nan_and_in_unit_interval(lp, data):
    ids = data.draw(st.lists(st.integers(0, 40000), min_size=len(lp), max_size=len(lp)))
    for value in (text_confidence(ids, lp), image_confidence(lp), option_confidence(lp)[1]):
        assert not math.isnan(value) and 0.0 <= value <= 1.0
