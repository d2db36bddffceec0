"""``oracle``: answers every request from the ground truth.

A sanity check of the whole pipeline: on data whose labels are unambiguous (mini-GRIT, the
official examples) it must score the official maximum on every task. Confidence is 1.

Per-dataset splits (their ``target`` keys are each reader's own): VQA answers the most
frequent human answer (ties: the first in file order), which maximises VQAv2 accuracy up to
answer normalisation; captioning gives the first reference caption (CIDEr-D has no fixed
maximum: 10 only when every reference of an image is that caption); classification the
label; depth the ground-truth map re-encoded in millimetres; normals the ground-truth PNG.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from PIL import Image

from grit_eval.types import GRIT_TASKS, TASK_OUTPUT_FIELD, Prediction, Request, Sample
from grit_eval.formats import normal_file_name
from grit_eval.formats import depth_file_name, depth_png_bytes
from model_adapters.prior import EXTRA_TASKS
from model_adapters.protocol import answer_all_kinds


@answer_all_kinds
class OracleAdapter:
    name = "oracle"
    reads_settings = ()  # answers from the ground truth: model.checkpoint etc. are refused
    batch_invariant = True  # each answer depends on its own request only (grit_eval/run/binding.py)
    supported_tasks = frozenset(GRIT_TASKS) | frozenset(EXTRA_TASKS)

    def __init__(self, samples: Sequence[Sample], gt_normals_dir: Path | None):
        self._samples = {(s.task, s.example_id): s for s in samples}
        self._normals = gt_normals_dir

    @classmethod
    def from_settings(cls, settings: Any, split: Any) -> "OracleAdapter":
        return cls(split.samples, split.gt_normals_dir)

    def num_parameters(self) -> int | None:
        return 0

    def _answer(self, sample: Sample) -> tuple[Mapping[str, Any], dict[str, bytes]]:
        if sample.target is None:
            raise ValueError("the split has no ground truth for this sample")
        field = TASK_OUTPUT_FIELD[sample.task]
        target = sample.target
        if sample.task == "vqa" and "answers" in target:  # VQAv2 / OK-VQA / VizWiz / A-OKVQA
            counts = Counter(target["answers"])
            return {"words": max(counts, key=lambda a: counts[a])}, {}
        if sample.task in ("categorization", "vqa"):
            return {"words": target["words"][0]}, {}
        if sample.task == "captioning":
            return {"words": target["captions"][0]}, {}
        if sample.task == "classification":
            return {"words": target["label"]}, {}
        if sample.task == "depth":
            name = depth_file_name(sample.example_id)
            with Image.open(target["depth_path"]) as image:
                depth_m = np.asarray(image).astype(np.float64) * float(target["depth_scale"])
            return {"depth": name}, {name: depth_png_bytes(depth_m)}
        if sample.task == "normal" and "normal_path" in target:  # NYUv2
            name = normal_file_name(sample.example_id)
            return {"normal": name}, {name: Path(target["normal_path"]).read_bytes()}
        if sample.task == "normal":
            if self._normals is None:
                raise ValueError("no ground-truth normals folder")
            name = normal_file_name(sample.example_id)
            data = (self._normals / sample.target["out_image_name"]).read_bytes()
            return {"normal": name}, {name: data}
        return {field: sample.target[field]}, {}

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        out = []
        for request in requests:
            sample = self._samples.get((request.task, request.example_id))
            try:
                if sample is None:
                    raise ValueError("unknown example id")
                output, artifacts = self._answer(sample)
                out.append(Prediction(request.example_id, request.task, output, 1.0, None, artifacts))
            except (ValueError, KeyError, OSError) as exc:
                out.append(Prediction(request.example_id, request.task, {}, 0.0, f"oracle: {exc}"))
        return out
