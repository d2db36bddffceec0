import os

import pytest

from grit_eval.errors import StoreError
from grit_eval.run.lock import RunLock
from grit_eval.run.store import PredictionStore
from grit_eval.types import Prediction


def _pred(i: int, **kw) -> Prediction:
    return Prediction(f"ex{i}", "vqa", {"words": f"answer {i}"}, 0.5, **kw)


def test_append_then_reload_in_a_new_store(tmp_path):
    store = PredictionStore(tmp_path)
    store.append("vqa", [_pred(0), _pred(1)])
    store.append("vqa", [_pred(2)])
    again = PredictionStore(tmp_path).load("vqa")
    assert list(again) == ["ex0", "ex1", "ex2"]
    assert again["ex1"].output == {"words": "answer 1"}
    assert again["ex1"].confidence == 0.5


def test_torn_last_line_is_dropped_and_truncated(tmp_path):
    store = PredictionStore(tmp_path)
    store.append("vqa", [_pred(0), _pred(1)])
    path = tmp_path / "vqa.jsonl"
    whole = path.read_bytes()
    path.write_bytes(whole[:-7])  # the process died in the middle of the second line
    loaded = PredictionStore(tmp_path).load("vqa")
    assert list(loaded) == ["ex0"]
    assert path.read_bytes() == whole[: whole.index(b"\n") + 1]
    # appending after the repair gives a clean file again
    store2 = PredictionStore(tmp_path)
    store2.append("vqa", [_pred(1)])
    assert path.read_bytes() == whole


def test_checksum_catches_an_edited_last_line(tmp_path):
    PredictionStore(tmp_path).append("vqa", [_pred(0), _pred(1)])
    path = tmp_path / "vqa.jsonl"
    path.write_bytes(path.read_bytes().replace(b"answer 1", b"answer 9"))
    assert list(PredictionStore(tmp_path).load("vqa")) == ["ex0"]


def test_corrupt_line_in_the_middle_is_an_error(tmp_path):
    PredictionStore(tmp_path).append("vqa", [_pred(0), _pred(1)])
    path = tmp_path / "vqa.jsonl"
    path.write_bytes(path.read_bytes().replace(b"answer 0", b"answer X"))
    with pytest.raises(StoreError, match="line 1 is corrupt"):
        PredictionStore(tmp_path).load("vqa")


def test_artifacts_are_written_before_the_line(tmp_path):
    store = PredictionStore(tmp_path)
    pred = Prediction("n0", "normal", {"normal": "n0.png"}, 1.0, artifacts={"n0.png": b"PNGDATA"})
    store.append("normal", [pred])
    assert (tmp_path / "normals" / "n0.png").read_bytes() == b"PNGDATA"
    assert PredictionStore(tmp_path).load("normal")["n0"].output == {"normal": "n0.png"}


def test_second_owner_is_refused_and_stale_lock_taken_over(tmp_path):
    with RunLock(tmp_path):
        with pytest.raises(StoreError, match="in use by pid"):
            RunLock(tmp_path).__enter__()
    # a lock left by a dead process is stale
    import json
    import socket
    (tmp_path / ".lock").write_text(json.dumps({"pid": 2**22 + 12345, "host": socket.gethostname()}))
    with RunLock(tmp_path):
        assert json.loads((tmp_path / ".lock").read_text())["pid"] == os.getpid()
    assert not (tmp_path / ".lock").exists()


def test_runner_rounds_confidences_and_rejects_invalid_outputs():
    from grit_eval.run.runner import checked_prediction

    kept = checked_prediction(Prediction("a", "vqa", {"words": "x"}, 0.123456789))
    assert kept.confidence == 0.123457 and kept.error is None
    assert checked_prediction(Prediction("a", "vqa", {"words": "x"}, 0.1234564)).confidence == 0.123456
    bad = checked_prediction(Prediction("a", "vqa", {"words": "x"}, float("nan")))
    assert bad.error.startswith("invalid output: confidence") and bad.confidence == 0.0
    bad = checked_prediction(Prediction("a", "refexp", {"bboxes": [[1, 2, 3]]}, 0.5))
    assert "bboxes[0] must have 4 numbers" in bad.error and bad.output == {}
