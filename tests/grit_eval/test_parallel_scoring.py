"""Normal maps scored in worker processes give exactly the in-process scores."""
from __future__ import annotations

import shutil

import numpy as np
from PIL import Image

from grit_eval.data.grit_reader import read_split
from grit_eval.scoring import sample_scorer


def test_process_pool_scores_equal_sequential_scores(tmp_path, monkeypatch):
    from grit_eval.minigrit import ensure_minigrit

    root = ensure_minigrit(cache_dir=tmp_path / "cache")
    samples = [s for s in read_split(root, "ablation", ["normal"])][:6]
    gt_dir = root / "ground_truth" / "normals"
    pred_dir = tmp_path / "pred"
    pred_dir.mkdir()
    rng = np.random.default_rng(0)
    pairs = []
    for i, sample in enumerate(samples):
        name = f"{sample.example_id}.png"
        if i % 2:  # a perfect prediction
            shutil.copyfile(gt_dir / sample.target["out_image_name"], pred_dir / name)
        else:  # noise of the right size
            with Image.open(gt_dir / sample.target["out_image_name"]) as gt:
                w, h = gt.size
            Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(pred_dir / name)
        pairs.append((sample, {"normal": name}))
    pairs.append((samples[0], {"normal": "missing.png"}))  # an error travels back by position
    sequential = sample_scorer.score_samples(pairs, gt_normals_dir=gt_dir, pred_normals_dir=pred_dir,
                                             workers=1)
    monkeypatch.setattr(sample_scorer, "PARALLEL_MIN_SAMPLES", 2)
    parallel = sample_scorer.score_samples(pairs, gt_normals_dir=gt_dir, pred_normals_dir=pred_dir,
                                           workers=2)
    assert parallel == sequential
    assert [status for status, _ in sequential[:-1]] == ["ok"] * 6
    assert sequential[1][1] == 1.0 and sequential[0][1] < 0.5
    assert sequential[-1][0] == "SubmissionError" and "missing.png" in sequential[-1][1]
