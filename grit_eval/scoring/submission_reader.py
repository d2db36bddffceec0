"""Open and validate a GRIT submission (zip or folder), GRIT_SPEC.md 1.3.

Layout: one top-level folder named like the subset, holding ``params.json``
(``{"params_in_millions": <int>}``, required), any of ``<task>.json`` and ``normals/*.png``.

A zip is extracted into a private temporary folder (never into a user folder), with limits:
entries that are absolute, contain ``..``, are symlinks, or lie outside ``<subset>/`` are
rejected, as are archives with too many entries or too many uncompressed bytes (counted while
extracting, so a lying header does not help). ``__MACOSX/`` entries (Finder metadata) are
skipped. Every problem is a ``SubmissionError`` naming the file, the example id and what is
wrong.
"""
from __future__ import annotations

import contextlib
import json
import math
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

from grit_eval.data.fields import is_number, prediction_field_problem
from grit_eval.errors import SubmissionError
from grit_eval.types import TASK_OUTPUT_FIELD

MAX_ENTRIES = 1_000_000
# A full GRIT test submission with normal PNGs is a few GB; 32 GiB leaves room and still
# stops a zip bomb before it fills the disk.
MAX_UNCOMPRESSED_BYTES = 32 * 2**30
COPY_CHUNK = 1 << 20
SKIPPED_PREFIX = "__MACOSX/"


@dataclass(frozen=True)
class Submission:
    """An opened submission folder.

    Attributes:
        folder: ``<pred_dir>/<subset>`` (extracted or given).
        label: how messages name the submission's files (the zip path + inner path, or the folder).
        params_in_millions: ``int(params.json["params_in_millions"])``.
    """

    folder: Path
    label: str
    params_in_millions: int

    @property
    def normals_dir(self) -> Path:
        return self.folder / "normals"

    def task_file(self, task: str) -> Path:
        return self.folder / f"{task}.json"

    def name(self, path: Path) -> str:
        """User-facing name of a file inside the submission."""
        return f"{self.label}/{path.relative_to(self.folder).as_posix()}"


def _check_entry(zip_path: Path, info: zipfile.ZipInfo, subset: str) -> str | None:
    """Problem with one zip entry, or None."""
    name = info.filename
    path = PurePosixPath(name.replace("\\", "/"))
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return f"entry {name!r} has an absolute path"
    if ".." in path.parts:
        return f"entry {name!r} leaves the extraction folder ('..')"
    if stat.S_ISLNK(info.external_attr >> 16):
        return f"entry {name!r} is a symbolic link"
    if not path.parts or path.parts[0] != subset:
        return (f"entry {name!r} is outside the folder '{subset}/': the zip must hold a single "
                f"top-level folder named like the subset")
    return None


def extract_zip(
    zip_path: Path,
    dest: Path,
    subset: str,
    *,
    max_entries: int = MAX_ENTRIES,
    max_bytes: int = MAX_UNCOMPRESSED_BYTES,
) -> None:
    """Safely extract ``zip_path`` into ``dest`` (see the module docstring for the rules)."""
    zip_path = Path(zip_path)
    try:
        archive = zipfile.ZipFile(zip_path)
    except FileNotFoundError:
        raise SubmissionError(f"{zip_path}: file not found") from None
    except (zipfile.BadZipFile, OSError):
        raise SubmissionError(f"{zip_path}: not a zip file") from None
    with archive:
        infos = [i for i in archive.infolist() if not i.filename.startswith(SKIPPED_PREFIX)]
        if len(infos) > max_entries:
            raise SubmissionError(f"{zip_path}: {len(infos)} entries, more than the limit of {max_entries}")
        declared = sum(i.file_size for i in infos)
        if declared > max_bytes:
            raise SubmissionError(f"{zip_path}: {declared} bytes uncompressed, more than the limit of {max_bytes}")
        for info in infos:
            problem = _check_entry(zip_path, info, subset)
            if problem:
                raise SubmissionError(f"{zip_path}: {problem}")
        budget = max_bytes
        for info in infos:
            target = dest.joinpath(*PurePosixPath(info.filename.replace("\\", "/")).parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(info) as src, open(target, "wb") as out:
                    while chunk := src.read(COPY_CHUNK):
                        budget -= len(chunk)
                        if budget < 0:
                            raise SubmissionError(
                                f"{zip_path}: more than {max_bytes} bytes uncompressed, over the limit")
                        out.write(chunk)
            except (zipfile.BadZipFile, OSError, EOFError) as err:
                raise SubmissionError(f"{zip_path}: entry {info.filename!r} is corrupt ({err})") from None


def _read_params(path: Path, label: str) -> int:
    if not path.is_file():
        raise SubmissionError(f"{label}: params.json is missing (it is required: "
                              '{"params_in_millions": <int>})')
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        value = data["params_in_millions"]
        # The official code passes the value through int(): ints, finite floats and
        # numeric strings pass; bools are almost certainly a mistake.
        if isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
            raise ValueError
        return int(value)
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise SubmissionError(f"{label}: params.json must be {{\"params_in_millions\": <int>}}") from None


@contextlib.contextmanager
def open_submission(
    subset: str,
    *,
    pred_zip: Path | None = None,
    pred_dir: Path | None = None,
    max_entries: int = MAX_ENTRIES,
    max_bytes: int = MAX_UNCOMPRESSED_BYTES,
) -> Iterator[Submission]:
    """Open a submission zip (extracted to a temporary folder, removed on exit) or folder.

    Args:
        subset: ``ablation``, ``test`` or a local subset name; the top-level folder name.
        pred_zip: the submission zip; when given, ``pred_dir`` is not used.
        pred_dir: folder holding ``<subset>/`` (an already extracted submission).
    """
    if pred_zip is None and pred_dir is None:
        raise SubmissionError("no submission: give --pred_zip or --pred_dir")
    tmp = None
    try:
        if pred_zip is not None:
            tmp = Path(tempfile.mkdtemp(prefix="grit-eval-score-"))
            extract_zip(Path(pred_zip), tmp, subset, max_entries=max_entries, max_bytes=max_bytes)
            folder, label = tmp / subset, f"{pred_zip}:{subset}"
            if not folder.is_dir():
                raise SubmissionError(f"{pred_zip}: the zip has no top-level folder '{subset}/'")
        else:
            folder, label = Path(pred_dir) / subset, str(Path(pred_dir) / subset)
            if not folder.is_dir():
                raise SubmissionError(f"{folder}: folder not found (expected <pred_dir>/{subset}/)")
        params = _read_params(folder / "params.json", f"{label}/params.json")
        yield Submission(folder=folder, label=label, params_in_millions=params)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def read_predictions(submission: Submission, task: str) -> dict[str, dict[str, Any]]:
    """Read and validate ``<task>.json`` of a submission.

    Every entry needs ``example_id`` (str), ``confidence`` (finite, in [0, 1]: stricter than
    the official code, which lets NaN and out-of-range values distort the calibration
    measures) and the task's field, well formed. For normal, the PNG must exist in
    ``normals/`` and its name may not leave that folder.

    Returns:
        example_id -> prediction dict; for duplicate ids the last one wins, as official.
    """
    path = submission.task_file(task)
    name = submission.name(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SubmissionError(f"{name}: not valid JSON ({err})") from None
    if not isinstance(data, list):
        raise SubmissionError(f"{name}: expected a JSON list of predictions")
    field = TASK_OUTPUT_FIELD[task]
    normals = submission.normals_dir.resolve()
    predictions: dict[str, dict[str, Any]] = {}
    for i, pred in enumerate(data):
        if not isinstance(pred, dict):
            raise SubmissionError(f"{name}: entry {i}: a prediction must be an object")
        example_id = pred.get("example_id")
        if not isinstance(example_id, str):
            raise SubmissionError(f"{name}: entry {i}: example_id must be a str")
        problem = _confidence_problem(pred.get("confidence", None), "confidence" in pred)
        if problem is None:
            problem = (prediction_field_problem(field, pred[field]) if field in pred
                       else f"no '{field}' field")
        if problem is None and field == "normal":
            png = (normals / pred["normal"]).resolve()
            if not png.is_relative_to(normals):
                problem = f"normal file {pred['normal']!r} is outside normals/"
            elif not png.is_file():
                problem = f"normal file normals/{pred['normal']} not found in the submission"
        if problem:
            raise SubmissionError(f"{name}: {example_id}: {problem}")
        predictions[example_id] = pred
    return predictions


def _confidence_problem(value: Any, present: bool) -> str | None:
    if not present:
        return "no 'confidence' field"
    if not is_number(value):
        return f"confidence must be a finite number, got {value!r}"
    if not 0.0 <= value <= 1.0:
        return f"confidence must be in [0, 1], got {value!r}"
    return None
