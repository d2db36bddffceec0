"""Shape checks for the task fields of GRIT ground truth and predictions (GRIT_SPEC.md 1.2-1.3).

Each check returns a problem description (str) or None, so readers can add the file name and
example id to it. They check structure only (types, lengths, finiteness); the metrics decide
what a well-formed but odd value scores.
"""
from __future__ import annotations

import math
from typing import Any

# Flat keypoint list: 17 COCO keypoints as [x, y, v] each.
KEYPOINT_VALUES = 51
BOX_VALUES = 4


def is_number(value: Any) -> bool:
    """True for a finite int or float (bool excluded, although Python treats it as an int)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def number_list_problem(value: Any, length: int, what: str) -> str | None:
    """Problem with a list that must hold exactly ``length`` finite numbers, or None."""
    if not isinstance(value, list):
        return f"{what} must be a list of {length} numbers, got {type(value).__name__}"
    if len(value) != length:
        return f"{what} must have {length} numbers, got {len(value)}"
    for item in value:
        if not is_number(item):
            return f"{what} must hold finite numbers, got {item!r}"
    return None


def instances_problem(value: Any, length: int, what: str) -> str | None:
    """Problem with a list of instances, each a list of ``length`` numbers, or None."""
    if not isinstance(value, list):
        return f"{what} must be a list of lists, got {type(value).__name__}"
    for i, item in enumerate(value):
        problem = number_list_problem(item, length, f"{what}[{i}]")
        if problem:
            return problem
    return None


def rle_problem(value: Any, what: str) -> str | None:
    """Problem with one compressed COCO RLE dict ``{"size": [H, W], "counts": str}``, or None."""
    if not isinstance(value, dict):
        return f"{what} must be an RLE dict {{size, counts}}, got {type(value).__name__}"
    if "size" not in value:
        # submission_format.md documents "shape"; the official decoder needs "size" and
        # crashes with KeyError (GRIT_SPEC.md 6.7), so we say so instead.
        hint = " (found 'shape': the key must be 'size')" if "shape" in value else ""
        return f"{what} has no 'size' key{hint}"
    size = value["size"]
    if not (isinstance(size, list) and len(size) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in size
    )):
        return f"{what}['size'] must be [height, width] as two non-negative ints, got {size!r}"
    counts = value.get("counts")
    if isinstance(counts, list):
        # The official decoder only takes compressed RLE (utils/rle.encode).
        return f"{what}['counts'] is an uncompressed RLE list; use compressed RLE (a str)"
    if not isinstance(counts, str):
        return f"{what}['counts'] must be a str (compressed RLE), got {type(counts).__name__}"
    return None


def masks_problem(value: Any, what: str = "masks") -> str | None:
    """Problem with a list of RLE dicts, or None."""
    if isinstance(value, dict):
        # The official decoder would read a bare dict as one HxW array and score its rows
        # as separate 1-D masks: garbage, so it is an error here.
        return f"{what} must be a list of RLE dicts, got a single dict"
    if not isinstance(value, list):
        return f"{what} must be a list of RLE dicts, got {type(value).__name__}"
    for i, item in enumerate(value):
        problem = rle_problem(item, f"{what}[{i}]")
        if problem:
            return problem
    return None


def prediction_field_problem(field: str, value: Any) -> str | None:
    """Problem with a prediction's task field (``words``/``bboxes``/``masks``/``points``/``normal``;
    ``depth``, the PNG name of a per-dataset depth prediction)."""
    if field in ("words", "normal", "depth"):
        if not isinstance(value, str):
            return f"'{field}' must be a str, got {type(value).__name__}"
        return None
    if field == "bboxes":
        return instances_problem(value, BOX_VALUES, "bboxes")
    if field == "points":
        return instances_problem(value, KEYPOINT_VALUES, "points")
    if field == "masks":
        return masks_problem(value)
    raise ValueError(f"unknown prediction field {field!r}")


def target_field_problem(field: str, value: Any) -> str | None:
    """Problem with a ground-truth ``output`` field, or None (``words`` is a list of str here)."""
    if field == "words":
        if not (isinstance(value, list) and all(isinstance(w, str) for w in value)):
            return "output 'words' must be a list of str"
        return None
    if field == "out_image_name":
        return None if isinstance(value, str) else "output 'out_image_name' must be a str"
    return prediction_field_problem(field, value)
