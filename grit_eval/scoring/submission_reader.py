"""Open and validate a GRIT submission (zip or folder), GRIT_SPEC.md 1.3.

Layout: one top-level folder named like the subset, holding ``params.json``
(``{"params_in_millions": <int>}``, required), any of ``<task>.json`` and ``normals/*.png``.

A zip is extracted into a private temporary folder (never into a user folder), with limits:
entries that are absolute, contain ``..``, are symlinks, or lie outside ``<subset>/`` are
rejected. Zip bombs are refused by ``ZipLimits``: caps per member (a task JSON by the number of
samples the split has for that task, a normal PNG by the largest image), on the total, on the
entry count, and on the compression ratio; bytes are counted while extracting, so a header that
lies about sizes does not help, and nothing is read whole before it passed its cap.
``__MACOSX/`` entries (Finder metadata) are skipped. Every problem is a ``SubmissionError``
naming the file, the example id and what is wrong.
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

COPY_CHUNK = 1 << 20
SKIPPED_PREFIX = "__MACOSX/"
# A prediction entry is a few hundred bytes (segmentation RLE masks: tens of KB); 64 KiB per
# sample is ample and still stops a JSON bomb long before json.loads could exhaust memory.
JSON_BYTES_PER_SAMPLE = 64 * 2**10
JSON_BYTES_BASE = 2**20
# A normal map PNG: 8-bit RGB of at most 4096 x 4096 pixels, uncompressed (48 MiB) + headers.
PNG_MEMBER_BYTES = 64 * 2**20
# Deflate cannot beat ~1032:1; real JSON compresses 5-20x and PNGs about 1x. Members below
# RATIO_FREE_BYTES may compress arbitrarily well (an all-zero map, a short file).
MAX_RATIO = 200
RATIO_FREE_BYTES = 2**20


@dataclass(frozen=True)
class ZipLimits:
    """Caps on a submission zip (see the module docstring)."""

    max_entries: int = 1_000_000
    # A full GRIT test submission with normal PNGs is a few GB; 32 GiB leaves room.
    max_total_bytes: int = 32 * 2**30
    max_json_bytes: int = 256 * 2**20  # per JSON member when the split is unknown
    max_png_bytes: int = PNG_MEMBER_BYTES
    max_ratio: int = MAX_RATIO

    @classmethod
    def for_split(cls, samples_per_task: dict[str, int]) -> "ZipLimits":
        """Caps derived from the split the submission answers: per task, its sample count."""
        largest = max(samples_per_task.values(), default=0)
        normals = samples_per_task.get("normal", 0)
        json_cap = JSON_BYTES_BASE + JSON_BYTES_PER_SAMPLE * largest
        total = sum(JSON_BYTES_BASE + JSON_BYTES_PER_SAMPLE * n for n in samples_per_task.values())
        total += JSON_BYTES_BASE + normals * PNG_MEMBER_BYTES
        return cls(max_entries=sum(samples_per_task.values()) + normals + 64,
                   max_total_bytes=min(total, cls.max_total_bytes), max_json_bytes=json_cap)

    def member_cap(self, info: zipfile.ZipInfo) -> int:
        """The most bytes this member may inflate to: its kind's cap and the ratio cap."""
        kind_cap = self.max_png_bytes if info.filename.lower().endswith(".png") else self.max_json_bytes
        return min(kind_cap, max(RATIO_FREE_BYTES, self.max_ratio * info.compress_size))


DEFAULT_LIMITS = ZipLimits()


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

    def relabel(self, message: str) -> str:
        """``message`` with the (temporary) folder path replaced by the name users know."""
        return message.replace(str(self.folder), self.label)


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


def extract_zip(zip_path: Path, dest: Path, subset: str, limits: ZipLimits = DEFAULT_LIMITS) -> None:
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
        if len(infos) > limits.max_entries:
            raise SubmissionError(f"{zip_path}: {len(infos)} entries, more than the limit of {limits.max_entries}")
        declared = sum(i.file_size for i in infos)
        if declared > limits.max_total_bytes:
            raise SubmissionError(f"{zip_path}: {declared} bytes uncompressed, more than the limit "
                                  f"of {limits.max_total_bytes}")
        for info in infos:
            problem = _check_entry(zip_path, info, subset)
            if problem is None and info.file_size > limits.member_cap(info):
                problem = _member_cap_problem(info, info.file_size, limits)
            if problem:
                raise SubmissionError(f"{zip_path}: {problem}")
        budget = limits.max_total_bytes
        for info in infos:
            target = dest.joinpath(*PurePosixPath(info.filename.replace("\\", "/")).parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            member_budget = limits.member_cap(info)
            try:
                with archive.open(info) as src, open(target, "wb") as out:
                    # Counted as they come: a header that understates sizes gains nothing.
                    while chunk := src.read(COPY_CHUNK):
                        budget -= len(chunk)
                        member_budget -= len(chunk)
                        if budget < 0:
                            raise SubmissionError(f"{zip_path}: more than {limits.max_total_bytes} "
                                                  "bytes uncompressed, over the limit")
                        if member_budget < 0:
                            raise SubmissionError(f"{zip_path}: " + _member_cap_problem(
                                info, limits.member_cap(info) - member_budget, limits))
                        out.write(chunk)
            except (zipfile.BadZipFile, OSError, EOFError) as err:
                raise SubmissionError(f"{zip_path}: entry {info.filename!r} is corrupt ({err})") from None


def _member_cap_problem(info: zipfile.ZipInfo, size: int, limits: ZipLimits) -> str:
    ratio = size / max(1, info.compress_size)
    if size > RATIO_FREE_BYTES and ratio > limits.max_ratio:
        return (f"entry {info.filename!r} inflates {info.compress_size} bytes to {size} or more "
                f"(ratio {ratio:.0f}, over the limit of {limits.max_ratio}): refused as a zip bomb")
    return (f"entry {info.filename!r} holds {size} bytes or more uncompressed, over the limit of "
            f"{limits.member_cap(info)} for this member")


def _load_json(path: Path, name: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SubmissionError(f"{name}: not valid JSON ({err})") from None
    except RecursionError:
        raise SubmissionError(f"{name}: not valid JSON (nested too deeply)") from None


def _read_params(path: Path, label: str) -> int:
    if not path.is_file():
        raise SubmissionError(f"{label}: params.json is missing (it is required: "
                              '{"params_in_millions": <int>})')
    data = _load_json(path, label)
    try:
        value = data["params_in_millions"]
        # The official code passes the value through int(): ints, finite floats and
        # numeric strings pass; bools are almost certainly a mistake.
        if isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
            raise ValueError
        return int(value)
    except (ValueError, TypeError, KeyError):
        raise SubmissionError(f"{label}: params.json must be {{\"params_in_millions\": <int>}}") from None


@contextlib.contextmanager
def open_submission(
    subset: str,
    *,
    pred_zip: Path | None = None,
    pred_dir: Path | None = None,
    limits: ZipLimits = DEFAULT_LIMITS,
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
            extract_zip(Path(pred_zip), tmp, subset, limits)
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
        example_id -> prediction dict. A duplicated example id is an error (the official code
        silently keeps the last one).
    """
    path = submission.task_file(task)
    name = submission.name(path)
    data = _load_json(path, name)
    if not isinstance(data, list):
        raise SubmissionError(f"{name}: expected a JSON list of predictions")
    field = TASK_OUTPUT_FIELD[task]
    normals = submission.normals_dir.resolve()
    predictions: dict[str, dict[str, Any]] = {}
    entry_of: dict[str, int] = {}
    for i, pred in enumerate(data):
        if not isinstance(pred, dict):
            raise SubmissionError(f"{name}: entry {i}: a prediction must be an object")
        example_id = pred.get("example_id")
        if not isinstance(example_id, str):
            raise SubmissionError(f"{name}: entry {i}: example_id must be a str")
        if example_id in entry_of:
            # The official code keeps the last one silently; two answers for one sample are a bug.
            raise SubmissionError(f"{name}: {example_id}: duplicated example id (entries "
                                  f"{entry_of[example_id]} and {i})")
        entry_of[example_id] = i
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
