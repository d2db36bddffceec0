"""All 7 GRIT tasks of mini-GRIT through the Unified-IO adapter (tiny random weights, tiny
sentencepiece model trained on the fly), then the official-format scorer on its submission."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from grit_eval.scoring.cli import main as score_main
from grit_eval.types import GRIT_TASKS


@pytest.mark.slow
def test_unified_io_runs_every_task_and_its_submission_scores(tmp_path):
    from grit_eval.minigrit import ensure_minigrit

    root = ensure_minigrit(cache_dir=tmp_path / "cache")
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "grit_eval.cli", "model=unified_io_tiny", "model.batch_size=2",
           f"data.root={tmp_path / 'cache'}", "data.limit=1", f"run.dir={run}", "run.progress=false"]
    subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=tmp_path)

    records = [json.loads(line) for line in (run / "records.jsonl").read_text().splitlines()]
    assert sorted({r["task"] for r in records}) == sorted(GRIT_TASKS)
    assert len(records) == 2 * len(GRIT_TASKS)  # one sample and its _dist copy per task
    assert all(r["error"] is None for r in records), [r["error"] for r in records if r["error"]]
    assert all(0.0 <= r["confidence"] <= 1.0 for r in records)
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["prediction_errors"] == 0
    assert _submission_digests(run) == _expected_digests()
    _check_sample_logs(run, records, root)

    # The official-format scorer accepts the run's zip, scored on the same samples' ground truth.
    ids = {r["example_id"] for r in records}
    gt = tmp_path / "gt"
    (gt / "ablation").mkdir(parents=True)
    for task in GRIT_TASKS:
        entries = json.loads((root / "ground_truth/ablation" / f"{task}.json").read_text())
        kept = [e for e in entries if e["output"]["example_id"] in ids]
        (gt / "ablation" / f"{task}.json").write_text(json.dumps(kept))
    status = score_main(["--pred_zip", str(run / "submission/ablation.zip"), "--grit_samples_dir", str(gt),
                         "--grit_normals_dir", str(root / "ground_truth/normals"), "--subset", "ablation",
                         "--outdir", str(tmp_path / "scored")])
    assert status == 0
    lines = (tmp_path / "scored/ablation_samples.jsonl").read_text().splitlines()
    assert len(lines) == len(records)
    by_id = {r["example_id"]: r for r in records}
    for line in lines:  # the run's own scores are the scorer's
        scored = json.loads(line)
        assert scored["acc"] == pytest.approx(by_id[scored["example_id"]]["acc"], abs=1e-12)


def _check_sample_logs(run: Path, records: list[dict], root: Path) -> None:
    """Every prediction's trace (issue 14): what the model saw and said, consistent with its
    post-processed output; the 256 image codes are a file referenced by name."""
    import numpy as np

    from grit_eval.run.sample_logs import load_array

    samples = json.loads((root / "samples/ablation/categorization.json").read_text())
    options = {s["example_id"]: json.loads((root / "output_options" / f"{s['output_options']}.json").read_text())
               for s in samples}

    logs = {(r["task"], r["example_id"]): r for r in
            map(json.loads, (run / "sample_logs.jsonl").read_text().splitlines())}
    assert sorted(logs) == sorted((r["task"], r["example_id"]) for r in records)
    for (task, _), row in logs.items():
        assert isinstance(row["prompt"], str) and row["prompt"], task
        if task in ("vqa", "refexp", "localization", "keypoint"):
            assert isinstance(row["raw"], str) and row["tokens"] and all(isinstance(t, int) for t in row["tokens"])
            assert 1 not in row["tokens"][:-1]  # through the first EOS only
        if task == "vqa":
            assert row["output"]["words"] == row["raw"].strip()
        if task == "keypoint":
            assert all(set(p) == {"prompt", "raw", "tokens"} for p in row["people"])
            assert len(row["people"]) >= len(row["output"]["points"])
        if task == "categorization":
            scores = row["option_scores"]
            assert len(scores) == len(options[row["example_id"]]) and all(isinstance(v, float) for v in scores)
            assert row["output"]["words"] == options[row["example_id"]][int(np.argmin(scores))]
        if task in ("segmentation", "normal"):
            assert set(row["tokens"]) == {"npy"} and row["tokens"]["npy"].endswith(".tokens.npy")
            codes = load_array(run, row["tokens"])
            assert codes.shape == (256,) and codes.dtype.kind == "i" and np.all(codes >= 0)
            assert row["tokens"]["npy"].startswith(f"sample_logs/ablation/{task}/")


# sha256 of every submission file of this run, recorded with the code before the move to
# typed request kinds (issue 14, commit 36a8583; jax 0.10.2, CPU): refactors of the
# harness/adapter interface must not change a byte. A deliberate change of Unified-IO's
# outputs regenerates it: `cd RUN && find submission -type f | sort | xargs sha256sum`.
DIGESTS = Path(__file__).parent / "fixtures" / "e2e_submission.sha256"


def _expected_digests() -> dict[str, str]:
    return {name: digest for digest, name in
            (line.split() for line in DIGESTS.read_text().splitlines() if line.strip())}


def _submission_digests(run: Path) -> dict[str, str]:
    return {path.relative_to(run).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted((run / "submission").rglob("*")) if path.is_file()}
