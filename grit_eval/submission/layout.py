"""Write the official submission layout from predictions.

``<out>/<subset>/params.json``, ``<out>/<subset>/<task>.json`` (a list of
``{example_id, confidence, <field>}`` in the split's sample order) and
``<out>/<subset>/normals/*.png``. A prediction whose adapter failed is written as the task's
empty answer with confidence 0 (normals: an all-zero map of the image's size), so the
leaderboard still accepts the submission; the failure stays in the run's records.
"""
from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from grit_eval.run.atomic import write_bytes_atomic, write_json_atomic
from grit_eval.types import GRIT_TASKS, TASK_OUTPUT_FIELD, Prediction, Sample

_EMPTY = {"words": "", "bboxes": [], "masks": [], "points": []}

# Fixed zip entry time, so the same predictions give a byte-identical zip.
_ZIP_TIME = (2022, 1, 1, 0, 0, 0)


def submission_entry(sample: Sample, prediction: Prediction, normals_src: Path,
                     normals_dst: Path) -> dict:
    """The JSON entry of one sample, copying its normal PNG into the submission."""
    field = TASK_OUTPUT_FIELD[sample.task]
    value = prediction.output.get(field) if prediction.error is None else None
    confidence = float(prediction.confidence) if prediction.error is None else 0.0
    if field == "normal":
        name = f"{sample.example_id}.png"
        source = normals_src / value if value else None
        if source is not None and source.exists():
            shutil.copyfile(source, normals_dst / name)
        else:
            from PIL import Image

            from grit_eval.formats import png_bytes

            with Image.open(sample.image_path) as image:
                width, height = image.size
            write_bytes_atomic(normals_dst / name, png_bytes(np.zeros((height, width, 3), np.uint8)))
            confidence = 0.0
        value = name
    elif value is None:
        value = _EMPTY[field]
    return {"example_id": sample.example_id, "confidence": confidence, field: value}


def write_submission(out_dir: Path, subset: str, samples: Sequence[Sample],
                     predictions: Mapping[str, Mapping[str, Prediction]], normals_src: Path,
                     params_in_millions: int) -> Path:
    """Write the official layout under ``out_dir/subset`` for every task with predictions."""
    folder = Path(out_dir) / subset
    normals_dst = folder / "normals"
    normals_dst.mkdir(parents=True, exist_ok=True)
    write_json_atomic(folder / "params.json", {"params_in_millions": int(params_in_millions)})
    for task, by_id in predictions.items():
        entries = [submission_entry(s, by_id[s.example_id], normals_src, normals_dst)
                   for s in samples if s.task == task and s.example_id in by_id]
        write_json_atomic(folder / f"{task}.json", entries, indent=None)
    return folder


def layout_files(folder: Path) -> list[Path]:
    """The files of the official layout in ``folder``: params.json, each ``<task>.json`` and
    the normal maps ``normal.json`` names; anything else there (a stray temp file) is not."""
    folder = Path(folder)
    files = [folder / "params.json"] + [folder / f"{t}.json" for t in GRIT_TASKS
                                        if (folder / f"{t}.json").is_file()]
    if (folder / "normal.json").is_file():
        entries = json.loads((folder / "normal.json").read_text())
        files += [folder / "normals" / e["normal"] for e in entries]
    return files


def zip_folder(folder: Path, zip_path: Path) -> Path:
    """Zip the layout files of ``folder`` (kept as the single top-level folder)
    deterministically and atomically."""
    folder = Path(folder)
    buffer = io.BytesIO()
    files: Iterable[Path] = sorted(layout_files(folder))
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(f"{folder.name}/{path.relative_to(folder).as_posix()}", _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    write_bytes_atomic(zip_path, buffer.getvalue())
    return zip_path
