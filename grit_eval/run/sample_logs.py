"""Per-sample logs for prompt studies: what the model saw and said, beside the records.

While predicting, each batch's lines are appended to ``<run_dir>/sample_logs/<subset>/<task>.jsonl``
(written before the batch reaches the store, so a resumed run may repeat a line: the last one
of an example wins). ``finalize`` writes ``<run_dir>/sample_logs.jsonl``, one line per predicted
sample in split order: ``example_id``, ``task``, the adapter's ``Prediction.trace`` (``prompt``,
``raw``, ``tokens``, ``option_scores`` where it gives them), the post-processed ``output``,
``confidence`` and ``error``. ``run.sample_logs=false`` writes nothing.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from grit_eval.run.atomic import write_jsonl_atomic
from grit_eval.types import Prediction, Sample

FILE_NAME = "sample_logs.jsonl"


class SampleLog:
    def __init__(self, run_dir: Path, subset: str, enabled: bool):
        self.run_dir = Path(run_dir)
        self.root = self.run_dir / "sample_logs" / subset if enabled else None

    def append(self, task: str, predictions: Sequence[Prediction]) -> None:
        if self.root is None:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps({"example_id": p.example_id, "task": p.task, **dict(p.trace),
                             "output": dict(p.output), "confidence": p.confidence, "error": p.error},
                            sort_keys=True) + "\n" for p in predictions]
        with open(self.root / f"{task}.jsonl", "a") as handle:
            handle.write("".join(lines))

    def finalize(self, samples: Sequence[Sample], tasks: Sequence[str]) -> Path | None:
        """Write ``sample_logs.jsonl`` (split order, the last line of each example)."""
        if self.root is None:
            return None
        latest: dict[tuple[str, str], dict] = {}
        for task in tasks:
            path = self.root / f"{task}.jsonl"
            if path.is_file():
                for line in path.read_text().splitlines():
                    try:
                        row = json.loads(line)
                    except ValueError:
                        continue  # a line torn by a crash; the sample was re-predicted
                    latest[row["task"], row["example_id"]] = row
        rows = [latest[s.task, s.example_id] for s in samples if (s.task, s.example_id) in latest]
        target = self.run_dir / FILE_NAME
        write_jsonl_atomic(target, rows)
        return target
