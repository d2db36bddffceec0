"""``oracle``: answers every request from the ground truth.

A sanity check of the whole pipeline: on data whose labels are unambiguous (mini-GRIT, the
official examples) it must score the official maximum on every task. Confidence is 1.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from grit_eval.types import GRIT_TASKS, TASK_OUTPUT_FIELD, Prediction, Request, Sample
from model_adapters.images import normal_file_name


class OracleAdapter:
    name = "oracle"
    supported_tasks = frozenset(GRIT_TASKS)

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
        if sample.task in ("categorization", "vqa"):
            return {"words": sample.target["words"][0]}, {}
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
