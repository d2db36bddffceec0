"""Benchmark: ``grit-eval-score`` on a synthetic GRIT-shaped set.

Builds, in a temporary folder, ground truth and a submission zip with ``--per-task`` samples
per task (a quarter of them ``_dist`` copies; normal maps 480x640 PNG), scores it through
``grit_eval.scoring.cli.main`` (the console script's code path), and prints samples/s per
task (time spent in ``score_sample``), the total, and the aggregation time against a baseline
measured in the same run: the official per-key loop (filter the records frame once per
(measure, group, partition, task) and take mean / var / sem, as ``evaluate.get_metric``).
Then two normal-map sets (``benchmarks/normal_map_sets.py``): >= 500 maps between 24x24 and
64x64, and 480x640 maps, each scored end to end by ``grit-eval-score`` and by the official
evaluate.py's shape (per-sample R-RANSAC loop + per-key aggregation) in the same run.

    python3 benchmarks/score_grit.py [--per-task 1000] [--normal-per-task 1000]
                                     [--small-maps 520] [--large-maps 30] [--repeats 2] [--skip-mixed]
"""
from __future__ import annotations

import argparse
import io
import json
import os
import tempfile
import time
import zipfile
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

import grit_eval.scoring.sample_scorer as sample_scorer
from grit_eval.scoring.cli import main
from grit_eval.types import GRIT_TASKS

H, W = 480, 640
SUBSET = "ablation"
LEMMAS = {"dog": ["animals"], "cup": ["kitchen_objects", "household_objects"], "car": ["vehicles"]}


def _png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _normal_pair(rng) -> tuple[bytes, bytes]:
    yy, xx = np.mgrid[0:H, 0:W]
    n = np.stack([np.sin(xx / rng.uniform(100, 300)), 0.5 * np.cos(yy / rng.uniform(100, 300)),
                  -np.ones((H, W))], -1)
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    gt = ((n + 1) / 2 * 255).astype(np.uint8)
    pred = np.clip(gt + rng.integers(-8, 9, gt.shape), 0, 255).astype(np.uint8)
    return _png(gt), _png(pred)


def _boxes(rng, k):
    xy = rng.uniform(0, [W - 100, H - 100], (k, 2))
    return np.concatenate([xy, xy + rng.uniform(10, 100, (k, 2))], 1).round(1)


def _rle(rng, k):
    out = []
    for x1, y1, x2, y2 in _boxes(rng, k).astype(int):
        m = np.zeros((H, W), np.uint8, order="F")
        m[y1:y2, x1:x2] = 1
        r = mask_utils.encode(m)
        out.append({"size": [H, W], "counts": r["counts"].decode()})
    return out


def _points(rng, k):
    pts = np.zeros((k, 17, 3))
    pts[:, :, :2] = rng.uniform(50, 400, (k, 1, 2)) + rng.uniform(0, 80, (k, 17, 2))
    pts[:, :, 2] = 2
    return pts.reshape(k, 51).round(2)


def _task_data(task, rng, gt_normal_names, pred_normal_names):
    """(GT output, prediction fields) of one synthetic sample."""
    if task in ("categorization", "vqa"):
        words = ["dog"] if task == "categorization" else ["dog"] * 6 + ["cat"] * 4
        return {"words": words}, {"words": str(rng.choice(["dog", "cat"]))}
    if task in ("localization", "refexp"):
        k = 1 if task == "refexp" else int(rng.integers(1, 5))
        gt = _boxes(rng, k)
        return {"bboxes": gt.tolist()}, {"bboxes": (gt + rng.normal(0, 5, gt.shape)).round(1).tolist()}
    if task == "segmentation":
        return {"masks": _rle(rng, 2)}, {"masks": _rle(rng, 2)}
    if task == "keypoint":
        gt = _points(rng, 2)
        return {"points": gt.tolist()}, {"points": (gt + rng.normal(0, 3, gt.shape)).round(2).tolist()}
    i = int(rng.integers(len(gt_normal_names)))
    return {"out_image_name": gt_normal_names[i]}, {"normal": pred_normal_names[i]}


def build(root: Path, per_task: int, normal_per_task: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    gt_dir = root / "gt"
    (gt_dir / SUBSET).mkdir(parents=True)
    (gt_dir / "normals").mkdir()
    pairs = [_normal_pair(rng) for _ in range(8)]  # distinct maps, reused across samples
    for i, (gt_png, _) in enumerate(pairs):
        (gt_dir / "normals" / f"gt_{i}.png").write_bytes(gt_png)
    zip_path = root / f"{SUBSET}.zip"
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{SUBSET}/params.json", '{"params_in_millions": 100}')
        for i, (_, pred_png) in enumerate(pairs):
            archive.writestr(f"{SUBSET}/normals/pred_{i}.png", pred_png)
        for task in GRIT_TASKS:
            n = normal_per_task if task == "normal" else per_task
            n_base = n - n // 4
            samples, preds = [], []
            for j in range(n):
                base = j % n_base
                eid = f"{task}_{base}" + ("_dist" if j >= n_base else "")
                srng = np.random.default_rng([seed, GRIT_TASKS.index(task), base])
                output, pred = _task_data(task, srng, [f"gt_{k}.png" for k in range(8)],
                                          [f"pred_{k}.png" for k in range(8)])
                samples.append({
                    "input": {"example_id": eid, "task_query": "grass (Stuff)" if base % 5 == 0 else "cup"},
                    "output": {"example_id": eid, **output},
                    "meta": {"data_source": "synthetic", "is_new_source": bool(base % 2),
                             "has_new_concept": bool(base % 3 == 0), "is_distorted": j >= n_base,
                             "concepts": [{"lemma": str(rng.choice(list(LEMMAS)))}]},
                })
                preds.append({"example_id": eid, "confidence": float(rng.uniform()), **pred})
            (gt_dir / SUBSET / f"{task}.json").write_text(json.dumps(samples))
            archive.writestr(f"{SUBSET}/{task}.json", json.dumps(preds))
    (root / "lemma2groups.json").write_text(json.dumps(LEMMAS))
    return zip_path


def official_loop_aggregation(records) -> float:
    """Seconds for the official per-key filtering (evaluate.get_metric) over the same records."""
    import pandas as pd

    long = records.explode("groups")
    t0 = time.perf_counter()
    for measure in ("acc", "inf", "misinf", "conf", "sa", "rmse"):
        for cgroup in ["any", *sorted(set(long["groups"].dropna()))]:
            for partition in ("sameSrc", "newSrc", "sameCpt", "newCpt", "dist", "undist"):
                if cgroup != "any" and (measure != "acc" or partition not in ("sameSrc", "newSrc")):
                    continue
                frame = records if cgroup == "any" else long[long["groups"] == cgroup]
                for task in GRIT_TASKS:
                    df = frame[frame.task == task]
                    if partition in ("sameSrc", "newSrc"):
                        df = df[(df.src == partition) & (df.dist == "undist")]
                    elif partition in ("sameCpt", "newCpt"):
                        df = df[(df.cpt == partition) & (df.dist == "undist")]
                    elif partition == "dist":
                        df = df[df.dist == "dist"]
                    else:
                        df = df[df.undistp]
                    s = pd.Series(df[measure])
                    s.mean(), s.var(), s.sem()
    return time.perf_counter() - t0


def score_timed(root: Path, zip_path: Path):
    """Score the set through ``grit-eval-score``; (total s, per-task s, per-task counts)."""
    spent, counts = defaultdict(float), defaultdict(int)
    original = sample_scorer.score_samples

    def timed(pairs, **kwargs):  # per task: the scorer calls this once per task file
        start = time.perf_counter()
        try:
            return original(pairs, **kwargs)
        finally:
            if pairs:
                spent[pairs[0][0].task] += time.perf_counter() - start
                counts[pairs[0][0].task] += len(pairs)

    sample_scorer.score_samples = timed
    try:
        t0 = time.perf_counter()
        status = main(["--pred_zip", str(zip_path), "--grit_samples_dir", str(root / "gt"),
                       "--lemma2groups", str(root / "lemma2groups.json"), "--subset", SUBSET,
                       "--outdir", str(root / "out")])
        total = time.perf_counter() - t0
    finally:
        sample_scorer.score_samples = original
    assert status == 0, "scoring failed"
    return total, spent, counts


def run(per_task: int, normal_per_task: int, sequential_baseline: bool = True) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        zip_path = build(root, per_task, normal_per_task)
        print(f"built synthetic set in {time.perf_counter() - t0:.1f} s")
        total, spent, counts = score_timed(root, zip_path)
        for task in GRIT_TASKS:
            print(f"{task:15s} {counts[task]:6d} samples {counts[task] / spent[task]:10.1f} samples/s")
        n = sum(counts.values())
        print(f"{'total':15s} {n:6d} samples {n / total:10.1f} samples/s  ({total:.1f} s end to end)")
        if sequential_baseline:
            sample_scorer.PARALLEL_MIN_SAMPLES, saved = 10**9, sample_scorer.PARALLEL_MIN_SAMPLES
            try:
                total_seq, spent_seq, _ = score_timed(root, zip_path)
            finally:
                sample_scorer.PARALLEL_MIN_SAMPLES = saved
            print(f"in one process: normal {spent_seq['normal']:.1f} s vs {spent['normal']:.1f} s "
                  f"with worker processes ({spent_seq['normal'] / spent['normal']:.2f}x); "
                  f"end to end {total_seq:.1f} s vs {total:.1f} s ({total_seq / total:.2f}x)")
        aggregation_timing(root)


def aggregation_timing(root: Path) -> None:
    import pandas as pd

    from results.leaderboard import leaderboard_metrics

    lines = (root / "out" / f"{SUBSET}_samples.jsonl").read_text().splitlines()
    records = pd.DataFrame([json.loads(x) for x in lines])
    records["groups"] = records["groups"].map(tuple)
    t0 = time.perf_counter()
    leaderboard_metrics(records, 100)
    ours = time.perf_counter() - t0
    baseline = official_loop_aggregation(records)
    print(f"aggregation of {len(records)} records: {ours:.3f} s; official per-key loop "
          f"(statistics only) {baseline:.3f} s; ratio {baseline / ours:.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-task", type=int, default=1000)
    parser.add_argument("--normal-per-task", type=int, default=1000)
    parser.add_argument("--no-sequential-baseline", action="store_true",
                        help="skip the second, single-process pass")
    parser.add_argument("--small-maps", type=int, default=520,
                        help="normal maps between 24x24 and 64x64 (0: skip that set)")
    parser.add_argument("--large-maps", type=int, default=30, help="480x640 normal maps (0: skip)")
    parser.add_argument("--skip-mixed", action="store_true", help="only the normal-map sets")
    parser.add_argument("--repeats", type=int, default=2,
                        help="interleaved runs of each normal-map comparison (minimum printed)")
    args = parser.parse_args()
    print("load averages (1, 5, 15 min): %.2f %.2f %.2f on %d CPUs" % (*os.getloadavg(), os.cpu_count()))
    if not args.skip_mixed:
        run(args.per_task, args.normal_per_task, not args.no_sequential_baseline)
    from normal_map_sets import compare

    for kind, n_maps in (("small", args.small_maps), ("large", args.large_maps)):
        if n_maps:
            compare(kind, n_maps, official_loop_aggregation, args.repeats)
    print("load averages after (1, 5, 15 min): %.2f %.2f %.2f" % os.getloadavg())
