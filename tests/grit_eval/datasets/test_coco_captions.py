"""COCO / nocaps caption files and Karpathy's dataset_coco.json, written here."""
from __future__ import annotations

import json

import pytest

from grit_eval.datasets.coco_captions import read_coco_captions, read_karpathy_captions
from grit_eval.errors import DataError


def _coco():
    return {"images": [{"id": 5, "file_name": "COCO_val2014_5.jpg"},
                       {"id": 6, "file_name": "COCO_val2014_6.jpg"}],
            "annotations": [{"image_id": 6, "id": 1, "caption": "A dog."},
                            {"image_id": 5, "id": 2, "caption": "A cat."},
                            {"image_id": 6, "id": 3, "caption": "Two dogs."}]}


def _write(tmp_path, data, name="captions_val2014.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_coco_groups_captions_by_image(tmp_path):
    samples = read_coco_captions(_write(tmp_path, _coco()), "/coco/val2014")
    assert [s.example_id for s in samples] == ["5", "6"]
    assert samples[1].target == {"captions": ["A dog.", "Two dogs."], "image_id": 6}
    assert samples[0].task == "captioning" and samples[0].task_query is None
    assert samples[0].image_path == "/coco/val2014/COCO_val2014_5.jpg"


def test_hidden_test_split_has_no_target(tmp_path):
    data = _coco()
    del data["annotations"]
    assert all(s.target is None for s in read_coco_captions(_write(tmp_path, data), "/i"))


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda d: d["annotations"][0].update(image_id=77), "annotation #0: image_id 77"),
        (lambda d: d["annotations"][1].pop("caption"),
         r"annotation #1: missing key\(s\) 'caption'"),
        (lambda d: d["annotations"].pop(1), "image 5: has no caption"),
        (lambda d: d["images"][0].pop("id"), r"image #0: missing key\(s\) 'id'"),
        (lambda d: d.update(images={}), "'images' must be a JSON list"),
    ],
)
def test_coco_malformed(tmp_path, mutate, match):
    data = _coco()
    mutate(data)
    with pytest.raises(DataError, match=match):
        read_coco_captions(_write(tmp_path, data), "/i")


def _karpathy():
    def img(cocoid, split, n):
        return {"filepath": "val2014", "filename": f"COCO_val2014_{cocoid}.jpg", "imgid": cocoid,
                "split": split, "cocoid": cocoid,
                "sentences": [{"raw": f"caption {k}.", "tokens": ["caption", str(k)]}
                              for k in range(n)]}
    return {"dataset": "coco", "images": [img(1, "test", 5), img(2, "val", 5), img(3, "test", 4)]}


def test_karpathy_split(tmp_path):
    path = _write(tmp_path, _karpathy(), "dataset_coco.json")
    samples = read_karpathy_captions(path, "/coco", "test")
    assert [s.example_id for s in samples] == ["1", "3"]
    assert samples[0].image_path == "/coco/val2014/COCO_val2014_1.jpg"
    assert samples[1].target["captions"] == [f"caption {k}." for k in range(4)]


def test_karpathy_flickr_uses_imgid_and_no_filepath(tmp_path):
    data = {"images": [{"filename": "x.jpg", "imgid": 9, "split": "val",
                        "sentences": [{"raw": "a"}]}]}
    s = read_karpathy_captions(_write(tmp_path, data, "dataset_flickr8k.json"), "/f", "val")[0]
    assert s.example_id == "9" and s.image_path == "/f/x.jpg"


@pytest.mark.parametrize(
    "mutate, split, match",
    [
        (lambda d: d["images"][0].update(sentences=[]), "test", "image 1: has no sentences"),
        (lambda d: d["images"][0]["sentences"][0].pop("raw"), "test", r"image 1: missing key"),
        (lambda d: d["images"][0].pop("split"), "test", r"image #0: missing key\(s\) 'split'"),
        (lambda d: None, "dev", "unknown Karpathy split 'dev'"),
    ],
)
def test_karpathy_malformed(tmp_path, mutate, split, match):
    data = _karpathy()
    mutate(data)
    with pytest.raises(DataError, match=match):
        read_karpathy_captions(_write(tmp_path, data, "dataset_coco.json"), "/c", split)
