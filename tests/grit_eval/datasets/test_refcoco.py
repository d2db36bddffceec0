"""RefCOCO reader on small refs pickles + instances.json written here, hostile pickles too."""
from __future__ import annotations

import json
import os
import pickle

import pytest

from grit_eval.datasets.refcoco import load_refs_pickle, read_refcoco
from grit_eval.errors import DataError


def _refs():
    return [
        {"ref_id": 7, "ann_id": 100, "image_id": 1, "split": "val", "category_id": 1,
         "sentences": [{"sent_id": 70, "sent": "man on left", "raw": "Man on LEFT"},
                       {"sent_id": 71, "sent": "guy in red", "raw": "guy in red"}]},
        {"ref_id": 8, "ann_id": 101, "image_id": 2, "split": "testA", "category_id": 1,
         "sentences": [{"sent_id": 80, "sent": "woman", "raw": "woman"}]},
    ]


def _instances():
    return {"images": [{"id": 1, "file_name": "COCO_train2014_000000000001.jpg"},
                       {"id": 2, "file_name": "COCO_train2014_000000000002.jpg"}],
            "annotations": [{"id": 100, "image_id": 1, "bbox": [10, 20, 30, 40], "category_id": 1},
                            {"id": 101, "image_id": 2, "bbox": [0, 0, 5.5, 5], "category_id": 1}]}


def _write(tmp_path, refs, instances=None, protocol=2, split_by="unc"):
    (tmp_path / f"refs({split_by}).p").write_bytes(pickle.dumps(refs, protocol=protocol))
    (tmp_path / "instances.json").write_text(json.dumps(instances or _instances()))
    return tmp_path


@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_reads_split_one_sample_per_sentence(tmp_path, protocol):
    root = _write(tmp_path, _refs(), protocol=protocol)
    samples = read_refcoco(root, "/coco/train2014", "val")
    assert [s.example_id for s in samples] == ["7_70", "7_71"]
    s = samples[0]
    assert s.task == "refexp" and s.task_query == "man on left"
    assert s.image_path == "/coco/train2014/COCO_train2014_000000000001.jpg"
    assert s.target["bboxes"] == [[10.0, 20.0, 40.0, 60.0]]  # xywh -> x1y1x2y2
    assert s.target["raw"] == "Man on LEFT" and s.target["ann_id"] == 100


def test_split_by_selects_file(tmp_path):
    root = _write(tmp_path, _refs(), split_by="umd")
    assert len(read_refcoco(root, "/img", "testA", split_by="umd")) == 1
    with pytest.raises(DataError, match=r"refs\(unc\)\.p: file not found"):
        read_refcoco(root, "/img", "val")


class _RunsShell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _CallsEval:
    def __reduce__(self):
        return (eval, ("__import__('os').getcwd()",))


def test_hostile_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    refs = _refs()
    refs[0]["sentences"][0]["sent"] = _RunsShell(marker)
    _write(tmp_path, refs)
    with pytest.raises(DataError, match=r"refused to load.*(posix|os|nt)\.system"):
        read_refcoco(tmp_path, "/img", "val")
    assert not marker.exists()


@pytest.mark.parametrize(
    "payload", [_CallsEval(), set, __import__("collections").OrderedDict(), pickle.PickleBuffer]
)
def test_any_global_is_refused(tmp_path, payload):
    path = tmp_path / "refs(unc).p"
    path.write_bytes(pickle.dumps([payload], protocol=2))
    with pytest.raises(DataError, match="refused to load"):
        load_refs_pickle(path)


@pytest.mark.parametrize("payload, kind", [({1, 2}, "set"), (b"raw", "bytes"),
                                           (frozenset([1]), "frozenset")])
def test_non_plain_types_without_globals_are_refused(tmp_path, payload, kind):
    # Protocol 5 encodes these with their own opcodes, no global lookup: checked after loading.
    path = tmp_path / "refs(unc).p"
    path.write_bytes(pickle.dumps([{"ref_id": 1, "x": payload}], protocol=5))
    with pytest.raises(DataError, match=f"it holds a {kind};"):
        load_refs_pickle(path)


def test_truncated_pickle(tmp_path):
    path = tmp_path / "refs(unc).p"
    path.write_bytes(pickle.dumps(_refs())[:20])
    with pytest.raises(DataError, match="not a readable refs pickle"):
        load_refs_pickle(path)


def test_missing_ref_key(tmp_path):
    refs = _refs()
    del refs[1]["ann_id"]
    _write(tmp_path, refs)
    with pytest.raises(DataError, match=r"ref #1: missing key\(s\) 'ann_id'"):
        read_refcoco(tmp_path, "/img", "val")


def test_ann_id_not_in_instances(tmp_path):
    refs = _refs()
    refs[0]["ann_id"] = 555
    _write(tmp_path, refs)
    with pytest.raises(DataError, match="ref 7: ann_id 555 is not in instances.json"):
        read_refcoco(tmp_path, "/img", "val")


def test_image_id_not_in_instances(tmp_path):
    refs = _refs()
    refs[0]["image_id"] = 9
    _write(tmp_path, refs)
    with pytest.raises(DataError, match="ref 7: image_id 9"):
        read_refcoco(tmp_path, "/img", "val")


def test_bad_bbox_and_unknown_split(tmp_path):
    inst = _instances()
    inst["annotations"][0]["bbox"] = [1, 2, 3]
    _write(tmp_path, _refs(), inst)
    with pytest.raises(DataError, match="annotation 100: bbox must be 4 numbers"):
        read_refcoco(tmp_path, "/img", "val")
    _write(tmp_path, _refs())
    with pytest.raises(DataError, match="no ref has split 'testB'"):
        read_refcoco(tmp_path, "/img", "testB")
