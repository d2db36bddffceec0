"""Classification readers: folder trees, CSV / whitespace label lists and class-list formats."""
from __future__ import annotations

import pytest

from grit_eval.datasets.image_classification import (
    load_class_names,
    read_image_csv,
    read_image_folder,
)
from grit_eval.errors import DataError


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


def test_imagenet_synset_mapping(tmp_path):
    f = tmp_path / "LOC_synset_mapping.txt"
    f.write_text("n01440764 tench, Tinca tinca\nn01443537 goldfish, Carassius auratus\n")
    assert load_class_names(f) == {"n01440764": "tench", "n01443537": "goldfish"}


def test_places_categories_ordered_by_index(tmp_path):
    f = tmp_path / "categories_places365.txt"
    f.write_text("/b/bakery/shop 1\n/a/airfield 0\n/c/car_interior 2\n")
    assert list(load_class_names(f).items()) == [
        ("/a/airfield", "airfield"), ("/b/bakery/shop", "bakery shop"),
        ("/c/car_interior", "car interior")]


@pytest.mark.parametrize(
    "text, match",
    [("", "empty"), ("/a/x 0\n/b/y 0\n", "indices must be 0..1"),
     ("n01440764 tench\nplain\n", "line 2: 'plain' does not match"),
     ("cat\ncat\n", "listed twice")],
)
def test_bad_class_lists(tmp_path, text, match):
    f = tmp_path / "classes.txt"
    f.write_text(text)
    with pytest.raises(DataError, match=match):
        load_class_names(f)


def test_folder_tree_with_class_list(tmp_path):
    for rel in ("n01443537/b.JPEG", "n01440764/a.jpg", "n01440764/c.png", "n01440764/notes.txt"):
        _touch(tmp_path / "val" / rel)
    classes = tmp_path / "map.txt"
    classes.write_text("n01440764 tench, Tinca tinca\nn01443537 goldfish\nn09999999 other\n")
    samples = read_image_folder(tmp_path / "val", classes)
    assert [s.example_id for s in samples] == ["n01440764/a.jpg", "n01440764/c.png",
                                               "n01443537/b.JPEG"]
    s = samples[2]
    assert s.task == "classification" and s.output_options == ("tench", "goldfish", "other")
    assert s.target == {"label": "goldfish", "label_index": 1, "class_key": "n01443537"}


def test_folder_tree_without_class_list(tmp_path):
    _touch(tmp_path / "golden_retriever" / "1.jpg")
    _touch(tmp_path / "cat" / "2.jpg")
    samples = read_image_folder(tmp_path)
    assert samples[0].output_options == ("cat", "golden retriever")
    assert samples[1].target["label"] == "golden retriever"


def test_folder_not_in_class_list_and_empty_tree(tmp_path):
    _touch(tmp_path / "tree" / "zebra" / "1.jpg")
    classes = tmp_path / "c.txt"
    classes.write_text("cat\n")
    with pytest.raises(DataError, match="folder 'zebra' is not in the class list"):
        read_image_folder(tmp_path / "tree", classes)
    (tmp_path / "empty" / "cat").mkdir(parents=True)
    with pytest.raises(DataError, match="no images"):
        read_image_folder(tmp_path / "empty")


def test_places_val_whitespace_list_with_indices(tmp_path):
    classes = tmp_path / "categories_places365.txt"
    classes.write_text("/a/airfield 0\n/b/bakery/shop 1\n")
    labels = tmp_path / "places365_val.txt"
    labels.write_text("Places365_val_00000001.jpg 1\nPlaces365_val_00000002.jpg 0\n")
    samples = read_image_csv(labels, "/places/val", classes)
    assert samples[0].image_path == "/places/val/Places365_val_00000001.jpg"
    assert samples[0].target["label"] == "bakery shop" and samples[1].target["label_index"] == 0


def test_csv_with_header_names_and_keys(tmp_path):
    classes = tmp_path / "map.txt"
    classes.write_text("n01440764 tench\nn01443537 goldfish\n")
    labels = tmp_path / "val.csv"
    labels.write_text('image,label\na.jpg,goldfish\n"b, c.jpg",n01440764\n')
    a, b = read_image_csv(labels, "/img", classes)
    assert a.target["class_key"] == "n01443537" and b.example_id == "b, c.jpg"
    assert b.target["label"] == "tench"


@pytest.mark.parametrize(
    "text, match",
    [("a.jpg,9\n", "line 1: a.jpg: class index 9 >= 2 classes"),
     ("a.jpg,zebra\n", "label 'zebra' is not in the class list"),
     ("a.jpg,0\na.jpg,1\n", "line 2: a.jpg: listed twice"),
     ("a.jpg\n", "line 1: expected 'image,label'"),
     ("image,label\n", "header but no rows"), ("", "empty")],
)
def test_bad_label_lists(tmp_path, text, match):
    classes = tmp_path / "c.txt"
    classes.write_text("cat\ndog\n")
    labels = tmp_path / "l.csv"
    labels.write_text(text)
    with pytest.raises(DataError, match=match):
        read_image_csv(labels, "/img", classes)


def test_numeric_labels_need_class_list(tmp_path):
    labels = tmp_path / "l.csv"
    labels.write_text("a.jpg,3\n")
    with pytest.raises(DataError, match="need a class list"):
        read_image_csv(labels, "/img")
