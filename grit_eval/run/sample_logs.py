"""Per-sample logs for prompt studies: what the model saw and said, beside the records.

Each prediction's ``Prediction.trace`` (``prompt``, ``raw``, ``tokens``, ``option_scores`` ...
where the adapter gives them) is kept IN its store line (``grit_eval.run.store``), so a trace is
written, fsynced, torn, dropped and resumed together with its prediction: a resumed or merged
run's logs can never disagree with its records, and JSON fields add no file write or fsync per
batch (each large array below is one atomic file). ``finalize`` writes ``<run_dir>/sample_logs.jsonl``, one line per stored prediction in
split order: ``example_id``, ``task``, the trace's fields, and the stored ``output``,
``confidence`` and ``error``.

Large arrays: a trace value that is a numpy array of more than ``INLINE_MAX`` elements is
written to ``sample_logs/<subset>/<task>/<example_id>.<field>.npy`` (an id that is no plain file
name, e.g. with ``/``, gets its other characters replaced by ``_`` and a digest appended, and
so does a field name; temp file + rename, before the store line that names it, like the
store's artifacts) and the trace holds ``{"npy": "<that
path, relative to the run directory>"}``; smaller arrays are inlined as lists. A re-predicted
sample rewrites its file under the same name. ``run.sample_logs=false`` drops the traces and
writes nothing.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from grit_eval.run.atomic import write_bytes_atomic, write_jsonl_atomic
from grit_eval.types import Prediction, Sample

FILE_NAME = "sample_logs.jsonl"
INLINE_MAX = 64  # arrays with more elements go to their own .npy file
FILE_KEY = "npy"  # {"npy": relative path} stands for an array written to its own file


def _plain(value: Any) -> Any:
    """A leaf of a trace as a JSON value: small arrays -> lists, numpy scalars -> numbers
    (``SampleLog._externalized`` walks mappings and sequences)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def is_log_file_name(name: Any) -> bool:
    """Whether a trace's file reference names a file this module writes: a relative POSIX path
    inside ``sample_logs/`` (a store line is input: a reference must never reach outside)."""
    if not isinstance(name, str) or "\\" in name:
        return False
    parts = name.split("/")
    return len(parts) > 2 and parts[0] == "sample_logs" and all(p not in ("", ".", "..") for p in parts)


def load_array(run_dir: Path, value: Any) -> Any:
    """A logged value as written by the adapter: ``{"npy": path}`` -> the array, else as is."""
    if isinstance(value, dict) and set(value) == {FILE_KEY}:
        if not is_log_file_name(value[FILE_KEY]):
            raise ValueError(f"{value[FILE_KEY]!r} is no sample-log file of the run")
        return np.load(Path(run_dir) / value[FILE_KEY], allow_pickle=False)
    return value


def file_references(value: Any) -> list[str]:
    """The relative paths of the array files a trace refers to."""
    if isinstance(value, dict):
        if set(value) == {FILE_KEY}:
            return [value[FILE_KEY]]
        return [name for v in value.values() for name in file_references(v)]
    if isinstance(value, list):
        return [name for v in value for name in file_references(v)]
    return []


def _file_stem(example_id: str) -> str:
    """The example id as a file name: as is when it is a plain name, else its unsafe
    characters replaced and a digest of the id added (ids come from data files)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", example_id).lstrip(".")
    if safe == example_id:
        return safe
    return f"{safe}-{hashlib.sha256(example_id.encode()).hexdigest()[:12]}"


class SampleLog:
    def __init__(self, run_dir: Path, subset: str, enabled: bool):
        self.run_dir = Path(run_dir)
        self.root = self.run_dir / "sample_logs" / subset if enabled else None

    def _externalized(self, task: str, example_id: str, value: Any, field: str) -> Any:
        """``value`` with its large arrays written to files and replaced by references."""
        if isinstance(value, Mapping):
            return {str(k): self._externalized(task, example_id, v, f"{field}.{k}")
                    for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._externalized(task, example_id, v, f"{field}.{i}") for i, v in enumerate(value)]
        if isinstance(value, np.ndarray) and value.size > INLINE_MAX:
            path = self.root / task / f"{_file_stem(example_id)}.{_file_stem(field.lstrip('.'))}.npy"
            buffer = io.BytesIO()
            np.save(buffer, np.ascontiguousarray(value), allow_pickle=False)
            write_bytes_atomic(path, buffer.getvalue())
            return {FILE_KEY: path.relative_to(self.run_dir).as_posix()}
        return _plain(value)

    def prepared(self, task: str, predictions: Sequence[Prediction]) -> list[Prediction]:
        """The batch as the store keeps it: traces made JSON values, their large arrays
        written to files (before the store line names them); no traces when logs are off."""
        if self.root is None:
            return [dataclasses.replace(p, trace={}) if p.trace else p for p in predictions]
        return [dataclasses.replace(p, trace=self._externalized(task, p.example_id, dict(p.trace), ""))
                if p.trace else p for p in predictions]

    def finalize(self, samples: Sequence[Sample], stored: Mapping[str, Mapping[str, Prediction]]) -> Path | None:
        """Write ``sample_logs.jsonl``: one line per stored prediction (``stored``: task ->
        example id -> prediction), in split order."""
        if self.root is None:
            return None
        rows = []
        for sample in samples:
            p = stored.get(sample.task, {}).get(sample.example_id)
            if p is not None:
                rows.append({**p.trace, "example_id": p.example_id, "task": p.task,
                             "output": dict(p.output), "confidence": p.confidence, "error": p.error})
        target = self.run_dir / FILE_NAME
        write_jsonl_atomic(target, rows)
        return target
