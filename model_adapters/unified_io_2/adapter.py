"""``unified_io_2``: Unified-IO 2 behind the GRIT adapter protocol.

``grit-eval model=unified_io_2 model.checkpoint=/path/uio2-xl-bfloat16 model.tokenizer=/path/llama_tokenizer.model``
runs a released folder (config.json + pytorch_model.bin, or safetensors); ``model.checkpoint=random
model.size=tiny`` builds random weights and a tiny padded sentencepiece model, so the pipeline
runs with no files (scores meaningless). Every setting, the config/weights match and the
tokenizer are checked before jax is imported or weights are copied.
"""
from __future__ import annotations

import dataclasses
import logging
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PIL import Image

from grit_eval.types import GRIT_TASKS, Prediction, Request, SettingsError
from model_adapters.protocol import answer_all_kinds

log = logging.getLogger(__name__)


def _options(settings: Any):
    from model_adapters.unified_io_2.tasks import Settings

    known = {f.name for f in dataclasses.fields(Settings)}
    options = {"seed": settings.seed, **dict(settings.options or {})}
    unknown = sorted(set(options) - known)
    if unknown:
        raise SettingsError(f"unknown model.options for unified_io_2: {unknown}; known: {sorted(known)}")
    return Settings(**options)


@answer_all_kinds
class UnifiedIO2Adapter:
    name = "unified_io_2"
    reads_settings = ("size", "checkpoint", "tokenizer", "dtype", "seed")

    @staticmethod
    def options_class():  # model.options fields, imported when used (tasks.py imports jax)
        from model_adapters.unified_io_2.tasks import Settings

        return Settings
    supported_tasks = frozenset(GRIT_TASKS)

    def __init__(self, tasks: Any, n_params: int, batch_size: int = 8):
        self.tasks, self._n_params, self.batch_size = tasks, n_params, max(1, int(batch_size))

    @classmethod
    def from_settings(cls, settings: Any, split: Any = None) -> "UnifiedIO2Adapter":
        from model_adapters.unified_io_2.checkpoint import CheckpointError, load_checkpoint
        from model_adapters.unified_io_2.presets import SIZES, preset, random_params
        from model_adapters.unified_io_2.tokenizer import TokenizerError, UIO2Tokenizer, train_tiny_llama_spm

        if settings.prompts:
            raise SettingsError("model.prompts is not supported by unified_io_2 (it uses the port's "
                              "first template per task)")
        if split is not None:
            tasks = getattr(split, "tasks", ())
            tasks = set(tasks() if callable(tasks) else tasks or ())
            bad = sorted(tasks - cls.supported_tasks)
            if bad:
                raise SettingsError(f"unified_io_2 does not support task(s) {bad}; one of {sorted(cls.supported_tasks)}")
        options = _options(settings)
        checkpoint = settings.checkpoint
        if not checkpoint:
            raise SettingsError("model=unified_io_2 needs model.checkpoint=/path/to/folder "
                              "(config.json + pytorch_model.bin or safetensors), or random")
        tokenizer_path = settings.tokenizer
        if checkpoint == "random":
            size = settings.size or "tiny"
            if size not in SIZES:
                raise SettingsError(f"model.size={size!r} is not a Unified-IO 2 size; one of {list(SIZES)}")
            if not tokenizer_path:
                tokenizer_path = train_tiny_llama_spm(tempfile.mkdtemp(prefix="grit-eval-uio2-spm-"))
                log.warning("unified_io_2: random weights and a tiny tokenizer: scores are meaningless")
        elif not tokenizer_path:
            raise SettingsError("model.tokenizer=/path/to/tokenizer.model (the LLaMA sentencepiece "
                              "model) is required with real weights")
        try:
            tok = UIO2Tokenizer(Path(tokenizer_path).expanduser())
        except TokenizerError as exc:
            raise SettingsError(f"model.tokenizer: {exc}") from None
        try:
            if checkpoint == "random":
                cfg = preset(size)
                params = random_params(cfg, settings.seed)
            else:
                ck = load_checkpoint(Path(checkpoint).expanduser())
                cfg, params = ck.config, ck.params
        except CheckpointError as exc:
            raise SettingsError(f"model.checkpoint: {exc}") from None
        if int(cfg.t5["vocab_size"]) < tok.piece_size:
            raise SettingsError(f"model.tokenizer: {tok.piece_size} ids do not fit the model's "
                              f"{cfg.t5['vocab_size']} text embedding rows")
        from model_adapters.unified_io_2.runtime import UIO2Runtime
        from model_adapters.unified_io_2.tasks import Tasks

        n_params = int(sum(np.prod(v.shape) for v in params.values()))
        rt = UIO2Runtime(cfg, params, settings.dtype)
        return cls(Tasks(rt, tok, options), n_params, settings.batch_size)

    def num_parameters(self) -> int | None:
        return self._n_params

    def _run(self, requests: Sequence[Request]) -> list[Prediction]:
        task = requests[0].task
        method = getattr(self.tasks, f"{task}_many", None)
        if task not in self.supported_tasks or method is None:
            raise ValueError(f"task {task!r} is not supported; one of {sorted(self.supported_tasks)}")
        images = []
        for request in requests:
            with Image.open(request.image_path) as im:
                images.append(np.asarray(im.convert("RGB")))
        answers = method(list(requests), images)
        if len(answers) != len(requests):
            raise RuntimeError(f"{task} recipe gave {len(answers)} answers for {len(requests)} requests")
        return [Prediction(r.example_id, r.task, output,
                           float(np.clip(conf, 0.0, 1.0)) if np.isfinite(conf) else 0.0, None, artifacts, trace)
                for r, (output, conf, artifacts, trace) in zip(requests, answers)]

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        """One prediction per request, in order. Consecutive requests of one task go as one
        batch (up to ``model.batch_size``); if a batch fails, its requests are retried one by one
        and a request that still fails gets an error prediction."""
        out: list[Prediction] = []
        start = 0
        while start < len(requests):
            end = start + 1
            while (end < len(requests) and end - start < self.batch_size
                   and requests[end].task == requests[start].task):
                end += 1
            group = list(requests[start:end])
            try:
                out.extend(self._run(group))
            except Exception as exc:  # isolate the bad sample
                if len(group) > 1:
                    for request in group:
                        out.extend(self.predict([request]))
                else:
                    out.append(Prediction(group[0].example_id, group[0].task, {}, 0.0,
                                          f"unified_io_2: {type(exc).__name__}: {exc}"))
            start = end
        return out
