"""An example grit-eval adapter outside the grit-eval package (README "Evaluate your own model").

A rule-based "model" written with numpy: it reads the rendered prompt, finds a colour word
and boxes the image's pixels of that colour. It answers two request kinds, ``localize_boxes``
(GRIT localization and refexp) and ``choose_option`` (categorization: the option whose name
shares the most words with the prompt, else the first); grit-eval reports the tasks of other
kinds (VQA, segmentation, keypoints, normals) before the run and skips them.

Its answers depend on the prompt on purpose, so a prompt study shows something: like a model
with a short context, it reads only the first ``options.window`` words of the prompt, so a
template that puts the expression late loses the colour word and falls back to a central box.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from PIL import Image

from grit_eval.types import Prediction, Request

# Colour prototypes (RGB) the rules know; a pixel within MAX_DISTANCE of one has that colour.
PROTOTYPES = {
    "red": (220, 40, 40), "green": (40, 160, 60), "blue": (40, 70, 215),
    "yellow": (240, 215, 30), "purple": (135, 50, 175), "orange": (245, 135, 20),
}
MAX_DISTANCE = 40.0
DEFAULT_TEMPLATES = {"refexp": "{}", "localization": "{}", "categorization": "{}"}


@dataclass
class ColourRulesOptions:
    """``model.options.<name>`` of this adapter (grit-eval rejects any other key)."""

    window: int = 6  # words of the rendered prompt the rules read


class ColourRulesAdapter:
    name = "colour_rules"
    accepts_prompts = True  # model.prompts.<task>: a template with one {} slot
    options_class = ColourRulesOptions

    def __init__(self, templates: dict[str, str], options: ColourRulesOptions):
        self.templates = {**DEFAULT_TEMPLATES, **templates}
        self.options = options

    @classmethod
    def from_settings(cls, settings: Any, split: Any) -> "ColourRulesAdapter":
        return cls(dict(settings.prompts), ColourRulesOptions(**dict(settings.options)))

    def num_parameters(self) -> int | None:
        return 0

    def render(self, request: Request) -> str:
        return self.templates.get(request.task, "{}").replace("{}", request.task_query or "")

    def _colour(self, prompt: str) -> str | None:
        words = prompt.lower().replace('"', " ").split()[: self.options.window]
        return next((w for w in words if w in PROTOTYPES), None)

    def localize_boxes(self, requests: Sequence[Request]) -> list[Prediction]:
        out = []
        for request in requests:
            with Image.open(request.image_path) as image:
                rgb = np.asarray(image.convert("RGB"), dtype=np.float64)
            h, w = rgb.shape[:2]
            box, confidence = [0.25 * w, 0.25 * h, 0.75 * w, 0.75 * h], 0.1
            prompt = self.render(request)
            colour = self._colour(prompt)
            if colour is not None:
                near = np.linalg.norm(rgb - np.array(PROTOTYPES[colour]), axis=-1) < MAX_DISTANCE
                ys, xs = np.nonzero(near)
                if len(xs):
                    box = [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]
                    confidence = 0.9
            out.append(Prediction(request.example_id, request.task, {"bboxes": [box]}, confidence,
                                  trace={"prompt": prompt, "raw": colour}))
        return out

    def choose_option(self, requests: Sequence[Request]) -> list[Prediction]:
        out = []
        for request in requests:
            options = list(request.output_options or ())
            if not options:
                out.append(Prediction(request.example_id, request.task, {}, 0.0, "no output options"))
                continue
            prompt = self.render(request)
            words = set(prompt.lower().split())
            overlap = {o: len(words & set(o.lower().split())) for o in options}
            best = max(options, key=overlap.__getitem__)
            out.append(Prediction(request.example_id, request.task, {"words": best}, 1.0 / len(options),
                                  trace={"prompt": prompt, "option_scores": overlap}))
        return out
