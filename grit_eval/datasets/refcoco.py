"""RefCOCO / RefCOCO+ / RefCOCOg in the layout of the ``refer`` toolkit (lichengunc/refer).

Files, in one dataset folder (e.g. ``refer/data/refcocog``)::

    refs(<split_by>).p   a Python pickle: a list of refs, each
                         {ref_id, ann_id, image_id, split, category_id,
                          sentences: [{sent_id, sent, raw, tokens}, ...]}
                         split_by: "unc" (RefCOCO, RefCOCO+), "umd" or "google" (RefCOCOg)
    instances.json       COCO-style {images: [{id, file_name}], annotations: [{id, bbox}]}

One ``Sample`` per (ref, sentence), as every RefCOCO evaluation counts them: task ``refexp``,
``task_query`` = the sentence's ``sent`` (the toolkit's cleaned, lower-case form),
``example_id`` = ``"<ref_id>_<sent_id>"``.

``target`` keys: ``bboxes`` ([[x1, y1, x2, y2]] pixels, the referred object's COCO box
converted from xywh; GRIT's field name), ``ref_id``, ``ann_id``, ``sent_id``, ``image_id``,
``category_id``, ``raw`` (the sentence as annotators typed it).

The pickle is untrusted input: it is read with :class:`RestrictedUnpickler`, which resolves
no global at all, so nothing can be called while loading; the result is then checked to hold
only dict, list, tuple, str, int, float, bool and None. A pickle that names any callable
(``os.system``, ``builtins.eval``, a class) fails with a ``DataError`` before anything runs.
"""
from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

from grit_eval.datasets.json_files import load_json, record_error, require_keys, require_list
from grit_eval.errors import DataError
from grit_eval.types import Sample

_REF_KEYS = ("ref_id", "ann_id", "image_id", "split", "sentences")
_PLAIN_SCALARS = (str, int, float, bool, type(None))


class RefusedPickle(pickle.UnpicklingError):
    """The pickle asked for something a refs file never holds (a global or persistent id)."""


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that refuses every global lookup (and persistent ids).

    Plain containers and scalars are pickled as opcodes that need no lookup; everything
    that could execute code (REDUCE, BUILD, INST, OBJ, NEWOBJ, extension codes) first needs a
    callable from ``find_class``, which always raises here.
    """

    def find_class(self, module: str, name: str) -> Any:
        raise RefusedPickle(
            f"refers to {module}.{name}; only plain dicts, lists, tuples, strings and numbers "
            "are allowed in a refs pickle"
        )

    def persistent_load(self, pid: Any) -> Any:
        raise RefusedPickle("uses persistent ids, which a refs pickle never needs")


def load_refs_pickle(path: str | Path) -> Any:
    """Loads a ``refs(<split_by>).p`` file safely (see :class:`RestrictedUnpickler`).

    Python 2 byte strings are decoded as UTF-8 (the toolkit wrote them from UTF-8 text).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    try:
        refs = RestrictedUnpickler(io.BytesIO(data), encoding="utf-8", errors="replace").load()
    except RefusedPickle as err:
        raise DataError(f"{path}: refused to load this pickle: it {err}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError,
            AttributeError) as err:
        problem = f"{type(err).__name__}: {err}"
        raise DataError(f"{path}: not a readable refs pickle ({problem})") from None
    _check_plain(refs, path)
    return refs


def _check_plain(obj: Any, path: Path) -> None:
    """Only dict, list, tuple, str, int, float, bool and None may appear (bytes, sets and
    bytearrays need no global either, but a refs file never holds them)."""
    stack = [obj]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            stack.extend(item.keys())
            stack.extend(item.values())
        elif kind in (list, tuple):
            stack.extend(item)
        elif kind not in _PLAIN_SCALARS:
            raise DataError(f"{path}: refused to load this pickle: it holds a {kind.__name__}; "
                            "only dicts, lists, tuples, strings and numbers are allowed")


def read_refcoco(
    dataset_dir: str | Path,
    image_dir: str | Path,
    split: str,
    *,
    split_by: str = "unc",
) -> list[Sample]:
    """Reads one split of a RefCOCO-family dataset.

    Args:
        dataset_dir: folder holding ``refs(<split_by>).p`` and ``instances.json``.
        image_dir: folder of the COCO train2014 images (``file_name`` of instances.json).
        split: the refs' ``split`` value: "val", "test", "testA", "testB", "train".
        split_by: "unc", "umd" or "google".

    Returns:
        One sample per sentence of every ref in ``split``, in pickle order.
    """
    dataset_dir = Path(dataset_dir)
    refs_path = dataset_dir / f"refs({split_by}).p"
    inst_path = dataset_dir / "instances.json"
    refs = load_refs_pickle(refs_path)
    if not isinstance(refs, list):
        raise DataError(f"{refs_path}: expected a list of refs, got {type(refs).__name__}")
    instances = load_json(inst_path)
    images = _index(require_list(instances, "images", inst_path), inst_path, "image")
    anns = _index(require_list(instances, "annotations", inst_path), inst_path, "annotation")

    samples: list[Sample] = []
    splits_seen: set[str] = set()
    for k, ref in enumerate(refs):
        require_keys(ref, _REF_KEYS, refs_path, f"ref #{k}")
        splits_seen.add(str(ref["split"]))
        if ref["split"] != split:
            continue
        ref_id = ref["ref_id"]
        ann = anns.get(ref["ann_id"])
        if ann is None:
            raise record_error(refs_path, f"ref {ref_id}",
                               f"ann_id {ref['ann_id']} is not in {inst_path.name}")
        image = images.get(ref["image_id"])
        if image is None:
            raise record_error(refs_path, f"ref {ref_id}",
                               f"image_id {ref['image_id']} is not in {inst_path.name}")
        require_keys(ann, ("bbox",), inst_path, f"annotation {ref['ann_id']}")
        require_keys(image, ("file_name",), inst_path, f"image {ref['image_id']}")
        box = _xywh_to_xyxy(ann["bbox"], inst_path, ref["ann_id"])
        if not isinstance(ref["sentences"], list) or not ref["sentences"]:
            raise record_error(refs_path, f"ref {ref_id}", "has no sentences")
        for sent in ref["sentences"]:
            require_keys(sent, ("sent_id", "sent"), refs_path, f"ref {ref_id}")
            samples.append(Sample(
                example_id=f"{ref_id}_{sent['sent_id']}",
                task="refexp",
                image_path=str(Path(image_dir) / image["file_name"]),
                task_query=str(sent["sent"]),
                target={
                    "bboxes": [box],
                    "ref_id": ref_id,
                    "ann_id": ref["ann_id"],
                    "sent_id": sent["sent_id"],
                    "image_id": ref["image_id"],
                    "category_id": ref.get("category_id", ann.get("category_id")),
                    "raw": str(sent.get("raw", sent["sent"])),
                },
            ))
    if split not in splits_seen:
        raise DataError(f"{refs_path}: no ref has split {split!r}; splits: {sorted(splits_seen)}")
    return samples


def _index(records: list, path: Path, what: str) -> dict[Any, dict]:
    out = {}
    for k, rec in enumerate(records):
        require_keys(rec, ("id",), path, f"{what} #{k}")
        out[rec["id"]] = rec
    return out


def _xywh_to_xyxy(bbox: Any, path: Path, ann_id: Any) -> list[float]:
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4 or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in bbox
    ):
        raise record_error(
            path, f"annotation {ann_id}", f"bbox must be 4 numbers [x, y, w, h], got {bbox!r}"
        )
    x, y, w, h = (float(v) for v in bbox)
    return [x, y, x + w, y + h]
