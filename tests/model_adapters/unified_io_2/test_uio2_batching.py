"""Batched Unified-IO 2 recipes answer like one request at a time, and compile boundedly.

The kit checkpoint runs the same requests (all 7 tasks, with boxes so segmentation and keypoint
generate) with ``model.batch_size=1`` and ``=4``; outputs, confidences, artifacts (PNG bytes) and
errors are compared byte for byte. Sampled images match because each draws from its own
request's key; the floats match because the model's norms, softmaxes and sums use row-invariant
arithmetic (``layers.row_sum``, ``layers.exp_of_nonpositive``, the dot layouts in ``layers``):
XLA:CPU's own reduce and exp round by the call's shape (README "Unified-IO 2").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from PIL import Image

from grit_eval.types import Request
from model_adapters.unified_io_2.adapter import UnifiedIO2Adapter
from model_adapters.unified_io_2.batching import padded_rows, request_seed

OPTIONS = {"box_max_tokens": 16, "keypoint_max_tokens": 24, "text_max_tokens": 12}


@dataclass
class _Settings:
    name: str = "unified_io_2"
    size: Any = None
    checkpoint: Any = None
    tokenizer: Any = None
    dtype: str = "float32"
    batch_size: int = 1
    seed: int = 0
    prompts: dict = field(default_factory=dict)
    options: dict = field(default_factory=lambda: dict(OPTIONS))


def _adapter(kit, batch_size):
    return UnifiedIO2Adapter.from_settings(_Settings(checkpoint=str(kit / "model"),
                                                     tokenizer=str(kit / "model" / "tiny_spm.model"),
                                                     batch_size=batch_size))


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    rng = np.random.default_rng(3)
    out = []
    for i, (h, w) in enumerate([(60, 90), (80, 40), (64, 64), (50, 120), (70, 70)]):
        path = tmp_path_factory.mktemp("img") / f"{i}.png"
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(path)
        out.append(str(path))
    return out


def _requests(images):
    a, b, c, d, e = images
    return [
        Request("c1", "categorization", a, None, (5.0, 5.0, 40.0, 30.0), ("cat", "dog", "red car")),
        Request("c2", "categorization", b, None, None, ("a", "b", "c", "d", "e", "green ball")),
        Request("c3", "categorization", c, None, (1.0, 2.0, 30.0, 20.0), ("tree", "house")),
        Request("v1", "vqa", a, "what?"), Request("v2", "vqa", d, "how many dogs are there here?"),
        Request("l1", "localization", b, "dog"), Request("r1", "refexp", c, "the left dog"),
        Request("s1", "segmentation", a, "dog", (5.0, 5.0, 40.0, 30.0)),
        Request("s2", "segmentation", b, "cat", (2.0, 10.0, 30.0, 60.0)),
        Request("k1", "keypoint", c, None, (4.0, 4.0, 40.0, 60.0)),
        Request("k2", "keypoint", d, None, (10.0, 5.0, 100.0, 45.0)),
        Request("n1", "normal", d), Request("n2", "normal", e),
    ]


@pytest.fixture(scope="module")
def runs(uio2_kit, images):
    reqs = _requests(images)
    one = _adapter(uio2_kit, 1)
    # the same loaded model (and compiled programs) behind both batch sizes
    adapters = {1: one, 4: UnifiedIO2Adapter(one.tasks, one.num_parameters(), batch_size=4)}
    return reqs, {bs: a.predict(reqs) for bs, a in adapters.items()}, adapters[4]


def test_batched_answers_are_the_one_by_one_answers(runs):
    reqs, out, _ = runs
    for one, four in zip(out[1], out[4]):
        assert one.error is None and four.error is None, (one, four)
        assert one.output == four.output, one.example_id
        assert one.artifacts == four.artifacts, one.example_id
        assert one.confidence == four.confidence, (one.example_id, one.confidence, four.confidence)
    by_id = {p.example_id: p for p in out[4]}
    assert len(by_id["n1"].artifacts["n1.png"]) > 100
    # the image recipes really generated (masks from the tiny random model may be empty)
    assert all(0.0 < by_id[i].confidence <= 1.0 for i in ("n1", "n2", "s1", "s2", "k1", "c1", "v1"))


def test_sampled_images_depend_on_the_request_not_the_batch(images, runs):
    reqs, out, adapter = runs
    normals = [r for r in reqs if r.task == "normal"]
    want = {p.example_id: p.artifacts for p in out[1] if p.task == "normal"}
    # another batch order, and a request alone in a padded batch: the same image per request
    again = adapter.predict([normals[1], normals[0]]) + adapter.predict([normals[0]])
    assert [p.artifacts for p in again] == [want["n2"], want["n1"], want["n1"]]
    adapter.tasks.s.seed = 1  # another run seed: other draws
    try:
        assert adapter.predict([normals[0]])[0].artifacts != want["n1"]
    finally:
        adapter.tasks.s.seed = 0
    assert request_seed(0, "n1") == request_seed(0, "n1") != request_seed(0, "n1", 1)
    assert request_seed(0, "n1") != request_seed(1, "n1") and request_seed(0, "n1") != request_seed(0, "n2")


def test_a_second_batch_of_a_bucket_compiles_nothing(images, runs):
    import jax
    _, _, adapter = runs  # batch size 4, warmed up on the requests above
    compiles = []
    jax.monitoring.register_event_duration_secs_listener(
        lambda event, secs, **kw: compiles.append(event) if "backend_compile" in event else None)
    a, b, c, d, e = images
    # other images, prompts, boxes and option words in the same buckets: 2 segmentation and
    # keypoint rows, 4 categorization rows with 11 options (16) of <= 8 tokens, 64 text tokens
    preds = adapter.predict([
        Request("s9", "segmentation", e, "a cat", (5.0, 1.0, 20.0, 33.0)),
        Request("s8", "segmentation", c, "the tree", (1.0, 1.0, 60.0, 60.0)),
        Request("k9", "keypoint", a, None, (3.0, 2.0, 25.0, 40.0)),
        Request("k8", "keypoint", e, None, (1.0, 1.0, 30.0, 30.0)),
        Request("c9", "categorization", e, None, None, ("tree", "a house", "b", "x")),
        Request("c8", "categorization", d, None, (1.0, 1.0, 9.0, 9.0), ("y", "zz", "w", "v")),
        Request("c7", "categorization", a, None, None, ("one", "two", "three"))])
    assert all(p.error is None for p in preds)
    assert compiles == []


def test_padded_rows_repeat_the_last_row_to_a_power_of_two():
    assert padded_rows([1, 2, 3]) == [1, 2, 3, 3]
    assert padded_rows(["a"], None) == (["a"], None)
    assert padded_rows(list("abcde"), [1, 2, 3, 4, 5]) == (list("abcdeeee"), [1, 2, 3, 4, 5, 5, 5, 5])
