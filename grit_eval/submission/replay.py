"""``replay``: answers from an existing submission (zip or folder), so the predictions of any
model, made anywhere, are scored through the same pipeline as a live model.

``model.predictions`` is the submission zip, or a folder holding ``<subset>/``. It is read
once, validated as the scorer validates it; a request without a prediction gets an error
prediction (empty answer, confidence 0) rather than stopping the run.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from grit_eval.errors import ConfigError
from grit_eval.types import GRIT_TASKS, Prediction, Request
from model_adapters.protocol import answer_all_kinds


@answer_all_kinds
class ReplayAdapter:
    name = "replay"
    reads_settings = ("predictions",)
    batch_invariant = True  # each answer depends on its own request only (grit_eval/run/binding.py)
    supported_tasks = frozenset(GRIT_TASKS)

    def __init__(self, source: Path, subset: str):
        from grit_eval.scoring.submission_reader import open_submission, read_predictions

        source = Path(source).expanduser()
        if not source.exists():
            raise ConfigError(f"{source}: model.predictions does not exist")
        self._answers: dict[tuple[str, str], dict] = {}
        self._normals: dict[tuple[str, str], bytes] = {}
        is_zip = source.is_file()
        with open_submission(subset, pred_zip=source if is_zip else None,
                             pred_dir=None if is_zip else source) as submission:
            self._params = submission.params_in_millions
            tasks = [t for t in GRIT_TASKS if submission.task_file(t).is_file()]
            for task in tasks:
                for example_id, entry in read_predictions(submission, task).items():
                    self._answers[(task, example_id)] = entry
                    if task == "normal":
                        self._normals[(task, example_id)] = (submission.normals_dir / entry["normal"]).read_bytes()
        self.supported_tasks = frozenset(tasks)

    @classmethod
    def from_settings(cls, settings: Any, split: Any) -> "ReplayAdapter":
        if not settings.predictions:
            raise ConfigError("model=replay needs model.predictions=<submission zip or folder>")
        return cls(Path(settings.predictions), split.subset)

    def num_parameters(self) -> int | None:
        return self._params * 1_000_000

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        out = []
        for request in requests:
            key = (request.task, request.example_id)
            entry = self._answers.get(key)
            if entry is None:
                out.append(Prediction(request.example_id, request.task, {}, 0.0,
                                      "replay: the submission has no prediction for this sample"))
                continue
            output = {k: v for k, v in entry.items() if k not in ("example_id", "confidence")}
            artifacts = {}
            if request.task == "normal":
                name = f"{request.example_id}.png"
                output["normal"] = name
                artifacts[name] = self._normals[key]
            out.append(Prediction(request.example_id, request.task, output,
                                  float(entry["confidence"]), None, artifacts))
        return out
