"""ImageNet / Places365-style classification: a folder-per-class tree or an image/label list.

The class-name list is the answer vocabulary: every sample's ``output_options`` is the full
tuple of class display names (1000 for ImageNet, 365 for Places365), in class-index order.
One ``Sample`` per image, task ``classification``.

``target`` keys: ``label`` (display name), ``label_index`` (position in the class list),
``class_key`` (the folder name / wnid / Places category path the label came from).

Class-list files (:func:`load_class_names`), one class per line, in index order:

* ImageNet ``LOC_synset_mapping.txt``: ``n01440764 tench, Tinca tinca`` -> key ``n01440764``,
  name ``tench`` (the first synonym);
* Places365 ``categories_places365.txt``: ``/a/airfield 0`` -> key ``/a/airfield``, name
  ``airfield`` (``/b/bakery/shop`` -> ``bakery shop``); ordered by the index column;
* anything else: the line is both key and name.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

from grit_eval.errors import DataError
from grit_eval.types import Sample

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
_WNID_LINE = re.compile(r"^(n\d{8})\s+(.+)$")
_INDEXED_LINE = re.compile(r"^(\S+)\s+(\d+)$")
_HEADER_LABELS = ("label", "class", "category")


def load_class_names(path: str | Path) -> dict[str, str]:
    """Class key -> display name, in class-index order (see the module doc for formats)."""
    path = Path(path)
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except FileNotFoundError:
        raise DataError(f"{path}: class list not found") from None
    if not lines:
        raise DataError(f"{path}: the class list is empty")
    if _WNID_LINE.match(lines[0]):
        pairs = [_parse(_WNID_LINE, ln, path, k) for k, ln in enumerate(lines)]
        names = {key: rest.split(",")[0].strip() for key, rest in pairs}
    elif _INDEXED_LINE.match(lines[0]):
        pairs = [_parse(_INDEXED_LINE, ln, path, k) for k, ln in enumerate(lines)]
        indices = sorted(int(i) for _, i in pairs)
        if indices != list(range(len(pairs))):
            raise DataError(f"{path}: class indices must be 0..{len(pairs) - 1}, each once")
        names = {key: _places_name(key) for key, _ in sorted(pairs, key=lambda p: int(p[1]))}
    else:
        names = {ln: ln for ln in lines}
    if len(names) != len(lines):
        raise DataError(f"{path}: a class is listed twice")
    return names


def read_image_folder(root: str | Path, class_names_file: str | Path | None = None) -> list[Sample]:
    """Reads ``<root>/<class key>/<image>`` (ImageNet val sorted into wnid folders, etc.).

    Args:
        root: the tree's root; each sub-folder is one class.
        class_names_file: the class list; without it, classes are the sorted folder names with
            ``_`` read as a space.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: image folder not found")
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    if not folders:
        raise DataError(f"{root}: no class sub-folders")
    if class_names_file is None:
        names = {f.name: f.name.replace("_", " ") for f in folders}
    else:
        names = load_class_names(class_names_file)
    index = {key: k for k, key in enumerate(names)}
    options = tuple(names.values())
    samples = []
    for folder in folders:
        if folder.name not in index:
            raise DataError(f"{folder}: folder {folder.name!r} is not in the class list")
        for image in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            samples.append(_sample(f"{folder.name}/{image.name}", image, folder.name, names,
                                   index, options))
    if not samples:
        raise DataError(f"{root}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in the tree")
    return samples


def read_image_csv(
    labels_file: str | Path, image_dir: str | Path, class_names_file: str | Path | None = None
) -> list[Sample]:
    """Reads an image/label list (``image,label`` CSV or ``image label`` whitespace lines).

    Args:
        labels_file: one image per row; a first row whose label column is "label", "class"
            or "category" is a header. Labels are class indices (needs the class list), class
            keys or display names. Places365's ``places365_val.txt`` is this format.
        image_dir: folder the image names are relative to.
        class_names_file: the class list; without it, the sorted distinct labels are the classes.
    """
    path = Path(labels_file)
    rows = _read_rows(path)
    if class_names_file is None:
        if any(label.isdigit() for _, label, _ in rows):
            raise DataError(f"{path}: numeric labels need a class list (class_names_file)")
        names = {label: label for label in sorted({label for _, label, _ in rows})}
    else:
        names = load_class_names(class_names_file)
    index = {key: k for k, key in enumerate(names)}
    by_name = {name: key for key, name in names.items()}
    keys = list(names)
    options = tuple(names.values())
    samples, seen = [], set()
    for image, label, line_no in rows:
        where = f"line {line_no}: {image}"
        if image in seen:
            raise DataError(f"{path}: {where}: listed twice")
        seen.add(image)
        if label.isdigit():
            if int(label) >= len(keys):
                raise DataError(f"{path}: {where}: class index {label} >= {len(keys)} classes")
            key = keys[int(label)]
        elif label in index:
            key = label
        elif label in by_name:
            key = by_name[label]
        else:
            raise DataError(f"{path}: {where}: label {label!r} is not in the class list")
        samples.append(_sample(image, Path(image_dir) / image, key, names, index, options))
    return samples


def _sample(example_id, image, key, names, index, options) -> Sample:
    return Sample(
        example_id=example_id,
        task="classification",
        image_path=str(image),
        output_options=options,
        target={"label": names[key], "label_index": index[key], "class_key": key},
    )


def _read_rows(path: Path) -> list[tuple[str, str, int]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: label list not found") from None
    lines = [(k + 1, ln) for k, ln in enumerate(text.splitlines()) if ln.strip()]
    if not lines:
        raise DataError(f"{path}: the label list is empty")
    comma = "," in lines[0][1]
    rows = []
    for line_no, line in lines:
        fields = next(csv.reader([line])) if comma else line.split()
        fields = [f.strip() for f in fields]
        if len(fields) != 2 or not all(fields):
            raise DataError(f"{path}: line {line_no}: expected 'image,label', got {line!r}")
        rows.append((fields[0], fields[1], line_no))
    if rows[0][1].lower() in _HEADER_LABELS:
        rows = rows[1:]
    if not rows:
        raise DataError(f"{path}: the label list has a header but no rows")
    return rows


def _parse(pattern: re.Pattern, line: str, path: Path, k: int) -> tuple[str, str]:
    m = pattern.match(line)
    if m is None:
        raise DataError(f"{path}: line {k + 1}: {line!r} does not match the first line's format")
    return m.group(1), m.group(2)


def _places_name(key: str) -> str:
    # "/a/airfield" -> "airfield"; "/b/bakery/shop" -> "bakery shop".
    parts = [p for p in key.split("/") if p]
    if len(parts) > 1 and len(parts[0]) == 1:
        parts = parts[1:]
    return " ".join(parts).replace("_", " ")
