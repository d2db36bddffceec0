"""Task heads of the Unified-IO adapter on a scripted fake model (no jax): prompts, output
fields and shapes in ORIGINAL-image pixels, and confidences from the fake's log-probs.

Expected values are worked out by hand from UNIFIED_IO.md section 6 and issue 5:
box coordinate = (33000 - id) * max(W, H) / 1000 (bin + 1), region bin = int(999 * v / max(W, H)),
text confidence = exp(sum of step log-probs through EOS), image confidence = exp(mean code
log-prob), option confidence = softmax(-NLL) of the chosen option.
"""
from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

from grit_eval.types import Request
from model_adapters.unified_io.prompts import PromptSet

STEP = 0.1  # conftest.STEP_LOGPROB, per generated id through EOS
EOS = 1


def _image(tmp_path, name: str, w: int, h: int) -> str:
    path = tmp_path / f"{name}.png"
    rng = np.random.default_rng(len(name))
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(path)
    return str(path)


def _text_conf(n_steps: int) -> float:
    return math.exp(-STEP * n_steps)


def test_boxes_are_original_pixels_with_the_plus_one_bin(tmp_path, fake_uio):
    wide, tall = _image(tmp_path, "wide", 200, 100), _image(tmp_path, "tall", 60, 300)
    ball_label = [5, 6]  # any text ids between groups are labels, skipped
    replies = {
        # S = 200: coord = (33000 - id) * 0.2. Box 2 uses bin 0 (id 32999 -> 0.2 px, not 0)
        # and bin 999 (id 32000 -> 200 px).
        "ball": [32900, 32800, 32600, 32400] + ball_label + [32999, 32999, 32500, 32000, EOS],
        "Red Box": [32900, 32950, 32000, 32800, EOS],  # S = 300: coord = (33000 - id) * 0.3
        "cup": [32900, 32800, 32600, EOS],  # malformed (3 location ids): no box, not fatal
    }
    adapter, model, spy = fake_uio(
        text=lambda prompt, mask: replies[prompt.split('" ', 1)[1].split(' "')[0]])
    requests = [Request("a", "localization", wide, "ball"),
                Request("b", "localization", tall, "Red Box"),
                Request("c", "localization", wide, "cup")]
    preds = adapter.predict(requests)

    assert [p.example_id for p in preds] == ["a", "b", "c"]
    assert all(p.error is None for p in preds)
    assert preds[0].output["bboxes"] == [pytest.approx([40, 20, 120, 80]),
                                         pytest.approx([0.2, 0.2, 200, 100])]
    assert preds[1].output["bboxes"] == [pytest.approx([15, 30, 60, 300])]
    assert preds[2].output["bboxes"] == []
    assert [p.confidence for p in preds] == pytest.approx(
        [_text_conf(11), _text_conf(5), _text_conf(4)])
    # One batched call with the localization budget; the query goes in verbatim (case kept).
    (call,) = model.calls
    assert call["max_length"] == 32 and call["image"].shape == (3, 384, 384, 3)
    assert call["texts"] == ['Which region does the text " ball " describe ?',
                             'Which region does the text " Red Box " describe ?',
                             'Which region does the text " cup " describe ?']
    assert np.array_equal(call["ids"], spy.real.encode_batch(call["texts"]))


def test_refexp_prompt_follows_the_prompt_set(tmp_path, fake_uio):
    img = _image(tmp_path, "img", 200, 100)
    request = Request("r", "refexp", img, "the orange ball")
    studies = [
        (PromptSet(), 'Which region does the text " the orange ball " describe ?'),
        (PromptSet().with_templates("study", {"refexp": 'Where is the "{}"?'}),
         'Where is the "the orange ball"?'),
        (PromptSet().with_templates("study", {"refexp": "region_caption"}),  # a template name
         'What does the region " the orange ball " describe ?'),
    ]
    for prompt_set, expected in studies:
        adapter, model, _ = fake_uio(prompt_set=prompt_set,
                                     text=lambda prompt, mask: [32900, 32800, 32600, 32400, EOS])
        (pred,) = adapter.predict([request])
        assert model.calls[0]["texts"] == [expected]
        assert pred.output["bboxes"] == [pytest.approx([40, 20, 120, 80])]


def test_vqa_lowercases_the_question_and_cuts_the_answer_at_eos(tmp_path, fake_uio):
    img = _image(tmp_path, "img", 120, 90)
    adapter, model, spy = fake_uio(text=lambda prompt, mask: spy.real.encode("two"))
    (pred,) = adapter.predict([Request("q", "vqa", img, "What Color is the CAT?")])
    n_steps = len(spy.real.encode("two"))  # EOS included; steps after it carry -9 (ignored)
    assert model.calls[0]["texts"] == ["what color is the cat?"]
    assert pred.output == {"words": "two"}
    assert pred.confidence == pytest.approx(_text_conf(n_steps))


def test_categorization_scores_each_samples_own_options(tmp_path, fake_uio):
    img = _image(tmp_path, "img", 200, 100)
    nll = {"cat": 3.0, "dog": 1.0, "bird": 2.0, "car": 0.5, "bus": 4.0}
    adapter, model, _ = fake_uio(option_nll=lambda prompt, option: nll[option])
    box = (20, 10, 100, 60)
    preds = adapter.predict([Request("a", "categorization", img, None, box, ("cat", "dog", "bird")),
                             Request("b", "categorization", img, None, box, ("bus", "cat"))])

    assert [p.output for p in preds] == [{"words": "dog"}, {"words": "cat"}]
    e = math.exp
    assert preds[0].confidence == pytest.approx(e(-1) / (e(-3) + e(-1) + e(-2)))
    assert preds[1].confidence == pytest.approx(e(-3) / (e(-4) + e(-3)))
    # y1 x1 y2 x2 bins: int(999 * (10, 20, 60, 100) / 200) = 49, 99, 299, 499 -> extra_id bin+100.
    prompt = ('What is the category of region " <extra_id_149> <extra_id_199> <extra_id_399> '
              '<extra_id_599> " ?')
    assert [c["texts"] for c in model.calls] == [[prompt], [prompt]]
    assert [c["options"].shape[:2] for c in model.calls] == [(1, 3), (1, 2)]


def _paint(canvas: np.ndarray, rows: slice, cols: slice, rgb) -> None:
    canvas[rows, cols] = rgb


def test_segmentation_masks_come_back_at_the_original_size(tmp_path, fake_uio):
    img = _image(tmp_path, "img", 64, 32)  # W 64, H 32: content = top 256 * 32 / 64 = 128 rows
    canvas = np.zeros((256, 256, 3), np.uint8)
    _paint(canvas, slice(32, 96), slice(64, 192), (255, 255, 255))  # grey/white instance
    _paint(canvas, slice(0, 16), slice(0, 256), (200, 0, 0))  # red instance
    _paint(canvas, slice(120, 121), slice(10, 18), (200, 0, 0))  # 8-pixel run: removed
    _paint(canvas, slice(200, 250), slice(0, 256), (0, 200, 0))  # green, in the padding only
    adapter, model, _ = fake_uio(image=lambda prompt, mask: canvas,
                                 code_logprobs=lambda prompt: np.linspace(-1.0, 0.0, 256))
    (pred,) = adapter.predict([Request("s", "segmentation", img, "grass (Stuff)")])

    assert model.calls[0]["texts"] == ['What is the segmentation of " grass " ?']
    assert model.calls[0]["greedy"] is False and model.calls[0]["seed"] == 0
    masks = pred.output["masks"]
    assert [m["size"] for m in masks] == [[32, 64], [32, 64]]
    # Nearest resize 128x256 -> 32x64 picks canvas row 4i, column 4j.
    white = np.zeros((32, 64), bool)
    white[8:24, 16:48] = True
    red = np.zeros((32, 64), bool)
    red[0:4, :] = True
    # The drawn masks, RLE-encoded (pycocotools' decode warns under numpy 2; encode is the
    # same codec the adapter uses, so equal strings mean equal masks).
    expected = [mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))["counts"].decode()
                for m in (white, red)]
    assert [m["counts"] for m in masks] == expected
    assert pred.confidence == pytest.approx(math.exp(-0.5))


def test_normal_png_is_the_cropped_resized_canvas(tmp_path, fake_uio):
    img = _image(tmp_path, "img", 32, 64)  # H > W: keep int(256 * 32 / 64) = 128 columns
    canvas = np.random.default_rng(3).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    adapter, model, _ = fake_uio(image=lambda prompt, mask: canvas,
                                 code_logprobs=lambda prompt: np.full(256, -0.25))
    (pred,) = adapter.predict([Request("n", "normal", img)])

    assert model.calls[0]["texts"] == ["What is the surface normal of the image ?"]
    name = pred.output["normal"]
    assert name.endswith(".png") and set(pred.artifacts) == {name}
    with Image.open(io.BytesIO(pred.artifacts[name])) as png:
        assert png.mode == "RGB" and png.size == (32, 64)
        rgb = np.asarray(png)
    assert np.array_equal(rgb, canvas[0:256:4, 0:128:4])
    assert pred.confidence == pytest.approx(math.exp(-0.25))


def test_keypoint_localizes_people_then_poses_each_box(tmp_path, fake_uio):
    wide, square = _image(tmp_path, "wide", 200, 100), _image(tmp_path, "square", 100, 100)
    people = [32900, 32800, 32600, 32400,  # (40, 20, 120, 80)
              32950, 32500, 32550, 32200,  # (100, 10, 160, 90)
              32999, 32999, 32500, 32000, EOS]  # a third person, over max_people = 2

    def reply(prompt, mask):
        if prompt.startswith("Find the human joints"):
            ids = spy.real.encode(prompt)
            y1, x1 = [t for t in ids if 32000 <= t <= 32999][:2]
            labels = [spy.real.encode("2")[:-1], spy.real.encode("3")[:-1]]
            return [t for k in range(17) for t in [y1, x1] + labels[k % 2]] + [EOS]
        # 200x100 -> 384x192 content: 12 of 24 patch rows are real; the square image has none.
        return people if mask.sum() == 12 * 24 else [EOS]

    adapter, model, spy = fake_uio(text=reply, options={"max_people": 2})
    preds = adapter.predict([Request("a", "keypoint", wide, "person"),
                             Request("b", "keypoint", square, "person")])

    locate, pose = model.calls
    assert locate["texts"] == ['Which region does the text " person " describe ?'] * 2
    # Person boxes -> region bins int(999 * v / 200): (20, 40, 80, 120) -> 99, 199, 399, 599
    # and (10, 100, 90, 160) -> 49, 499, 449, 799; one pose row per box, both of image "a".
    assert pose["texts"] == [
        'Find the human joints in the region " <extra_id_199> <extra_id_299> <extra_id_499> '
        '<extra_id_699> " .',
        'Find the human joints in the region " <extra_id_149> <extra_id_599> <extra_id_549> '
        '<extra_id_899> " .']
    assert pose["max_length"] == 128
    assert np.array_equal(pose["image"], locate["image"][[0, 0]])
    # Joints sit on the box's top-left bin (decoded bin + 1); labels "2"/"3" are v = 1/2.
    first = [v for k in range(17) for v in (40, 20, 1 + k % 2)]
    second = [v for k in range(17) for v in (100, 10, 1 + k % 2)]
    assert preds[0].output["points"] == [pytest.approx(first), pytest.approx(second)]
    assert preds[1].output == {"points": []}
    assert [p.confidence for p in preds] == pytest.approx([_text_conf(13), _text_conf(1)])
