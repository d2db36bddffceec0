"""NYUv2 depth and surface normals from a folder of aligned PNGs and a split list.

Layout (what the common NYUv2 exports, e.g. the 654-image Eigen test split, give once
written as files)::

    <root>/<split>.txt       one id per line ("0001"); blank lines and "#" comments skipped
    <root>/rgb/<id>.{png,jpg,jpeg}
    <root>/depth/<id>.png    16-bit grayscale, millimetres, 0 = no reading
    <root>/normal/<id>.png   8-bit RGB, n = rgb / 255 * 2 - 1, (0, 0, 0) = no ground truth

One ``Sample`` per id, task ``depth`` or ``normal``, ``example_id`` = the id.
``target`` keys: depth: ``depth_path``, ``depth_scale`` (metres per PNG unit, 1e-3 for mm),
``image_id``; normal: ``normal_path``, ``image_id``. The maps themselves are read at scoring
time with :func:`load_depth_png` / :func:`load_normal_png` (keeping 654 maps in memory for the
whole run would cost 600 MB).

The reader checks every file's existence and PNG header (mode and size, no pixel decoding).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from grit_eval.errors import DataError
from grit_eval.types import Sample

_RGB_SUFFIXES = (".png", ".jpg", ".jpeg")
_DEPTH_MODES = ("I;16", "I;16B", "I;16L", "I")
_TASKS = ("depth", "normal")


def read_nyuv2(
    root: str | Path,
    split: str = "test",
    task: str = "depth",
    *,
    rgb_dir: str = "rgb",
    depth_dir: str = "depth",
    normal_dir: str = "normal",
    depth_scale: float = 1e-3,
) -> list[Sample]:
    """Reads the ids of ``<root>/<split>.txt`` as depth or normal samples.

    Args:
        root: dataset folder.
        split: name of the split list file without ``.txt``.
        task: "depth" or "normal".
        rgb_dir, depth_dir, normal_dir: sub-folder names.
        depth_scale: metres per depth-PNG unit (1e-3: millimetres).
    """
    if task not in _TASKS:
        raise DataError(f"NYUv2 task must be one of {_TASKS}, not {task!r}")
    root = Path(root)
    split_file = root / f"{split}.txt"
    ids = _read_split_list(split_file)
    samples = []
    for image_id in ids:
        rgb = _find_rgb(root / rgb_dir, image_id, split_file)
        rgb_size = _png_header(rgb, image_id, ("RGB", "RGBA", "L", "P"), "an RGB image")
        if task == "depth":
            gt = root / depth_dir / f"{image_id}.png"
            size = _png_header(gt, image_id, _DEPTH_MODES, "a 16-bit grayscale depth PNG")
            target = {"depth_path": str(gt), "depth_scale": depth_scale, "image_id": image_id}
        else:
            gt = root / normal_dir / f"{image_id}.png"
            size = _png_header(gt, image_id, ("RGB", "RGBA"), "an 8-bit RGB normal PNG")
            target = {"normal_path": str(gt), "image_id": image_id}
        if size != rgb_size:
            raise DataError(f"{gt}: {image_id}: size {size} differs from the RGB image's "
                            f"{rgb_size} ({rgb.name}); the maps must be aligned")
        samples.append(Sample(example_id=image_id, task=task, image_path=str(rgb), target=target))
    return samples


def load_depth_png(path: str | Path, depth_scale: float = 1e-3) -> np.ndarray:
    """[H, W] float32 depth in metres from a 16-bit PNG (0 stays 0: no reading)."""
    with Image.open(path) as im:
        raw = np.asarray(im)
    return raw.astype(np.float32) * np.float32(depth_scale)


def load_normal_png(path: str | Path) -> np.ndarray:
    """[H, W, 3] uint8 RGB of a normal PNG; decode with ``metrics.normal_angular``."""
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _read_split_list(path: Path) -> list[str]:
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        raise DataError(f"{path}: split list not found") from None
    ids = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not ids:
        raise DataError(f"{path}: the split list has no ids")
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise DataError(f"{path}: {i}: listed twice")
        if "/" in i or "\\" in i or i.startswith("."):
            raise DataError(f"{path}: {i}: an id must be a plain file stem")
        seen.add(i)
    return ids


def _find_rgb(folder: Path, image_id: str, split_file: Path) -> Path:
    for suffix in _RGB_SUFFIXES:
        candidate = folder / f"{image_id}{suffix}"
        if candidate.is_file():
            return candidate
    raise DataError(f"{split_file}: {image_id}: no RGB image {folder}/{image_id}"
                    f"{{{','.join(_RGB_SUFFIXES)}}}")


def _png_header(path: Path, image_id: str, modes: tuple[str, ...], what: str) -> tuple[int, int]:
    try:
        with Image.open(path) as im:
            mode, size = im.mode, im.size
    except FileNotFoundError:
        raise DataError(f"{path}: {image_id}: file not found") from None
    except (UnidentifiedImageError, OSError) as err:
        raise DataError(f"{path}: {image_id}: not a readable image ({err})") from None
    if mode not in modes:
        raise DataError(f"{path}: {image_id}: expected {what}, got PIL mode {mode!r}")
    return size
