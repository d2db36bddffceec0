"""Image captions: COCO / nocaps ``captions_<split>.json`` and Karpathy's ``dataset_coco.json``.

Both give one ``Sample`` per image, task ``captioning``, no ``task_query``; ``example_id`` is
the image id as a string (COCO/nocaps ``images[].id``; Karpathy ``cocoid``, or ``imgid`` for
its Flickr files, which have no cocoid).

``target`` keys: ``captions`` (the reference captions, raw text, file order; CIDEr tokenizes
them itself), ``image_id``. ``target`` is None for a file without ``annotations`` (a hidden
test split such as nocaps test), so the split can still be predicted.
"""
from __future__ import annotations

from pathlib import Path

from grit_eval.datasets.json_files import load_json, record_error, require_keys, require_list
from grit_eval.errors import DataError
from grit_eval.types import Sample

KARPATHY_SPLITS = ("train", "restval", "val", "test")


def read_coco_captions(annotation_file: str | Path, image_dir: str | Path) -> list[Sample]:
    """Reads a COCO-format caption file (COCO ``captions_val2014.json``, nocaps val/test).

    Args:
        annotation_file: ``{images: [{id, file_name}], annotations: [{image_id, caption}]}``.
        image_dir: folder the ``file_name`` values are relative to.

    Returns:
        One sample per image in file order; with annotations present, an image without any
        caption is an error (it could never be scored).
    """
    path = Path(annotation_file)
    data = load_json(path)
    images = require_list(data, "images", path)
    has_gt = isinstance(data, dict) and "annotations" in data
    captions: dict = {}
    for k, img in enumerate(images):
        require_keys(img, ("id", "file_name"), path, f"image #{k}")
        captions[img["id"]] = []
    if has_gt:
        for k, ann in enumerate(require_list(data, "annotations", path)):
            require_keys(ann, ("image_id", "caption"), path, f"annotation #{k}")
            if ann["image_id"] not in captions:
                raise record_error(path, f"annotation #{k}",
                                   f"image_id {ann['image_id']} is not in 'images'")
            if not isinstance(ann["caption"], str):
                raise record_error(path, f"annotation #{k}", "caption is not a string")
            captions[ann["image_id"]].append(ann["caption"])
    samples = []
    for img in images:
        if has_gt and not captions[img["id"]]:
            raise record_error(path, f"image {img['id']}", "has no caption in 'annotations'")
        target = {"captions": captions[img["id"]], "image_id": img["id"]} if has_gt else None
        samples.append(Sample(
            example_id=str(img["id"]),
            task="captioning",
            image_path=str(Path(image_dir) / img["file_name"]),
            target=target,
        ))
    return samples


def read_karpathy_captions(
    dataset_file: str | Path, image_root: str | Path, split: str
) -> list[Sample]:
    """Reads one split of Karpathy's ``dataset_coco.json`` (also dataset_flickr8k/30k).

    Args:
        dataset_file: ``{images: [{filepath?, filename, split, cocoid?, imgid,
            sentences: [{raw, tokens}]}]}``.
        image_root: folder holding ``<filepath>/<filename>`` (COCO: train2014/, val2014/).
        split: "test", "val", "train" or "restval".
    """
    if split not in KARPATHY_SPLITS:
        raise DataError(
            f"{dataset_file}: unknown Karpathy split {split!r}; one of {KARPATHY_SPLITS}"
        )
    path = Path(dataset_file)
    samples = []
    for k, img in enumerate(require_list(load_json(path), "images", path)):
        require_keys(img, ("filename", "split", "sentences"), path, f"image #{k}")
        if img["split"] != split:
            continue
        image_id = img.get("cocoid", img.get("imgid"))
        if image_id is None:
            raise record_error(path, f"image #{k}", "has neither 'cocoid' nor 'imgid'")
        sentences = img["sentences"]
        if not isinstance(sentences, list) or not sentences:
            raise record_error(path, f"image {image_id}", "has no sentences")
        for sent in sentences:
            require_keys(sent, ("raw",), path, f"image {image_id}")
        samples.append(Sample(
            example_id=str(image_id),
            task="captioning",
            image_path=str(Path(image_root) / img.get("filepath", "") / img["filename"]),
            target={"captions": [s["raw"] for s in sentences], "image_id": image_id},
        ))
    return samples
