"""The Unified-IO adapter on whole request lists (fake model, no jax): every mini-GRIT task
answers in its submission format at the original image size, and a bad request becomes an
error prediction without costing the others their answers or their order."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from grit_eval.types import GRIT_TASKS, TASK_OUTPUT_FIELD, Request

EOS = 1


@pytest.fixture(scope="module")
def minigrit_requests(tmp_path_factory):
    from grit_eval.data.grit_reader import read_split
    from grit_eval.minigrit import ensure_minigrit

    root = ensure_minigrit(cache_dir=tmp_path_factory.mktemp("minigrit"))
    samples = read_split(root, "ablation")
    # Two samples per task, tasks interleaved so batches change task often.
    per_task = {t: [s.to_request() for s in samples if s.task == t][:2] for t in GRIT_TASKS}
    return [per_task[t][k] for k in range(2) for t in GRIT_TASKS]


def _generic_replies(spy):
    def text(prompt, mask):
        if prompt.startswith("Find the human joints"):
            y1, x1 = [t for t in spy.real.encode(prompt) if 32000 <= t <= 32999][:2]
            return [y1, x1] + spy.real.encode("2")[:-1] + [EOS]  # one joint; 16 padded
        if prompt.startswith("Which region"):
            return [32900, 32800, 32600, 32400, EOS]
        return spy.real.encode("yes")

    def image(prompt, mask):
        canvas = np.zeros((256, 256, 3), np.uint8)
        canvas[10:60, 10:60] = 255  # inside the content area of any aspect ratio
        return canvas

    return dict(text=text, image=image, option_nll=lambda prompt, option: float(len(option)))


def test_every_minigrit_task_answers_in_submission_format(minigrit_requests, fake_uio):
    adapter, model, spy = fake_uio()
    for name, responder in _generic_replies(spy).items():
        setattr(model, {"text": "text_reply", "image": "image_reply"}.get(name, name), responder)
    preds = adapter.predict(minigrit_requests)

    assert [(p.example_id, p.task) for p in preds] == [(r.example_id, r.task)
                                                       for r in minigrit_requests]
    for request, pred in zip(minigrit_requests, preds):
        assert pred.error is None, pred.error
        assert 0.0 <= pred.confidence <= 1.0
        value = pred.output[TASK_OUTPUT_FIELD[request.task]]
        with Image.open(request.image_path) as im:
            w, h = im.size
        if request.task in ("categorization", "vqa"):
            assert isinstance(value, str) and value
        if request.task == "categorization":
            assert value == min(request.output_options, key=len)  # the lowest fake NLL
        if request.task in ("localization", "refexp"):
            # ids of bins 99 199 399 599 -> (bin + 1) * max(w, h) / 1000, x1 y1 x2 y2.
            s = max(w, h) / 1000
            assert value == [pytest.approx([200 * s, 100 * s, 600 * s, 400 * s])]
        if request.task == "segmentation":
            assert value and all(m["size"] == [h, w] and isinstance(m["counts"], str)
                                 for m in value)
        if request.task == "keypoint":
            assert len(value) == 1 and len(value[0]) == 51
            assert value[0][2::3] == [1] + [0] * 16  # unlabelled padding joints: v = 0
        if request.task == "normal":
            with Image.open(io.BytesIO(pred.artifacts[value])) as png:
                assert png.size == (w, h) and png.mode == "RGB"
    # Consecutive requests of one task share a batch; tasks alternate here, so one call each
    # (keypoint makes two: people, then poses).
    assert len(model.calls) == len(minigrit_requests) + 2


def test_bad_requests_become_error_predictions_in_place(tmp_path, fake_uio):
    good = tmp_path / "good.png"
    Image.fromarray(np.full((40, 60, 3), 128, np.uint8)).save(good)
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")

    def text(prompt, mask):
        if "explode" in prompt:
            raise RuntimeError("device out of memory")
        return spy.real.encode("one" if "one" in prompt else "two")

    adapter, model, spy = fake_uio(text=text)
    requests = [Request("ok1", "vqa", str(good), "how many, one?"),
                Request("missing", "vqa", str(tmp_path / "nope.jpg"), "what?"),
                Request("corrupt", "vqa", str(corrupt), "what?"),
                Request("raises", "vqa", str(good), "explode?"),
                Request("ok2", "vqa", str(good), "two?"),
                Request("loc", "localization", str(tmp_path / "nope.jpg"), "dog"),
                Request("ok3", "vqa", str(good), "one more?"),
                Request("odd", "captions", str(good))]
    preds = adapter.predict(requests)

    assert [p.example_id for p in preds] == [r.example_id for r in requests]
    answered = {p.example_id: p.output for p in preds if p.error is None}
    assert answered == {"ok1": {"words": "one"}, "ok2": {"words": "two"},
                        "ok3": {"words": "one"}}
    failed = {p.example_id: p for p in preds if p.error is not None}
    assert set(failed) == {"missing", "corrupt", "raises", "loc", "odd"}
    for pred in failed.values():
        assert pred.output == {} and pred.confidence == 0.0 and pred.artifacts == {}
        assert pred.error.startswith("unified_io: ")
    assert "nope.jpg" in failed["missing"].error
    assert "device out of memory" in failed["raises"].error
    assert "corrupt.png" in failed["corrupt"].error
    assert "task 'captions' is not supported" in failed["odd"].error


def test_a_head_returning_too_few_answers_is_an_error_not_a_shift(tmp_path, fake_uio,
                                                                  monkeypatch):
    from model_adapters.unified_io import task_heads

    img = tmp_path / "img.png"
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(img)
    adapter, _, spy = fake_uio(text=lambda prompt, mask: spy.real.encode("yes"))
    real_head = task_heads.TASK_HEADS["vqa"]
    monkeypatch.setitem(task_heads.TASK_HEADS, "vqa",
                        lambda *args: real_head(*args)[:1])  # a buggy head drops answers
    requests = [Request(f"q{i}", "vqa", str(img), "what?") for i in range(3)]
    preds = adapter.predict(requests)
    assert [p.example_id for p in preds] == ["q0", "q1", "q2"]
    assert all(p.output == {"words": "yes"} and p.error is None for p in preds)
