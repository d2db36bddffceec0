"""A run's scoring step and ``grit-eval-score`` are one path: same calls, same bytes."""
from __future__ import annotations

import json

from grit_eval.run.runner import run_evaluation
from grit_eval.scoring import sample_scorer, submission_scoring
from grit_eval.scoring.cli import main as score_main
from grit_eval.settings import DataSettings, EvalSettings, ModelSettings, RunSettings


def test_run_and_scorer_share_workers_and_write_identical_metrics(tmp_path, monkeypatch):
    from grit_eval.minigrit import ensure_minigrit

    root = ensure_minigrit(cache_dir=tmp_path / "cache")
    # Worker processes for every set of >= 2 normal maps, in the run and in the scorer.
    monkeypatch.setattr(sample_scorer, "PARALLEL_MIN_SAMPLES", 2)
    calls, pools = [], []
    score_samples = submission_scoring.score_samples
    original_pool = sample_scorer.ProcessPoolExecutor

    def recorded(pairs, **kwargs):
        calls.append((pairs[0][0].task, [s.example_id for s, _ in pairs], kwargs.get("workers")))
        return score_samples(pairs, **kwargs)

    def pool(*args, **kwargs):
        pools.append(kwargs.get("max_workers"))
        return original_pool(*args, **kwargs)

    monkeypatch.setattr(submission_scoring, "score_samples", recorded)
    monkeypatch.setattr(sample_scorer, "ProcessPoolExecutor", pool)
    run = tmp_path / "run"
    settings = EvalSettings(model=ModelSettings(name="prior"), tasks=["normal"],
                            data=DataSettings(name="mini_grit", root=str(tmp_path / "cache")),
                            run=RunSettings(progress=False))
    run_evaluation(settings, run)
    run_calls, run_pools = list(calls), list(pools)
    calls.clear(), pools.clear()
    outdir = tmp_path / "scored"
    assert score_main(["--pred_zip", str(run / "submission/ablation.zip"), "--grit_samples_dir",
                       str(root / "ground_truth"), "--lemma2groups",
                       str(root / "lemma2groups.json"), "--subset", "ablation",
                       "--outdir", str(outdir)]) == 0
    assert run_calls and run_calls == calls and run_pools == pools and run_pools
    # The metrics files are the same bytes (sorted keys, indent 4, the same values).
    assert (run / "metrics.json").read_bytes() == (outdir / "ablation_metrics.json").read_bytes()
    metrics = json.loads((outdir / "ablation_metrics.json").read_text())
    assert "acc.any.agg.sn.mean" in metrics and not any(".cat." in k for k in metrics)
    # The BLAS library and kernel are recorded beside the metrics and in the manifest.
    environment = json.loads((outdir / "ablation_environment.json").read_text())
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["numeric_environment"]["blas"] == environment["blas"]
    assert environment["blas"] and environment["blas"][0]["internal_api"]
    assert "OPENBLAS_CORETYPE" in environment and environment["numpy"]
