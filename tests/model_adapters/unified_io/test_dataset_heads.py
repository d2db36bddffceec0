"""Per-dataset heads of the Unified-IO adapter (captioning, classification, depth) on the
scripted fake model: prompts, grouping of shared class lists, and the depth PNG in millimetres.
Expected values are worked out by hand from the heads' documented rules."""
from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image

from grit_eval.types import Request
from model_adapters.unified_io.prompts import PromptSet


def _image(tmp_path, name: str, w: int, h: int) -> str:
    path = tmp_path / f"{name}.png"
    Image.fromarray(np.full((h, w, 3), 90, np.uint8)).save(path)
    return str(path)


def test_captioning_prompt_answer_and_override(tmp_path, fake_uio):
    img = _image(tmp_path, "img", 50, 40)
    for prompt_set, expected in [
            (PromptSet(), "What does the image describe ?"),
            (PromptSet().with_templates("s", {"captioning": "Describe it ."}), "Describe it .")]:
        adapter, model, spy = fake_uio(prompt_set=prompt_set,
                                       text=lambda prompt, mask: spy.real.encode("a small dog"))
        (pred,) = adapter.predict([Request("c", "captioning", img)])
        assert model.calls[0]["texts"] == [expected] and model.calls[0]["max_length"] == 32
        assert pred.output == {"words": "a small dog"}
        assert pred.confidence == pytest.approx(math.exp(-0.1 * len(spy.real.encode("a small dog"))))


def test_classification_groups_requests_sharing_a_class_list(tmp_path, fake_uio):
    wide, square = _image(tmp_path, "wide", 200, 100), _image(tmp_path, "square", 100, 100)
    nll = {"cat": 2.0, "dog": 1.0, "car": 3.0, "bus": 0.7, "bird": 5.0}
    adapter, model, _ = fake_uio(option_nll=lambda prompt, option: nll[option])
    pets, vehicles = ("cat", "dog"), ("car", "bus", "bird")
    preds = adapter.predict([Request("a", "classification", wide, output_options=pets),
                             Request("b", "classification", square, output_options=vehicles),
                             Request("c", "classification", square, output_options=pets)])

    assert [p.output["words"] for p in preds] == ["dog", "bus", "dog"]
    e = math.exp
    assert [p.confidence for p in preds] == pytest.approx([
        e(-1) / (e(-2) + e(-1)), e(-0.7) / (e(-3) + e(-0.7) + e(-5)), e(-1) / (e(-2) + e(-1))])
    # One scoring call per distinct list: rows a and c together (patch masks 288 and 576 real
    # patches for 200x100 and 100x100), then b alone.
    first, second = model.calls
    assert first["texts"] == ["What is this in the image ?"] * 2
    assert first["options"].shape[:2] == (2, 2) and second["options"].shape[:2] == (1, 3)
    assert first["mask"].sum(axis=1).tolist() == [288, 576]
    assert second["mask"].sum(axis=1).tolist() == [576]


def test_depth_png_is_millimetres_of_the_grey_level(tmp_path, fake_uio):
    img = _image(tmp_path, "img", 64, 32)  # content: top 128 canvas rows, picked as row 4i
    canvas = np.full((256, 256, 3), 102, np.uint8)  # 102 / 255 * 10 m = 4 m
    canvas[:64] = 51  # 2 m
    adapter, model, _ = fake_uio(image=lambda prompt, mask: canvas,
                                 code_logprobs=lambda prompt: np.full(256, -1.0))
    (pred,) = adapter.predict([Request("d", "depth", img)])

    assert model.calls[0]["texts"] == ["What is the depth map of the image ?"]
    name = pred.output["depth"]
    assert set(pred.artifacts) == {name}
    with Image.open(io.BytesIO(pred.artifacts[name])) as png:
        mm = np.asarray(png).astype(np.int64)
    expected = np.full((32, 64), 4000)
    expected[:16] = 2000
    assert np.array_equal(mm, expected)
    assert pred.confidence == pytest.approx(math.exp(-1.0))
