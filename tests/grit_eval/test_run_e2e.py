"""End-to-end runs of the commands on mini-GRIT (generated once into a temp cache)."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grit_eval.scoring.cli import main as score_main
from grit_eval.submission.cli import main as submit_main
from grit_eval.types import GRIT_TASKS, TASK_SHORT_NAMES

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    from grit_eval.minigrit import ensure_minigrit

    root = tmp_path_factory.mktemp("cache")
    ensure_minigrit(cache_dir=root)
    return root


def grit_eval(cache: Path, run_dir: Path, *overrides: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "grit_eval.cli", f"run.dir={run_dir}", f"data.root={cache}",
           "run.progress=false", *overrides]
    return subprocess.run(cmd, cwd=run_dir.parent, capture_output=True, text=True, check=check)


def final_files(run_dir: Path) -> dict[str, bytes]:
    names = ["metrics.json", "records.jsonl", "submission/ablation.zip"]
    names += [p.relative_to(run_dir).as_posix() for p in (run_dir / "submission/ablation").rglob("*") if p.is_file()]
    return {n: (run_dir / n).read_bytes() for n in sorted(names)}


def test_oracle_scores_the_official_maximum_on_every_task(cache, tmp_path):
    run = tmp_path / "oracle"
    grit_eval(cache, run, "model=oracle")
    metrics = json.loads((run / "metrics.json").read_text())
    for task in GRIT_TASKS:
        assert metrics[f"acc.any.agg.{TASK_SHORT_NAMES[task]}.mean"] == 100.0, task
    assert metrics["overall.mean"] == 100.0
    assert "| oracle@mini_grit/ablation | 100.0" in (run / "leaderboard.md").read_text()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "finished" and manifest["config"]["model"]["name"] == "oracle"
    assert manifest["versions"]["numpy"]


def test_replay_reproduces_grit_eval_score_and_submit_accepts(cache, tmp_path):
    prior = tmp_path / "prior"
    grit_eval(cache, prior)
    root = next(p for p in cache.iterdir() if (p / "MANIFEST.json").exists())
    outdir = tmp_path / "scored"
    assert score_main(["--pred_zip", str(prior / "submission/ablation.zip"), "--grit_samples_dir",
                       str(root / "ground_truth"), "--lemma2groups", str(root / "lemma2groups.json"),
                       "--subset", "ablation", "--outdir", str(outdir)]) == 0
    official = json.loads((outdir / "ablation_metrics.json").read_text())
    # One scoring path: the run's metrics file is byte for byte the scorer's.
    assert (prior / "metrics.json").read_bytes() == (outdir / "ablation_metrics.json").read_bytes()
    replay = tmp_path / "replay"
    grit_eval(cache, replay, "model=replay", f"model.predictions={prior / 'submission/ablation.zip'}")
    assert (replay / "metrics.json").read_bytes() == (outdir / "ablation_metrics.json").read_bytes()
    assert official["overall.mean"] < 50  # the prior is a floor, not an oracle
    # the run covers the split, so the submission builds and is byte-identical to the run's zip
    out = tmp_path / "upload.zip"
    assert submit_main([str(prior), "--subset", "ablation", "--out", str(out)]) == 0
    assert out.read_bytes() == (prior / "submission/ablation.zip").read_bytes()


def test_submit_refuses_an_incomplete_run(cache, tmp_path, capsys):
    run = tmp_path / "partial"
    grit_eval(cache, run, "tasks=vqa", "data.limit=2")
    assert submit_main([str(run), "--subset", "ablation"]) == 2
    err = capsys.readouterr().err
    assert "categorization: not run" in err and "vqa: " in err and "have no prediction" in err
    assert submit_main([str(run), "--subset", "test"]) == 2
    assert "evaluated subset 'ablation'" in capsys.readouterr().err


def _stored_lines(store: Path) -> int:
    return sum(p.read_bytes().count(b"\n") for p in store.glob("*.jsonl"))


def test_killed_run_resumes_to_identical_files(cache, tmp_path):
    """SIGKILL at several random points, each resume with another batch size, then finish:
    the final files equal an uninterrupted run's byte for byte."""
    import random

    whole = tmp_path / "whole"
    grit_eval(cache, whole, "model.batch_size=32")
    killed = tmp_path / "killed"
    killed.mkdir()
    store = killed / "predictions" / "ablation"
    rng = random.Random(1234)
    kills = 0
    for batch_size in (4, 7, 3):
        cmd = [sys.executable, "-m", "grit_eval.cli", f"run.dir={killed}", f"data.root={cache}",
               "run.progress=false", f"model.batch_size={batch_size}"]
        target = _stored_lines(store) + rng.randint(1, 40)  # a random point in the stream of appends
        proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if _stored_lines(store) >= target:
                time.sleep(rng.random() * 0.05)  # land anywhere, mid-write included
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
        proc.wait()
        kills += proc.returncode == -signal.SIGKILL
        assert not (killed / "metrics.json").exists() or proc.returncode == 0
    assert kills >= 2, "the runs finished before they could be killed"
    # Then SIGKILL during the final writes (submission, zip, records, metrics, leaderboard).
    final_kills = 0
    params = killed / "submission" / "ablation" / "params.json"
    for _ in range(3):
        cmd = [sys.executable, "-m", "grit_eval.cli", f"run.dir={killed}", f"data.root={cache}",
               "run.progress=false", "model.batch_size=6"]
        started = time.time()
        proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if params.exists() and params.stat().st_mtime >= started:  # the final writes began
                time.sleep(rng.random() * 0.6)
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
        proc.wait()
        final_kills += proc.returncode == -signal.SIGKILL
    assert final_kills >= 1, "the final writes finished before they could be killed"
    grit_eval(cache, killed, "model.batch_size=5")  # stale lock of the dead pid is taken over
    assert final_files(killed) == final_files(whole)
    assert not list(killed.rglob(".*.tmp")), "temp files of the killed runs are cleaned up"


def test_bad_input_is_one_clear_line(cache, tmp_path):
    result = grit_eval(cache, tmp_path / "bad", "model.name=oracel", check=False)
    assert result.returncode == 2
    assert "unknown adapter 'oracel'. Did you mean 'oracle'?" in result.stderr
    result = grit_eval(cache, tmp_path / "bad2", "data=grit", f"data.root={tmp_path / 'nope'}", check=False)
    assert result.returncode == 2
    assert "data root does not exist" in result.stderr
    result = grit_eval(cache, tmp_path / "bad3", "model.sizee=3", check=False)
    assert result.returncode != 0 and "sizee" in result.stderr


def test_official_real_image_examples_run_end_to_end(golden_dir, tmp_path):
    root = golden_dir / "grit" / "official_examples"
    for model in ("oracle", "prior"):
        run = tmp_path / model
        cmd = [sys.executable, "-m", "grit_eval.cli", f"model={model}", "data=grit_examples",
               f"data.root={root}", f"run.dir={run}", "run.progress=false"]
        subprocess.run(cmd, cwd=tmp_path, check=True, capture_output=True)
        records = [json.loads(l) for l in (run / "records.jsonl").read_text().splitlines()]
        assert len(records) == 14
        errors = {r["task"]: r["error"] for r in records if r["error"]}
        if model == "prior":  # the examples name an options list that is not shipped with them
            assert set(errors) <= {"categorization"}
            assert all("without output options" in e for e in errors.values())
        else:
            assert errors == {}  # the official maximum on real images (boxes/masks: A / (A + 1e-6))
            assert all(r["score"] > 1 - 1e-8 for r in records), records
    assert "| normal | 2 | 100.0 |" in (tmp_path / "oracle" / "leaderboard.md").read_text()
