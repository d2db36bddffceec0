"""``unified_io``: Unified-IO v1 behind the GRIT adapter protocol.

``grit-eval model=unified_io model.size=xl model.checkpoint=/path/xl_1000k.bin
model.tokenizer=/path/spiece.model data=grit`` runs the released model;
``model.checkpoint=random`` builds random weights of any size (``tiny`` included) and, without
``model.tokenizer``, a tiny sentencepiece model trained on the fly, so the whole pipeline runs
with no files at all. Scores of random weights are meaningless: that mode exists to test the
plumbing and measure speed.

jax is imported only when the adapter is built (``from_settings``), never at import time.
"""
from __future__ import annotations

import dataclasses
import difflib
import logging
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PIL import Image

from grit_eval.types import GRIT_TASKS, SettingsError, Prediction, Request
from model_adapters.unified_io.prompts import PromptSet
from model_adapters.unified_io.task_heads import TASK_HEADS, Batch
from model_adapters.protocol import answer_all_kinds

log = logging.getLogger(__name__)

DEFAULT_OPTIONS = {
    "text_max_length": 32,  # the reference runner's budget for VQA / refexp answers
    "box_max_length": 32,  # localization: ~8 boxes; raise to 128 for crowded images [inferred]
    "keypoint_max_length": 128,  # 17 x (y, x, visibility) groups
    "max_people": 8,  # person boxes sent to the pose step per image
    "greedy_images": False,  # the reference samples images with top-p 0.9 from PRNGKey(seed)
    "seed": 0,
    "depth_max_m": 10.0,  # depth head: a white pixel means this many metres [inferred]
    # Rows per device and program call: outputs never depend on the device count, but do
    # on this and the batch size (see ``UnifiedIOAdapter.batch_invariant``).
    "per_device_batch": 8,
}


def _load_rgb(path: str) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _check_options(options: dict) -> None:
    unknown = set(options) - set(DEFAULT_OPTIONS)
    if unknown:
        raise SettingsError(f"unknown model.options for unified_io: {sorted(unknown)}; "
                          f"known: {sorted(DEFAULT_OPTIONS)}")
    rows = options.get("per_device_batch", 1)
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise SettingsError(f"model.options.per_device_batch must be a positive integer, got {rows!r}")


@answer_all_kinds
class UnifiedIOAdapter:
    name = "unified_io"
    accepts_prompts = True  # model.prompts.<task> replaces the paper's template
    reads_settings = ("size", "checkpoint", "tokenizer", "dtype", "seed")
    options_class = dataclasses.make_dataclass(
        "UnifiedIOOptions", [(key, type(value), value) for key, value in DEFAULT_OPTIONS.items()])
    # GRIT's tasks plus the per-dataset ones (task_heads: captioning, classification, depth).
    supported_tasks = frozenset(GRIT_TASKS) | frozenset({"captioning", "classification", "depth"})
    # Outputs are bit-identical on 1 or N devices (same per-device program and rows), but a
    # row's floats depend on the rows batched with it (the per-device shape follows the batch
    # size) and a sampled image on its index in the batch: batch size is a binding setting.
    batch_invariant = False

    def __init__(self, model: Any, tokenizer: Any, prompt_set: PromptSet, options: dict):
        self.model, self.tokenizer, self.prompt_set = model, tokenizer, prompt_set
        _check_options(options)
        self.options = {**DEFAULT_OPTIONS, **options}

    @classmethod
    def from_settings(cls, settings: Any, split: Any = None) -> "UnifiedIOAdapter":
        from model_adapters.unified_io.config import PRESETS
        from model_adapters.unified_io.tokenizer import UnifiedIOTokenizer, train_tiny_sentencepiece

        size = settings.size or "small"
        if size not in PRESETS:
            raise SettingsError(f"model.size={size!r} is not a Unified-IO size; one of {sorted(PRESETS)}")
        checkpoint = settings.checkpoint
        if not checkpoint:
            raise SettingsError("model=unified_io needs model.checkpoint=/path/to/<size>_1000k.bin "
                              "(or model.checkpoint=random for random weights)")
        if checkpoint != "random" and not Path(checkpoint).expanduser().is_file():
            raise SettingsError(f"{checkpoint}: model.checkpoint file not found")
        tokenizer_path = settings.tokenizer
        if not tokenizer_path:
            if checkpoint != "random":
                raise SettingsError("model.tokenizer=/path/to/spiece.model (the T5 sentencepiece "
                                  "model) is required with real weights")
            tokenizer_path = train_tiny_sentencepiece(tempfile.mkdtemp(prefix="grit-eval-spm-"))
            log.warning("random weights with a tiny sentencepiece model trained on the fly: "
                        "scores are meaningless (plumbing and speed checks only)")
        elif not Path(tokenizer_path).expanduser().is_file():
            raise SettingsError(f"{tokenizer_path}: model.tokenizer file not found")
        # Every setting is checked before the weights load (minutes for xl, and the jax import).
        try:
            tokenizer = UnifiedIOTokenizer(Path(tokenizer_path).expanduser())
        except ValueError as exc:
            raise SettingsError(f"model.tokenizer: {exc}") from None
        unknown_tasks = sorted(set(settings.prompts) - cls.supported_tasks)
        if unknown_tasks:  # a typo would otherwise silently run the paper's prompt
            hints = {t: difflib.get_close_matches(t, sorted(cls.supported_tasks), 1)
                     for t in unknown_tasks}
            raise SettingsError("model.prompts names unknown tasks: " + ", ".join(
                f"{t!r}" + (f" (did you mean {h[0]!r}?)" if h else "") for t, h in hints.items()))
        try:
            prompt_set = PromptSet().with_templates("custom" if settings.prompts else "default",
                                                    dict(settings.prompts))
        except ValueError as exc:
            raise SettingsError(f"model.prompts: {exc}") from None
        options = {"seed": settings.seed, **dict(settings.options)}
        _check_options(options)
        from model_adapters.unified_io.model import load_model

        model = load_model(str(Path(checkpoint).expanduser()) if checkpoint != "random" else "random",
                           size, dtype=settings.dtype, seed=settings.seed,
                           per_device_batch={**DEFAULT_OPTIONS, **options}["per_device_batch"])
        return cls(model, tokenizer, prompt_set, options)

    def num_parameters(self) -> int | None:
        return self.model.num_parameters()

    def _batch(self, requests: Sequence[Request]) -> Batch:
        from model_adapters.unified_io.preprocess import preprocess_image

        images, masks, sizes = [], [], []
        for request in requests:
            rgb = _load_rgb(request.image_path)
            pre = preprocess_image(rgb)
            images.append(pre.image)
            masks.append(pre.patch_mask)
            sizes.append((rgb.shape[1], rgb.shape[0]))
        return Batch(list(requests), np.stack(images), np.stack(masks), sizes)

    def _run(self, requests: Sequence[Request]) -> list[Prediction]:
        head = TASK_HEADS.get(requests[0].task)
        if head is None:
            raise ValueError(f"task {requests[0].task!r} is not supported; one of "
                             f"{sorted(TASK_HEADS)}")
        answers = head(self.model, self.tokenizer, self._batch(requests), self.prompt_set, self.options)
        if len(answers) != len(requests):  # zip below would silently drop or shift answers
            raise RuntimeError(f"{requests[0].task} head gave {len(answers)} answers for "
                               f"{len(requests)} requests")
        return [Prediction(r.example_id, r.task, output, conf, None, artifacts, trace)
                for r, (output, conf, artifacts, trace) in zip(requests, answers)]

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        """One prediction per request, in order; a failing request gets an error prediction."""
        out: list[Prediction] = []
        start = 0
        while start < len(requests):  # consecutive requests of one task go as one batch
            end = start + 1
            while end < len(requests) and requests[end].task == requests[start].task:
                end += 1
            group = list(requests[start:end])
            try:
                out.extend(self._run(group))
            except Exception as exc:  # isolate the bad sample: retry one by one
                if len(group) == 1:
                    out.append(Prediction(group[0].example_id, group[0].task, {}, 0.0,
                                          f"unified_io: {type(exc).__name__}: {exc}"))
                else:
                    out.extend(self.predict_each(group))
            start = end
        return out

    def predict_each(self, requests: Sequence[Request]) -> list[Prediction]:
        out = []
        for request in requests:
            out.extend(self.predict([request]))
        return out
