"""Per-sample logs for prompt studies: what the model saw and said, beside the records.

While predicting, each batch's lines are appended to ``<run_dir>/sample_logs/<subset>/<task>.jsonl``
(one fsynced write per batch, before the batch reaches the store, so every stored prediction has
its line; a resumed run may repeat a line: the last one of an example wins, and a torn last
line left by a crash is cut away before appending, as the store does). ``finalize`` writes
``<run_dir>/sample_logs.jsonl``, one line per stored prediction in split order: ``example_id``,
``task``, the adapter's ``Prediction.trace`` (``prompt``, ``raw``, ``tokens``, ``option_scores``
... where it gives them) and the stored ``output``, ``confidence`` and ``error`` (the store is
the authority, so the log never disagrees with the records).

Large arrays: a trace value that is a numpy array of more than ``INLINE_MAX`` elements is
written to ``sample_logs/<subset>/<task>/<example_id>.<field>.npy`` (temp file + rename, before
the line) and the line holds ``{"npy": "<that path, relative to the run directory>"}``; smaller
arrays are inlined as lists. A re-predicted sample rewrites its file under the same name, so
the newest line and its file always go together. ``run.sample_logs=false`` writes nothing.
"""
from __future__ import annotations

import io
import json
import logging
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from grit_eval.run.atomic import write_bytes_atomic, write_jsonl_atomic
from grit_eval.types import Prediction, Sample

log = logging.getLogger(__name__)
FILE_NAME = "sample_logs.jsonl"
INLINE_MAX = 64  # arrays with more elements go to their own .npy file
FILE_KEY = "npy"  # {"npy": relative path} stands for an array written to its own file


def _plain(value: Any) -> Any:
    """numpy scalars -> Python numbers, tuples -> lists (recursively), for JSON."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def load_array(run_dir: Path, value: Any) -> Any:
    """A logged value as written by the adapter: ``{"npy": path}`` -> the array, else as is."""
    if isinstance(value, dict) and set(value) == {FILE_KEY}:
        return np.load(Path(run_dir) / value[FILE_KEY], allow_pickle=False)
    return value


def _file_references(value: Any) -> list[str]:
    """The relative paths of the array files a logged line refers to."""
    if isinstance(value, dict):
        if set(value) == {FILE_KEY}:
            return [value[FILE_KEY]]
        return [name for v in value.values() for name in _file_references(v)]
    if isinstance(value, list):
        return [name for v in value for name in _file_references(v)]
    return []


class SampleLog:
    def __init__(self, run_dir: Path, subset: str, enabled: bool):
        self.run_dir = Path(run_dir)
        self.root = self.run_dir / "sample_logs" / subset if enabled else None
        self._repaired: set[str] = set()

    def _path(self, task: str) -> Path:
        assert self.root is not None
        return self.root / f"{task}.jsonl"

    def _externalized(self, task: str, example_id: str, value: Any, field: str) -> Any:
        """``value`` with its large arrays written to files and replaced by references."""
        if isinstance(value, Mapping):
            return {str(k): self._externalized(task, example_id, v, f"{field}.{k}")
                    for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._externalized(task, example_id, v, f"{field}.{i}") for i, v in enumerate(value)]
        if isinstance(value, np.ndarray) and value.size > INLINE_MAX:
            path = self.root / task / f"{example_id}.{field.lstrip('.')}.npy"
            buffer = io.BytesIO()
            np.save(buffer, np.ascontiguousarray(value), allow_pickle=False)
            write_bytes_atomic(path, buffer.getvalue())
            return {FILE_KEY: path.relative_to(self.run_dir).as_posix()}
        return _plain(value)

    def _repair_tail(self, task: str) -> None:
        """Cut a torn last line (a crash mid-write), so the next batch starts on a new line."""
        self._repaired.add(task)
        path = self._path(task)
        if not path.is_file():
            return
        data = path.read_bytes()
        good = data.rfind(b"\n") + 1
        if good < len(data):
            log.warning("%s: dropping a torn last line (an interrupted write)", path)
            with open(path, "r+b") as handle:
                handle.truncate(good)

    def append(self, task: str, predictions: Sequence[Prediction]) -> None:
        """Log a batch: its array files, then one fsynced append of its lines."""
        if self.root is None:
            return
        lines = [json.dumps({"example_id": p.example_id, "task": p.task,
                             **self._externalized(task, p.example_id, dict(p.trace), "")},
                            sort_keys=True) + "\n" for p in predictions]
        self._append_lines(task, lines)

    def _append_lines(self, task: str, lines: list[str]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if task not in self._repaired:
            self._repair_tail(task)
        with open(self._path(task), "ab") as handle:
            handle.write("".join(lines).encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())

    def copy_from(self, source: "SampleLog", task: str, example_ids: Sequence[str]) -> None:
        """Append ``source``'s last line of each of ``example_ids`` not logged here yet, with
        its array files (a merge of shards: the relative names stay the same)."""
        if self.root is None or source.root is None:
            return
        have, rows = self.latest(task), source.latest(task)
        lines = []
        for row in (rows[i] for i in example_ids if i in rows and i not in have):
            for name in _file_references(row):
                write_bytes_atomic(self.run_dir / name, (source.run_dir / name).read_bytes())
            lines.append(json.dumps(row, sort_keys=True) + "\n")
        if lines:
            self._append_lines(task, lines)

    def latest(self, task: str) -> dict[str, dict]:
        """The last logged line of each example of ``task``."""
        found: dict[str, dict] = {}
        path = self._path(task)
        if path.is_file():
            for line in path.read_bytes().splitlines(keepends=True):
                try:
                    row = json.loads(line) if line.endswith(b"\n") else None
                except ValueError:
                    row = None
                if isinstance(row, dict) and "example_id" in row:
                    found[row["example_id"]] = row
        return found

    def finalize(self, samples: Sequence[Sample], stored: Mapping[str, Mapping[str, Prediction]]) -> Path | None:
        """Write ``sample_logs.jsonl``: one line per stored prediction (``stored``: task ->
        example id -> prediction), in split order, its trace from its last logged line."""
        if self.root is None:
            return None
        latest = {task: self.latest(task) for task in stored}
        rows, missing = [], 0
        for sample in samples:
            prediction = stored.get(sample.task, {}).get(sample.example_id)
            if prediction is None:
                continue
            row = latest[sample.task].get(sample.example_id)
            if row is None:  # only runs started before sample logs were kept
                missing += 1
                continue
            rows.append({**row, "output": dict(prediction.output), "confidence": prediction.confidence,
                         "error": prediction.error})
        if missing:
            log.warning("%d stored predictions have no sample log line (predicted before the "
                        "run kept sample logs); they are left out of %s", missing, FILE_NAME)
        target = self.run_dir / FILE_NAME
        write_jsonl_atomic(target, rows)
        return target
