"""Append-only, crash-safe prediction store: one JSONL file per (split, task).

Each line is ``<crc32 hex> <json>\\n``. On open, lines are verified; a torn or corrupt LAST
line (the process died mid-write) is dropped and truncated away, a corrupt line elsewhere is
an error (someone edited the file). Artifacts (normal PNGs) are written atomically BEFORE the
line that refers to them, so a line on disk always has its files; the line carries each
artifact's sha256 (``ARTIFACT_KEY``), and loading checks them: a prediction whose artifact is
missing or damaged is dropped (with a warning), so it is predicted again, never scored as an
empty map. A line also holds the prediction's per-sample log (``trace``, when it has one), so
the log lives and dies with its prediction.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import zlib
from dataclasses import asdict
from pathlib import Path

from grit_eval.errors import StoreError
from grit_eval.run.atomic import write_bytes_atomic
from grit_eval.types import Prediction

log = logging.getLogger(__name__)
ARTIFACT_KEY = "artifact_sha256"  # {file name: sha256 hex} of the line's artifacts


def _encode_line(payload: dict) -> bytes:
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def _decode_line(line: bytes) -> dict | None:
    """The payload of a stored line, or None when the line is torn or corrupt."""
    if not line.endswith(b"\n") or len(line) < 10 or line[8:9] != b" ":
        return None
    body = line[9:-1]
    try:
        if int(line[:8], 16) != zlib.crc32(body):
            return None
        return json.loads(body)
    except ValueError:
        return None


class PredictionStore:
    """Predictions of one split, one file per task, under ``<run_dir>/predictions/<split>/``."""

    def __init__(self, root: Path, strict: bool = False):
        """``strict``: a missing or damaged artifact is an error (reading a finished run)
        instead of a prediction to make again (resuming a run)."""
        self.root = Path(root)
        self.strict = strict
        self.artifact_dir = self.root / "normals"
        self._done: dict[str, dict[str, Prediction]] = {}

    def _path(self, task: str) -> Path:
        return self.root / f"{task}.jsonl"

    def load(self, task: str) -> dict[str, Prediction]:
        """All stored predictions of ``task`` by example id (last one wins), repairing a torn tail."""
        if task in self._done:
            return self._done[task]
        path = self._path(task)
        found: dict[str, Prediction] = {}
        if path.exists():
            data = path.read_bytes()
            lines = data.splitlines(keepends=True)
            good_bytes = 0
            for number, line in enumerate(lines, start=1):
                payload = _decode_line(line)
                if payload is None:
                    if number == len(lines):
                        log.warning("%s: dropping a torn last line (an interrupted write); "
                                    "that sample will be predicted again", path)
                        with open(path, "r+b") as handle:
                            handle.truncate(good_bytes)
                        break
                    raise StoreError(f"{path}: line {number} is corrupt (checksum mismatch); "
                                     "the store was edited by hand - move it away to start over")
                good_bytes += len(line)
                checksums = payload.pop(ARTIFACT_KEY, {})
                prediction = Prediction(**{**payload, "artifacts": {}})
                damaged = self._damaged_artifact(checksums)
                if damaged and self.strict:
                    raise StoreError(f"{self.artifact_dir / damaged[0]}: {prediction.example_id}: the "
                                     f"artifact is {damaged[1]}; rerun that run directory to predict it again")
                if damaged:
                    log.warning("%s %s: its artifact %s is %s; the sample will be predicted again",
                                task, prediction.example_id, self.artifact_dir / damaged[0], damaged[1])
                    found.pop(prediction.example_id, None)
                    continue
                found[prediction.example_id] = prediction
        self._done[task] = found
        return found

    def _damaged_artifact(self, checksums: dict[str, str]) -> tuple[str, str] | None:
        """(name, "missing" | "damaged") for the first artifact not as stored, else None."""
        for name, expected in checksums.items():
            try:
                data = (self.artifact_dir / name).read_bytes()
            except FileNotFoundError:
                return name, "missing"
            if hashlib.sha256(data).hexdigest() != expected:
                return name, "damaged (checksum mismatch)"
        return None

    def append(self, task: str, predictions: list[Prediction]) -> None:
        """Persist a batch: artifacts first, then one fsynced append of all its lines."""
        done = self.load(task)
        chunks = []
        for prediction in predictions:
            for name, data in prediction.artifacts.items():
                write_bytes_atomic(self.artifact_dir / name, data)
            payload = asdict(prediction)
            if not payload["trace"]:  # a per-sample log (run/sample_logs.py), JSON values
                del payload["trace"]
            payload[ARTIFACT_KEY] = {name: hashlib.sha256(data).hexdigest()
                                     for name, data in payload.pop("artifacts").items()}
            chunks.append(_encode_line(payload))
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            with open(self._path(task), "ab") as handle:
                handle.write(b"".join(chunks))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as err:  # e.g. ENOSPC; a torn tail is dropped on resume
            raise OSError(err.errno, err.strerror, err.filename or str(self._path(task))) from None
        for prediction in predictions:
            done[prediction.example_id] = prediction
