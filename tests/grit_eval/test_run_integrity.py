"""A run directory holds exactly one evaluation (issue 13): binding, task lists, artifact
checksums, temp files, the zip's contents, locks, signals, pipes and phantom directories.

One small base run (prior, 2 samples per task, three tasks) is made once; tests work on copies.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from grit_eval.errors import ConfigError, StoreError
from grit_eval.run.lock import EMPTY_LOCK_GRACE_S, RunLock

TASKS = "tasks=[vqa,segmentation,normal]"


def grit_eval(cache: Path, run_dir: Path | None, *overrides: str, cwd: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "grit_eval.cli", f"data.root={cache}", "run.progress=false", *overrides]
    if run_dir is not None:
        cmd.append(f"run.dir={run_dir}")
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


def snapshot(run_dir: Path) -> dict[str, bytes]:
    return {p.relative_to(run_dir).as_posix(): p.read_bytes()
            for p in sorted(run_dir.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def base_run(minigrit_cache, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("base")
    result = grit_eval(minigrit_cache, root / "run", TASKS, "data.limit=2", cwd=root)
    assert result.returncode == 0, result.stderr
    assert not (root / "runs").exists(), "nothing outside the run directory the user named"
    return root / "run"


@pytest.fixture
def run_copy(base_run, tmp_path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(base_run, run)
    return run


def test_a_task_list_runs_every_task(base_run):  # item 2
    stored = sorted(p.stem for p in (base_run / "predictions" / "ablation").glob("*.jsonl"))
    assert stored == ["normal", "segmentation", "vqa"]
    manifest = json.loads((base_run / "manifest.json").read_text())
    assert manifest["config"]["tasks"] == ["vqa", "segmentation", "normal"]


def test_every_way_of_naming_tasks():  # item 2
    from grit_eval.run.runner import check_tasks
    from grit_eval.types import GRIT_TASKS

    assert check_tasks(["vqa", "segmentation", "normal"]) == ["vqa", "segmentation", "normal"]
    assert check_tasks("vqa") == ["vqa"]
    assert check_tasks("vqa, normal") == ["vqa", "normal"]
    assert check_tasks("all") == list(GRIT_TASKS)
    with pytest.raises(ConfigError, match="Did you mean 'normal'"):
        check_tasks(["vqa", "normall"])


def test_rerun_with_other_settings_is_refused_and_changes_nothing(minigrit_cache, run_copy, tmp_path):  # item 1
    before = snapshot(run_copy)
    for override, setting in (("model=oracle", "model.name"), ("data.limit=3", "data.limit"),
                              ("model.prompts.vqa='Q: {}'", "model.prompts.vqa")):
        result = grit_eval(minigrit_cache, run_copy, TASKS, "data.limit=2", override, cwd=tmp_path)
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("grit-eval: error: "), result.stderr
        assert "holds another evaluation" in lines[0] and f"({setting} is" in lines[0], lines[0]
        assert snapshot(run_copy) == before
    # settings that cannot change predictions may differ (prior is batch-invariant)
    result = grit_eval(minigrit_cache, run_copy, TASKS, "data.limit=2", "model.batch_size=1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_binding_names_files_by_content(tmp_path, monkeypatch):  # item 1
    from grit_eval.run import binding
    from grit_eval.settings import EvalSettings, ModelSettings
    from grit_eval.splits import EvalSplit

    monkeypatch.setenv("GRIT_EVAL_CACHE", str(tmp_path / "cache"))
    a, b, c = tmp_path / "a.bin", tmp_path / "b.bin", tmp_path / "c.bin"
    a.write_bytes(b"weights" * 1000)
    b.write_bytes(b"weights" * 1000)
    c.write_bytes(b"weightz" * 1000)
    split = EvalSplit(name="x/ablation", subset="ablation", samples=())

    class Variant:
        batch_invariant = False

    def bound(path: Path, batch_size: int = 8, cls: type = Variant) -> dict:
        settings = EvalSettings(model=ModelSettings(name="unified_io", checkpoint=str(path), batch_size=batch_size))
        return binding.run_binding(settings, split, cls, 0, 1)

    assert bound(a) == bound(b)  # moved or copied checkpoint: the same evaluation
    assert "model.checkpoint is a file with sha256" in binding.first_difference(bound(a), bound(c))
    assert "model.batch_size is 8 in the run, 4 now" == binding.first_difference(bound(a), bound(a, 4))

    class Invariant:
        batch_invariant = True

    assert bound(a, 8, Invariant) == bound(a, 4, Invariant)
    # hashed once: the cache answers by (path, size, mtime) without reading the file again
    cache_file = tmp_path / "cache" / binding.HASH_CACHE_FILE
    cache = json.loads(cache_file.read_text())
    assert len(cache) == 3
    cache_file.write_text(json.dumps({k: "f" * 64 for k in cache}))
    assert binding.file_sha256(a) == "f" * 64
    os.utime(a, ns=(a.stat().st_atime_ns, a.stat().st_mtime_ns + 10**9))  # touched: hashed again
    assert binding.file_sha256(a) == binding.file_sha256(c.with_name("a.bin")) != "f" * 64


def test_deleted_or_damaged_artifact_is_predicted_again(minigrit_cache, run_copy, tmp_path):  # item 3
    before = snapshot(run_copy)
    normals = run_copy / "predictions" / "ablation" / "normals"
    pngs = sorted(normals.glob("*.png"))
    pngs[0].unlink()
    pngs[1].write_bytes(pngs[1].read_bytes()[:-20] + b"\0" * 20)
    result = grit_eval(minigrit_cache, run_copy, TASKS, "data.limit=2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"{pngs[0].name} is missing; the sample will be predicted again" in result.stderr
    assert f"{pngs[1].name} is damaged (checksum mismatch)" in result.stderr
    after = snapshot(run_copy)
    for name, data in before.items():
        if not name.endswith(".jsonl") and name != "manifest.json":
            assert after[name] == data, name  # the same maps again, never an all-zero map


def test_temp_files_cleaned_and_zip_holds_only_the_layout(minigrit_cache, run_copy, tmp_path):  # item 9
    strays = [run_copy / ".leaderboard.md.x1y2.tmp", run_copy / "submission/ablation/.vqa.json.abc.tmp",
              run_copy / "predictions/ablation/normals/.a.png.q.tmp"]
    for path in strays:
        path.write_bytes(b"partial")
    (run_copy / "submission/ablation/notes.txt").write_text("not part of the layout")
    zip_before = (run_copy / "submission/ablation.zip").read_bytes()
    result = grit_eval(minigrit_cache, run_copy, TASKS, "data.limit=2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not any(p.exists() for p in strays)
    with zipfile.ZipFile(run_copy / "submission/ablation.zip") as archive:
        names = archive.namelist()
    assert "ablation/notes.txt" not in names and not any(n.endswith(".tmp") for n in names)
    assert (run_copy / "submission/ablation.zip").read_bytes() == zip_before


def test_piping_into_head_does_not_fail_a_finished_run(minigrit_cache, run_copy, tmp_path):  # item 8
    cmd = (f"{sys.executable} -m grit_eval.cli data.root={minigrit_cache} run.progress=false "
           f"'{TASKS}' data.limit=2 run.dir={run_copy} 2>{tmp_path / 'err'} | head -1; "
           "exit ${PIPESTATUS[0]}")
    result = subprocess.run(["bash", "-c", cmd], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0
    assert "Traceback" not in (tmp_path / "err").read_text()
    assert json.loads((run_copy / "manifest.json").read_text())["status"] == "finished"


def test_failing_runs_leave_no_phantom_directories(minigrit_cache, tmp_path):  # item 10
    bad = grit_eval(minigrit_cache, None, "data=grit", f"data.root={tmp_path / 'nope'}", cwd=tmp_path)
    assert bad.returncode == 2 and "data root does not exist" in bad.stderr
    assert not (tmp_path / "runs").exists()
    named = grit_eval(minigrit_cache, tmp_path / "mine", "model.name=nosuch", cwd=tmp_path)
    assert named.returncode == 2 and "unknown adapter 'nosuch'" in named.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "neither runs/ nor an empty run.dir"


# --- locks (item 6) ------------------------------------------------------------------------

def _write_lock(run_dir: Path, content: str, age_s: float = 0.0) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / ".lock"
    path.write_text(content)
    if age_s:
        old = time.time() - age_s
        os.utime(path, (old, old))
    return path


def test_empty_lock_is_taken_over_once_it_is_old(tmp_path):
    _write_lock(tmp_path, "")
    with pytest.raises(StoreError, match="has not finished writing the lock.*run.break_lock=true"):
        RunLock(tmp_path).__enter__()
    _write_lock(tmp_path, "{not json", age_s=EMPTY_LOCK_GRACE_S + 1)
    with RunLock(tmp_path):
        assert json.loads((tmp_path / ".lock").read_text())["pid"] == os.getpid()
    assert not (tmp_path / ".lock").exists()


def test_other_host_lock_needs_the_override_unless_same_slurm_job(tmp_path, monkeypatch):
    monkeypatch.delenv("SLURM_ARRAY_JOB_ID", raising=False)
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    other = {"pid": 1, "host": socket.gethostname() + "-elsewhere", "slurm_job": "777"}
    _write_lock(tmp_path, json.dumps(other))
    with pytest.raises(StoreError, match=r"in use by pid 1 on .*-elsewhere.*rerun with --break-lock"):
        RunLock(tmp_path, override="--break-lock").__enter__()
    with RunLock(tmp_path, force=True):
        pass
    _write_lock(tmp_path, json.dumps({**other, "slurm_job": "4242"}))  # requeued onto another node
    with RunLock(tmp_path) as lock:
        assert lock.me["slurm_job"] == "4242"


def test_lock_of_another_owner_is_never_removed_on_exit(tmp_path):
    lock = RunLock(tmp_path).__enter__()
    stranger = json.dumps({"pid": 1, "host": "x", "slurm_job": None})
    (tmp_path / ".lock").write_text(stranger)  # someone forced it away from us
    lock.__exit__(None, None, None)
    assert (tmp_path / ".lock").read_text() == stranger


@pytest.mark.parametrize("sig, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_releases_the_lock_and_says_how_to_resume(minigrit_cache, tmp_path, sig, status):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "grit_eval.cli", f"data.root={minigrit_cache}", "run.progress=false",
           f"run.dir={run}", "model.batch_size=1"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    store = run / "predictions" / "ablation"
    deadline = time.time() + 60
    while time.time() < deadline and not any(store.glob("*.jsonl")):
        time.sleep(0.01)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status, err
    assert err.strip().splitlines()[-1] == "grit-eval: error: interrupted; rerun the same command to resume"
    assert "Traceback" not in err
    assert not (run / ".lock").exists()
