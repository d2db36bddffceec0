"""``prior``: a no-learning baseline that a researcher would report as the floor.

It never looks at pixels beyond the image size. Per task:

| task | answer | confidence |
|---|---|---|
| categorization | the first option of the sample's option list | 1 / number of options |
| vqa | "yes" (the most frequent VQAv2 answer) | 0.2 |
| localization, refexp | one box over the central half of the image (25%..75% of W and H) | 0.1 |
| segmentation | that central box as a mask | 0.1 |
| keypoint | one upright person: a fixed 17-joint template in the central box | 0.05 |
| normal | every pixel faces the camera, n = (0, 0, -1) | 0.1 |
| captioning | "a picture of something" | 0.1 |
| classification | the first class of the class list | 1 / number of classes |
| depth | 2.5 m everywhere (a typical indoor distance; a 16-bit PNG in mm) | 0.1 |

The per-dataset splits (RefCOCO, VQAv2, COCO keypoints, NYUv2 normals, ...) reuse the GRIT
answers of their task: only the request is looked at, never the dataset.

The confidences are fixed guesses at the expected score, documented so calibration numbers
(rmse, misinf) mean something; they are not fitted to any split.
"""
from __future__ import annotations

from typing import Any, Sequence


import numpy as np

from grit_eval.types import GRIT_TASKS, Prediction, Request
from grit_eval.formats import (
    depth_file_name,
    depth_png_bytes,
    image_size,
    mask_rle,
    normal_file_name,
    png_bytes,
)
from model_adapters.protocol import answer_all_kinds

# Joint positions of an upright person in unit box coordinates (x, y), COCO order:
# nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles (left before right).
_PERSON_TEMPLATE = np.array([
    [0.50, 0.08], [0.46, 0.06], [0.54, 0.06], [0.42, 0.08], [0.58, 0.08],
    [0.36, 0.22], [0.64, 0.22], [0.30, 0.38], [0.70, 0.38], [0.28, 0.52], [0.72, 0.52],
    [0.42, 0.55], [0.58, 0.55], [0.42, 0.76], [0.58, 0.76], [0.42, 0.96], [0.58, 0.96],
])

# n = (0, 0, -1) encoded as the authors' normal2rgb does: uint8((n + 1) / 2 * 255).
_FACING_CAMERA_RGB = np.array([127, 127, 0], dtype=np.uint8)
PRIOR_CAPTION = "a picture of something"
PRIOR_DEPTH_M = 2.5
# Per-dataset tasks the prior (and the oracle) answer besides the GRIT ones.
EXTRA_TASKS = ("captioning", "classification", "depth")


def central_box(width: int, height: int) -> list[float]:
    return [0.25 * width, 0.25 * height, 0.75 * width, 0.75 * height]


@answer_all_kinds
class PriorAdapter:
    name = "prior"
    batch_invariant = True  # each answer depends on its own request only (grit_eval/run/binding.py)
    reads_settings = ()  # no weights, tokenizer or randomness: model.checkpoint etc. are refused
    supported_tasks = frozenset(GRIT_TASKS) | frozenset(EXTRA_TASKS)

    @classmethod
    def from_settings(cls, settings: Any, split: Any) -> "PriorAdapter":
        return cls()

    def num_parameters(self) -> int | None:
        return 0

    def _answer(self, request: Request) -> tuple[dict, float, dict[str, bytes]]:
        task = request.task
        if task == "categorization":
            options = request.output_options or ()
            if not options:
                raise ValueError("categorization request without output options")
            return {"words": options[0]}, 1.0 / len(options), {}
        if task == "vqa":
            return {"words": "yes"}, 0.2, {}
        if task == "captioning":
            return {"words": PRIOR_CAPTION}, 0.1, {}
        if task == "classification":
            options = request.output_options or ()
            if not options:
                raise ValueError("classification request without a class list")
            return {"words": options[0]}, 1.0 / len(options), {}
        width, height = image_size(request.image_path)
        box = central_box(width, height)
        if task in ("localization", "refexp"):
            return {"bboxes": [box]}, 0.1, {}
        if task == "segmentation":
            mask = np.zeros((height, width), dtype=np.uint8)
            x1, y1, x2, y2 = (int(round(v)) for v in box)
            mask[y1:y2, x1:x2] = 1
            return {"masks": [mask_rle(mask)]}, 0.1, {}
        if task == "keypoint":
            x1, y1, x2, y2 = box
            xy = _PERSON_TEMPLATE * [x2 - x1, y2 - y1] + [x1, y1]
            points = np.concatenate([xy, np.full((17, 1), 2.0)], axis=1).ravel()
            return {"points": [points.round(2).tolist()]}, 0.05, {}
        if task == "normal":
            name = normal_file_name(request.example_id)
            rgb = np.broadcast_to(_FACING_CAMERA_RGB, (height, width, 3))
            return {"normal": name}, 0.1, {name: png_bytes(rgb)}
        if task == "depth":
            name = depth_file_name(request.example_id)
            return {"depth": name}, 0.1, {name: depth_png_bytes(np.full((height, width), PRIOR_DEPTH_M))}
        raise ValueError(f"prior has no answer for task {task!r}")

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        out = []
        for request in requests:
            try:
                output, confidence, artifacts = self._answer(request)
                out.append(Prediction(request.example_id, request.task, output, confidence, None, artifacts))
            except (ValueError, OSError) as exc:
                out.append(Prediction(request.example_id, request.task, {}, 0.0, f"prior: {exc}"))
        return out
