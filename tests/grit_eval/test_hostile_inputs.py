"""Hostile and mistaken input to every command (issue 13): each case must end with exit
status 2 (130 for Ctrl-C), exactly one stderr line ``<command>: error: ...``, no traceback, and
nothing partial left where the command would have written.

The commands run as real subprocesses, several at a time (each pays the interpreter start).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

MODULES = {"grit-eval": "grit_eval.cli", "grit-eval-score": "grit_eval.scoring.cli",
           "grit-eval-merge": "grit_eval.merge_cli", "grit-eval-submit": "grit_eval.submission.cli"}

# Makes the first fsync fail with ENOSPC when GRIT_EVAL_TEST_ENOSPC is set (a full disk).
ENOSPC_HOOK = textwrap.dedent("""
    import errno, os
    if os.environ.get("GRIT_EVAL_TEST_ENOSPC"):
        def _disk_full(fd):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        os.fsync = _disk_full
""")


@dataclass
class Case:
    name: str
    command: str
    args: list[str]
    fragment: str  # expected in the error line
    absent: list[Path] = field(default_factory=list)  # must not exist afterwards
    env: dict[str, str] = field(default_factory=dict)
    status: int = 2
    interrupt: bool = False  # Ctrl-C once the run has stored predictions


def _write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _run(case: Case, cwd: Path, base_env: dict) -> tuple[int, str]:
    cmd = [sys.executable, "-m", MODULES[case.command], *case.args]
    env = {**base_env, **case.env}
    if not case.interrupt:
        result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=300)
        return result.returncode, result.stderr
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env=env)
    store = Path(case.args[-1].split("=", 1)[1]) / "predictions" / "ablation"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and not any(store.glob("*.jsonl")):
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


def _cases(root: Path, cache: Path, shards: tuple[Path, Path], spm: Path) -> list[Case]:
    gt = next(p for p in cache.iterdir() if (p / "MANIFEST.json").exists()) / "ground_truth"
    a_file = root / "a_file.txt"
    a_file.write_text("not a folder")
    truncated = root / "tiny_truncated.bin"
    truncated.write_bytes(b"\x85" + b"\0" * 999)
    params = b'{"params_in_millions": 1}'
    bomb = _write_zip(root / "bomb.zip", {"ablation/params.json": params,
                                          "ablation/vqa.json": b"[" + b" " * (16 * 2**20) + b"]"})
    deep = _write_zip(root / "deep.zip", {"ablation/params.json": params,  # the first task read
                                          "ablation/categorization.json": b"[" * 200_000 + b"]" * 200_000})
    ok_zip = _write_zip(root / "ok.zip", {"ablation/params.json": params})
    score = ["--grit_samples_dir", str(gt), "--subset", "ablation"]
    run = lambda name: ["run.progress=false", f"data.root={cache}", f"run.dir={root / name}"]
    broken_shard = shards[1]
    return [
        Case("override_typo_group", "grit-eval", ["model=orcale", *run("g1")], "Did you mean 'oracle'?", [root / "g1"]),
        Case("override_bad_int", "grit-eval", ["data.limit=abc", *run("g2")], "data.limit=abc: Value 'abc'", [root / "g2"]),
        Case("override_unknown_key", "grit-eval", ["nonsense=1", *run("g3")], "nonsense: no such setting", [root / "g3"]),
        Case("override_key_typo", "grit-eval", ["data.limt=1", *run("g4")], "Did you mean 'data.limit'?", [root / "g4"]),
        Case("batch_size_0", "grit-eval", ["model.batch_size=0", *run("g5")], "model.batch_size=0", [root / "g5"]),
        Case("dtype_float8", "grit-eval", ["model.dtype=float8", *run("g6")], "model.dtype=float8", [root / "g6"]),
        Case("cache_is_a_file", "grit-eval", ["run.progress=false", f"run.dir={root / 'g7'}"],
             "is a file where a folder is needed", [root / "g7"], env={"GRIT_EVAL_CACHE": str(a_file)}),
        Case("truncated_checkpoint", "grit-eval",
             ["model=unified_io", "model.size=tiny", f"model.checkpoint={truncated}",
              f"model.tokenizer={spm}", "tasks=vqa", "data.limit=1", *run("g8")], str(truncated), [root / "g8"]),
        Case("run_dir_is_a_file", "grit-eval", ["run.progress=false", f"data.root={cache}", f"run.dir={a_file}"],
             "is a file where a folder is needed"),
        Case("run_dir_not_writable", "grit-eval", ["run.progress=false", f"data.root={cache}", "run.dir=/sys/grit-eval-test/run"],
             "/sys/grit-eval-test"),
        Case("disk_full", "grit-eval", ["tasks=vqa", "data.limit=1", *run("g9")], "No space left on device",
             [root / "g9"], env={"GRIT_EVAL_TEST_ENOSPC": "1"}),
        Case("ctrl_c", "grit-eval", ["model.batch_size=1", *run("g10")],
             "interrupted; rerun the same command to resume", [root / "g10" / ".lock"], status=130, interrupt=True),
        Case("score_outdir_is_a_file", "grit-eval-score", ["--pred_zip", str(ok_zip), *score, "--outdir", str(a_file / "x")],
             "a_file.txt"),
        Case("score_no_submission", "grit-eval-score", [*score, "--outdir", str(root / "s2")],
             "no submission given: pass --pred_zip", [root / "s2"]),
        Case("score_zip_bomb", "grit-eval-score", ["--pred_zip", str(bomb), *score, "--outdir", str(root / "s3")],
             "refused as a zip bomb", [root / "s3"]),
        Case("score_deep_json", "grit-eval-score", ["--pred_zip", str(deep), *score, "--outdir", str(root / "s4")],
             "categorization.json: not valid JSON (nested too deeply)", [root / "s4"]),
        Case("merge_out_is_an_input", "grit-eval-merge", [*map(str, shards), "--out", str(shards[0])],
             "is one of the shards"),
        Case("merge_out_is_a_file", "grit-eval-merge", [*map(str, shards), "--out", str(a_file)],
             "exists and is not a directory"),
        Case("merge_shard_without_normals", "grit-eval-merge", [*map(str, shards), "--out", str(root / "m3")],
             "minigrit_sn_ablation_room_0001.png: minigrit_sn_ablation_room_0001: the artifact is missing", [root / "m3"]),
        Case("submit_negative_params", "grit-eval-submit", [str(shards[0]), "--subset", "ablation",
                                                            "--params-in-millions", "-5"], "invalid non-negative integer"),
        Case("submit_not_a_run", "grit-eval-submit", [str(root), "--subset", "ablation"], "manifest.json: not found"),
    ]


CASE_NAMES = ["override_typo_group", "override_bad_int", "override_unknown_key", "override_key_typo",
              "batch_size_0", "dtype_float8", "cache_is_a_file", "truncated_checkpoint",
              "run_dir_is_a_file", "run_dir_not_writable", "disk_full", "ctrl_c",
              "score_outdir_is_a_file", "score_no_submission", "score_zip_bomb", "score_deep_json",
              "merge_out_is_an_input", "merge_out_is_a_file", "merge_shard_without_normals",
              "submit_negative_params", "submit_not_a_run"]


@pytest.fixture(scope="module")
def outcomes(minigrit_cache, tmp_path_factory) -> dict[str, tuple[Case, int, str]]:
    from model_adapters.unified_io.tokenizer import train_tiny_sentencepiece

    root = tmp_path_factory.mktemp("hostile")
    hook = root / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(ENOSPC_HOOK)
    env = {**os.environ, "GRIT_EVAL_CACHE": str(minigrit_cache),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")]))}
    shards = (root / "shard0", root / "shard1")
    procs = [subprocess.Popen([sys.executable, "-m", "grit_eval.cli", "run.progress=false", "tasks=normal",
                               "data.limit=2", f"run.dir={shard}", f"run.shard={k}", "run.num_shards=2"],
                              cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for k, shard in enumerate(shards)]  # two finished shards of a normal-only evaluation
    assert [proc.wait() for proc in procs] == [0, 0]
    (shards[1] / "predictions" / "ablation" / "normals").rename(root / "moved_normals")
    cases = _cases(root, minigrit_cache, shards, train_tiny_sentencepiece(root / "spm"))
    assert [c.name for c in cases] == CASE_NAMES
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda c: _run(c, root, env), cases))
    return {c.name: (c, status, err) for c, (status, err) in zip(cases, results)}


@pytest.mark.parametrize("name", CASE_NAMES)
def test_hostile_input_gets_one_clear_line(outcomes, name):
    case, status, err = outcomes[name]
    assert status == case.status, err
    assert "Traceback" not in err, err
    prefix = f"{case.command}: error: "
    error_lines = [line for line in err.splitlines() if line.startswith(prefix)]
    assert len(error_lines) == 1, err
    assert case.fragment in error_lines[0], error_lines[0]
    if not case.interrupt:
        assert [line for line in err.splitlines() if line.strip()] == error_lines, err
    for path in case.absent:
        assert not path.exists(), f"{path} left behind"
