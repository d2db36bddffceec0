"""Per-sample logs (issue 14, item 4): large arrays as files referenced by name, the switch,
resume after a crash between the log and the store, a torn log line, toggling on resume,
and the merge of shards' logs."""
from __future__ import annotations

import dataclasses
import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from grit_eval.errors import ConfigError
from grit_eval.merge_cli import merge
from grit_eval.run import store as store_module
from grit_eval.run.runner import run_evaluation
from grit_eval.run.sample_logs import INLINE_MAX, load_array
from grit_eval.settings import DataSettings, EvalSettings, ModelSettings, RunSettings
from grit_eval.types import Prediction

ATTEMPTS = {"n": 0}  # counts adapter calls, so a re-predicted sample's trace differs


class TraceAdapter:
    """Answers refexp with a fixed box; its trace has a small and a large array whose values
    name the call that made them."""

    name = "trace_adapter"
    batch_invariant = True

    @classmethod
    def from_settings(cls, settings, split):
        return cls()

    def num_parameters(self):
        return 0

    def localize_boxes(self, requests):
        ATTEMPTS["n"] += 1
        call = ATTEMPTS["n"]
        return [Prediction(r.example_id, r.task, {"bboxes": [[1.0, 2.0, 3.0, 4.0]]}, 0.5, trace={
            "prompt": f"where is {r.task_query}?", "raw": "<box>", "call": call,
            "tokens": np.arange(5, dtype=np.int32),
            "codes": np.full((16, 16), call, dtype=np.int16),
            "people": [{"tokens": np.full(INLINE_MAX + 1, call, dtype=np.int32)}]})
            for r in requests]


sys.modules["trace_adapter_for_tests"] = types.SimpleNamespace(TraceAdapter=TraceAdapter)


def settings(cache: Path, **run) -> EvalSettings:
    return EvalSettings(model=ModelSettings(name="trace_adapter_for_tests:TraceAdapter", batch_size=2),
                        data=DataSettings(root=str(cache), limit=3), tasks=["refexp"],
                        run=RunSettings(progress=False, zip_submission=False, **run))


def rows(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "sample_logs.jsonl").read_text().splitlines()]


def stored(run: Path) -> dict[str, dict]:
    lines = (run / "predictions/ablation/refexp.jsonl").read_bytes().splitlines()
    return {p["example_id"]: p for p in (json.loads(line[9:]) for line in lines)}


def check_consistent(run: Path) -> list[dict]:
    logged = rows(run)
    predictions = stored(run)
    assert sorted(r["example_id"] for r in logged) == sorted(predictions)  # one line each
    for row in logged:
        assert row["output"] == predictions[row["example_id"]]["output"]
        assert row["confidence"] == predictions[row["example_id"]]["confidence"]
        # the array files are those of the same call as the line
        assert row["codes"] == {"npy": f"sample_logs/ablation/refexp/{row['example_id']}.codes.npy"}
        codes = load_array(run, row["codes"])
        assert codes.shape == (16, 16) and codes.dtype == np.int16 and (codes == row["call"]).all()
        people = load_array(run, row["people"][0]["tokens"])
        assert people.tolist() == [row["call"]] * (INLINE_MAX + 1)
        assert row["tokens"] == [0, 1, 2, 3, 4]  # small arrays inline
    return logged


def test_trace_fields_arrays_as_files_and_the_switch(minigrit_cache, tmp_path):
    run_evaluation(settings(minigrit_cache), tmp_path / "on")
    logged = check_consistent(tmp_path / "on")
    assert len(logged) == (tmp_path / "on/records.jsonl").read_text().count("\n") == 5  # incl. _dist copies
    assert logged[0]["prompt"].startswith("where is") and logged[0]["raw"] == "<box>"
    assert all("trace" in p for p in stored(tmp_path / "on").values())  # the log lives in the store line
    run_evaluation(settings(minigrit_cache, sample_logs=False), tmp_path / "off")
    assert not (tmp_path / "off/sample_logs.jsonl").exists()
    assert not (tmp_path / "off/sample_logs").exists()
    assert not any("trace" in p for p in stored(tmp_path / "off").values())
    # the same predictions either way; a run without logs cannot gain them on resume
    assert {k: p["output"] for k, p in stored(tmp_path / "off").items()} == \
        {k: p["output"] for k, p in stored(tmp_path / "on").items()}
    with pytest.raises(ConfigError, match="run.sample_logs is false in the run, true now"):
        run_evaluation(settings(minigrit_cache), tmp_path / "off")


def test_resume_after_a_crash_before_the_store_and_a_torn_line(minigrit_cache, tmp_path, monkeypatch):
    run = tmp_path / "run"
    real_append = store_module.PredictionStore.append
    batches = {"n": 0}

    def crash_on_second_batch(self, task, predictions):
        batches["n"] += 1
        if batches["n"] == 2:  # its array files are written, its lines never stored
            raise KeyboardInterrupt
        real_append(self, task, predictions)

    monkeypatch.setattr(store_module.PredictionStore, "append", crash_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        run_evaluation(settings(minigrit_cache), run)
    monkeypatch.setattr(store_module.PredictionStore, "append", real_append)
    assert len(list((run / "sample_logs/ablation/refexp").glob("*.codes.npy"))) == 4  # 2 batches
    store_file = run / "predictions/ablation/refexp.jsonl"
    first_two = store_file.read_bytes()
    with open(store_file, "ab") as handle:
        handle.write(first_two.splitlines(keepends=True)[0][:40])  # a crash mid-write
    # logs are bound: switching them off on resume would leave the study's logs incomplete
    with pytest.raises(ConfigError, match="run.sample_logs is true in the run, false now"):
        run_evaluation(settings(minigrit_cache, sample_logs=False), run)
    run_evaluation(settings(minigrit_cache), run)
    logged = check_consistent(run)  # every line's arrays are from the call that stored it
    assert len(logged) == 5
    calls = [r["call"] for r in logged]
    assert calls[:2] == [calls[0]] * 2 and all(c > calls[0] + 1 for c in calls[2:]), calls
    assert store_file.read_bytes().startswith(first_two)  # the stored samples were kept


def test_merged_shards_have_the_unsharded_logs(minigrit_cache, tmp_path):
    ATTEMPTS["n"] = 0
    run_evaluation(settings(minigrit_cache), tmp_path / "whole")
    whole = rows(tmp_path / "whole")
    shards = []
    for k in range(2):
        shards.append(tmp_path / f"shard{k}")
        run_evaluation(dataclasses.replace(settings(minigrit_cache, shard=k, num_shards=2)), shards[-1])
    merge(shards, tmp_path / "merged")
    merged = check_consistent(tmp_path / "merged")
    drop_call = [{k: v for k, v in r.items() if k not in ("call", "codes", "people")} for r in merged]
    assert drop_call == [{k: v for k, v in r.items() if k not in ("call", "codes", "people")} for r in whole]


def test_an_invalid_output_keeps_its_trace():
    from grit_eval.run.runner import checked_prediction

    checked = checked_prediction(Prediction("x", "refexp", {"bboxes": "oops"}, 0.5, trace={"raw": "oops"}))
    assert checked.error.startswith("invalid output") and checked.output == {}
    assert checked.trace == {"raw": "oops"}  # what the model said is what a study of the failure needs


def test_an_example_id_that_is_no_file_name_stays_inside_the_run(tmp_path):
    from grit_eval.run.sample_logs import SampleLog

    log = SampleLog(tmp_path / "run", "ablation", True)
    big = np.arange(INLINE_MAX + 1)
    traces = [p.trace for p in log.prepared("refexp", [
        Prediction(i, "refexp", {}, 0.0, trace={"codes": big}) for i in ("../../escape", "a/b", "a_b")])]
    names = [t["codes"]["npy"] for t in traces]
    assert len(set(names)) == 3 and all(n.startswith("sample_logs/ablation/refexp/") and n.count("/") == 3
                                        for n in names), names
    assert names[2] == "sample_logs/ablation/refexp/a_b.codes.npy"
    assert all((load_array(tmp_path / "run", t["codes"]) == big).all() for t in traces)
    assert not (tmp_path / "escape.codes.npy").exists()


def test_a_shard_whose_log_points_outside_the_run_is_refused(minigrit_cache, tmp_path, capsys):
    from grit_eval.merge_cli import main as merge_main

    shards = [tmp_path / f"shard{k}" for k in range(2)]
    for k, shard in enumerate(shards):
        run_evaluation(settings(minigrit_cache, shard=k, num_shards=2), shard)
    path = shards[1] / "predictions/ablation/refexp.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    payload = json.loads(lines[0][9:])
    payload["trace"]["codes"] = {"npy": "../../outside.npy"}
    lines[0] = store_module._encode_line(payload)  # a well-formed, checksummed line
    path.write_bytes(b"".join(lines))
    assert merge_main([str(d) for d in shards] + ["--out", str(tmp_path / "merged")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'../../outside.npy', no file inside sample_logs/" in err[0]
    assert payload["example_id"] in err[0] and str(shards[1]) in err[0]
    assert not (tmp_path / "outside.npy").exists() and not (tmp_path.parent / "outside.npy").exists()
    with pytest.raises(ValueError, match="no sample-log file"):
        load_array(shards[1], {"npy": "../../outside.npy"})


def test_a_run_bound_before_sample_logs_resumes_with_a_warning(tmp_path, caplog):
    import json
    import logging

    from grit_eval.errors import ConfigError
    from grit_eval.run.binding import check_binding

    old = {"model": {"name": "prior"}, "run": {"seed": 0}}
    (tmp_path / "manifest.json").write_text(json.dumps({"binding": old}))
    with caplog.at_level(logging.WARNING, logger="grit_eval.run.binding"):
        check_binding(tmp_path, {"model": {"name": "prior"}, "run": {"seed": 0, "sample_logs": True}})
    assert "no trace in sample_logs.jsonl" in caplog.text
    caplog.clear()
    check_binding(tmp_path, {"model": {"name": "prior"}, "run": {"seed": 0, "sample_logs": False}})
    assert caplog.text == ""
    with pytest.raises(ConfigError, match="another evaluation"):
        check_binding(tmp_path, {"model": {"name": "prior"}, "run": {"seed": 1, "sample_logs": True}})


def test_trace_keys_never_leave_the_task_folder(tmp_path):
    from grit_eval.run.sample_logs import SampleLog, is_log_file_name

    logs = SampleLog(tmp_path, "ablation", True)
    value = logs._externalized("vqa", "q1", {"../../x/y": np.arange(100)}, "scores")
    name = value["../../x/y"]["npy"]
    assert is_log_file_name(name) and name.startswith("sample_logs/ablation/vqa/")
    assert (tmp_path / name).resolve().parent == (tmp_path / "sample_logs/ablation/vqa").resolve()
