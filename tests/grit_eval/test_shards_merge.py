"""Sharded runs as separate processes, merged into exactly the single-process result."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grit_eval.errors import ConfigError
from grit_eval.merge_cli import main as merge_main
from grit_eval.run.shards import resolve_shard, shard_samples
from grit_eval.types import Sample


def _samples() -> list[Sample]:
    out = []
    for task in ("vqa", "refexp"):
        for i in range(7):
            out.append(Sample(f"{task}{i}", task, "img.png"))
            if i % 2 == 0:
                out.append(Sample(f"{task}{i}_dist", task, "img.png"))
    return out


@pytest.mark.parametrize("n", [1, 2, 3, 4, 9])
def test_shards_are_disjoint_cover_and_keep_dist_pairs(n):
    samples = _samples()
    parts = [shard_samples(samples, k, n) for k in range(n)]
    ids = [(s.task, s.example_id) for part in parts for s in part]
    assert sorted(ids) == sorted((s.task, s.example_id) for s in samples)
    assert len(ids) == len(set(ids))
    for part in parts:
        names = {s.example_id for s in part}
        assert all(i.removesuffix("_dist") in names for i in names)


def test_shard_from_slurm_array(monkeypatch):
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "12")
    monkeypatch.setenv("SLURM_ARRAY_TASK_MIN", "10")
    monkeypatch.setenv("SLURM_ARRAY_TASK_COUNT", "4")
    assert resolve_shard(None, None) == (2, 4)
    assert resolve_shard(1, 3) == (1, 3)  # explicit settings win
    with pytest.raises(ConfigError, match="out of range"):
        resolve_shard(3, 3)
    with pytest.raises(ConfigError, match="both"):
        resolve_shard(1, None)


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    from grit_eval.minigrit import ensure_minigrit

    root = tmp_path_factory.mktemp("cache")
    ensure_minigrit(cache_dir=root)
    return root


def _cmd(cache: Path, run_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "grit_eval.cli", f"run.dir={run_dir}", f"data.root={cache}",
            "run.progress=false", "tasks=all", *extra]


def _final(run_dir: Path) -> dict[str, bytes]:
    names = ["metrics.json", "records.jsonl", "submission/ablation.zip"]
    return {n: (run_dir / n).read_bytes() for n in names}


def test_four_shards_merge_to_the_single_process_result(cache, tmp_path, capsys):
    single = tmp_path / "single"
    subprocess.run(_cmd(cache, single), check=True, capture_output=True)
    shards = [tmp_path / f"shard{k}" for k in range(4)]
    procs = [subprocess.Popen(_cmd(cache, d, f"run.shard={k}", "run.num_shards=4"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for k, d in enumerate(shards)]
    for p in procs:
        _, err = p.communicate()
        assert p.returncode == 0, err.decode()
    assert not (shards[0] / "metrics.json").exists()  # shards only predict
    # a missing shard and a duplicated shard are reported, not scored
    assert merge_main([str(d) for d in shards[:3]] + ["--out", str(tmp_path / "m3")]) == 2
    assert "shard(s) [3] of 4 are missing" in capsys.readouterr().err
    assert merge_main([str(shards[0])] * 2 + [str(d) for d in shards[1:]] + ["--out", str(tmp_path / "m5")]) == 2
    assert "appears twice" in capsys.readouterr().err
    merged = tmp_path / "merged"
    assert merge_main([str(d) for d in shards] + ["--out", str(merged)]) == 0
    assert _final(merged) == _final(single)
    manifest = json.loads((merged / "manifest.json").read_text())
    assert len(manifest["merged_from"]) == 4


def test_a_shard_store_edited_to_drop_a_sample_is_reported(cache, tmp_path, capsys):
    shards = [tmp_path / f"s{k}" for k in range(2)]
    for k, d in enumerate(shards):
        subprocess.run(_cmd(cache, d, f"run.shard={k}", "run.num_shards=2", "tasks=vqa"), check=True,
                       capture_output=True)
    store = shards[1] / "predictions/ablation/vqa.jsonl"
    lines = store.read_bytes().splitlines(keepends=True)
    store.write_bytes(b"".join(lines[:-1]))
    assert merge_main([str(d) for d in shards] + ["--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "do not cover the split exactly once (1 problem(s))" in err and "predicted by no shard" in err
    # a shard of another evaluation (here: another model seed) is named by its first difference
    manifest_path = shards[1] / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["binding"]["model"]["seed"] = 5
    manifest_path.write_text(json.dumps(manifest))
    assert merge_main([str(d) for d in shards] + ["--out", str(tmp_path / "m2")]) == 2
    assert "its settings differ from" in (err := capsys.readouterr().err) and "(model.seed is 0 in the run, 5 now)" in err
    assert not (tmp_path / "m2").exists()
