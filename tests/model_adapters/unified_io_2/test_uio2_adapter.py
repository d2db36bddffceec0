"""The ``unified_io_2`` GRIT adapter: random tiny weights with no files, task outputs in GRIT's
shapes with confidences in [0, 1], and one-line errors for bad settings."""
from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from PIL import Image

from grit_eval.types import SettingsError
from grit_eval.types import Request
from model_adapters.unified_io_2.adapter import UnifiedIO2Adapter


@dataclass
class _Settings:
    name: str = "unified_io_2"
    size: Any = "tiny"
    checkpoint: Any = "random"
    tokenizer: Any = None
    dtype: str = "float32"
    batch_size: int = 8
    seed: int = 0
    prompts: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)


@pytest.fixture(scope="module")
def adapter():
    return UnifiedIO2Adapter.from_settings(_Settings(options={"box_max_tokens": 16}))


@pytest.fixture(scope="module")
def image_path(tmp_path_factory):
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("img") / "img.png"
    Image.fromarray(rng.integers(0, 255, (60, 90, 3), dtype=np.uint8)).save(path)
    return str(path)


def test_text_tasks_answer_in_grit_shapes(adapter, image_path):
    reqs = [Request("c", "categorization", image_path, None, (5.0, 5.0, 40.0, 30.0), ("cat", "dog", "red car")),
            Request("v", "vqa", image_path, "what is it?"),
            Request("r", "refexp", image_path, "the left dog"),
            Request("l", "localization", image_path, "dog"),
            Request("bad", "depth", image_path)]
    preds = adapter.predict(reqs)
    assert [p.example_id for p in preds] == ["c", "v", "r", "l", "bad"]
    assert preds[0].output["words"] in ("cat", "dog", "red car")
    assert isinstance(preds[1].output["words"], str)
    assert len(preds[2].output["bboxes"]) == 1 and len(preds[2].output["bboxes"][0]) == 4
    assert isinstance(preds[3].output["bboxes"], list)
    for p in preds[:4]:
        assert p.error is None and 0.0 <= p.confidence <= 1.0, p
    assert preds[4].error and "not supported" in preds[4].error and preds[4].confidence == 0.0


def test_normal_writes_a_png_of_the_original_size(adapter, image_path):
    (pred,) = adapter.predict([Request("n1", "normal", image_path)])
    assert pred.error is None and 0.0 <= pred.confidence <= 1.0
    name = pred.output["normal"]
    import io
    with Image.open(io.BytesIO(pred.artifacts[name])) as im:
        assert im.size == (90, 60) and im.mode == "RGB"


def test_bad_settings_are_config_errors(tmp_path):
    with pytest.raises(SettingsError, match="unknown model.options"):
        UnifiedIO2Adapter.from_settings(_Settings(options={"nope": 1}))
    with pytest.raises(SettingsError, match="not a Unified-IO 2 size"):
        UnifiedIO2Adapter.from_settings(_Settings(size="huge"))
    (tmp_path / "t.model").write_bytes(b"not a sentencepiece model")
    with pytest.raises(SettingsError, match="model.tokenizer"):
        UnifiedIO2Adapter.from_settings(_Settings(tokenizer=str(tmp_path / "t.model")))
    with pytest.raises(SettingsError, match="requires|required"):
        UnifiedIO2Adapter.from_settings(_Settings(checkpoint=str(tmp_path)))


def test_wrong_size_tokenizer_is_refused(tmp_path):
    from model_adapters.unified_io.tokenizer import train_tiny_sentencepiece
    spm = train_tiny_sentencepiece(tmp_path)  # a 256-piece model, not the LLaMA 32000
    with pytest.raises(SettingsError, match="32000"):
        UnifiedIO2Adapter.from_settings(_Settings(tokenizer=str(spm)))


def test_cli_missing_checkpoint_is_one_line_exit_2(tmp_path, uio2_kit):
    proc = subprocess.run(
        [sys.executable, "-m", "grit_eval.cli", "model=unified_io_2", f"model.checkpoint={tmp_path / 'nope'}",
         f"model.tokenizer={uio2_kit / 'model' / 'tiny_spm.model'}", "data=mini_grit", "data.limit=1",
         f"hydra.run.dir={tmp_path / 'run'}"], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [l for l in proc.stderr.splitlines() if "error" in l]
    assert len(lines) == 1 and "does not exist" in lines[0], proc.stderr[-2000:]


def test_a_batch_answers_like_one_by_one(adapter, image_path, tmp_path):
    other = tmp_path / "other.png"
    Image.fromarray(np.full((80, 40, 3), 200, np.uint8)).save(other)
    reqs = [Request(f"v{i}", "vqa", p, q) for i, (p, q) in
            enumerate([(image_path, "what?"), (str(other), "how many dogs are there here?"), (image_path, "color")])]
    batched = adapter.predict(reqs)
    single = [adapter.predict([r])[0] for r in reqs]
    assert [p.output for p in batched] == [p.output for p in single]
    np.testing.assert_allclose([p.confidence for p in batched], [p.confidence for p in single], rtol=1e-4)


def test_a_split_with_an_unsupported_task_is_refused_before_loading():
    class Split:
        def tasks(self):
            return ["vqa", "captioning"]
    with pytest.raises(SettingsError, match="captioning"):
        UnifiedIO2Adapter.from_settings(_Settings(), Split())


def _generated_text(trace: dict, tok) -> None:
    tokens = np.asarray(trace["tokens"])
    assert tokens[0] == 0 and 1 not in tokens[1:-1]  # 1 = EOS  # BOS, then through the first EOS
    assert trace["raw"] == tok.decode(tokens)


def test_every_task_traces_its_prompt_and_raw_output(adapter, image_path):
    """Per-sample traces (issue 14): every task's prompt and what the model produced,
    consistent with the post-processed output (the programs are those compiled above)."""
    path, tok, kit_adapter = image_path, adapter.tasks.tok, adapter
    options = ("cat", "dog", "red car")
    preds = kit_adapter.predict([
        Request("v", "vqa", path, "what is it?"),
        Request("r", "refexp", path, "the left dog"),
        Request("l", "localization", path, "dog"),
        Request("c", "categorization", path, None, (5.0, 5.0, 40.0, 30.0), options),
        Request("s", "segmentation", path, "dog", (5.0, 5.0, 40.0, 30.0)),
        Request("k", "keypoint", path),
        Request("n", "normal", path)])
    by_task = {p.task: p for p in preds}
    assert all(p.error is None for p in preds), [p.error for p in preds]
    vqa = by_task["vqa"].trace
    assert "what is it?" in vqa["prompt"] and vqa["raw"].strip() == by_task["vqa"].output["words"]
    for task in ("vqa", "refexp", "localization"):
        _generated_text(by_task[task].trace, tok)
    assert "the left dog" in by_task["refexp"].trace["prompt"]
    cat = by_task["categorization"]
    scores = np.asarray(cat.trace["option_scores"])
    assert scores.shape == (3,) and cat.output["words"] == options[int(np.argmin(scores))]
    codes = int(np.prod(kit_adapter.tasks.rt.cfg.target_grid))
    seg = by_task["segmentation"].trace  # a task box: no localization, one instance
    assert len(seg["instances"]) == 1 and seg["prompt"] == seg["instances"][0]["prompt"]
    assert "dog" in seg["prompt"] and np.asarray(seg["instances"][0]["tokens"]).shape == (codes,)
    normal = by_task["normal"].trace
    assert normal["prompt"] and np.asarray(normal["tokens"]).shape == (codes,)
    key = by_task["keypoint"].trace  # localized "person" first, then one entry per box
    assert '"person"' in key["prompt"]
    _generated_text(key, tok)
    for person in key["people"]:
        _generated_text(person, tok)
    assert len(key["people"]) >= len(by_task["keypoint"].output["points"])
