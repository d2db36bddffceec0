"""Normal-map sets for ``benchmarks/score_grit.py``: ``grit-eval-score`` vs an official-style loop.

Two GRIT-format sets whose samples are all surface-normal maps: a small-map set (sizes drawn
between 24x24 and 64x64, some with invalid holes, so valid-pixel counts vary from map to map
as on real data) and a 480x640 set (room scenes of ``benchmarks/score_normal.py``). Each set
is scored twice in the same run:

* ``grit-eval-score`` end to end (zip reading, PNG decoding, worker processes, aggregation);
* the official evaluate.py's shape: extract the zip, read each PNG pair, score it with the
  official per-hypothesis R-RANSAC loop (``score_normal.straightforward_score``), build the
  records frame and run the official per-key aggregation loop, all in one process.

Both must give identical per-sample scores; the script prints both times and the ratio.
"""
from __future__ import annotations

import io
import json
import resource
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.spatial.transform import Rotation

from grit_eval.types import GRIT_TASKS
from score_normal import encode, make_pair, straightforward_score

SUBSET = "ablation"
HOLE = np.array([128, 128, 128], np.uint8)  # an invalid GT colour


def small_pair(seed: int, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """(prediction, GT) uint8 maps of a smooth surface; GT may carry an invalid hole, the
    prediction is the surface rotated by ~10-25 degrees plus noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    n = np.stack([np.sin(xx / rng.uniform(10, 30)), 0.5 * np.cos(yy / rng.uniform(10, 30)),
                  -np.ones((h, w))], -1)
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    rot = Rotation.from_rotvec(rng.normal(size=3) * 0.25).as_matrix()
    pred = n @ rot.T + rng.normal(0, 0.12, n.shape)
    pred /= np.linalg.norm(pred, axis=-1, keepdims=True)
    gt = encode(n)
    spare = h * w - 600  # keep >= 500 valid pixels (sharp edges around the hole drop a few)
    if spare > 40 and rng.uniform() < 0.7:
        hh = int(rng.integers(2, 8))
        ww = int(rng.integers(2, max(3, min(w - 1, spare // (2 * hh)))))
        y, x = int(rng.integers(0, h - hh)), int(rng.integers(0, w - ww))
        gt[y:y + hh, x:x + ww] = HOLE
    return encode(pred), gt


def _png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def build_normal_set(root: Path, kind: str, n_maps: int, seed: int = 0) -> Path:
    """GT folder (every task file; only normal.json has samples) and a submission zip."""
    rng = np.random.default_rng(seed)
    gt_dir = root / "gt"
    (gt_dir / SUBSET).mkdir(parents=True)
    (gt_dir / "normals").mkdir()
    zip_path = root / f"{SUBSET}.zip"
    samples, preds = [], []
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{SUBSET}/params.json", '{"params_in_millions": 100}')
        for i in range(n_maps):
            if kind == "small":
                h, w = (int(v) for v in rng.integers(24, 65, 2))
                pred, gt = small_pair(seed * 100003 + i, h, w)
            else:
                pred, gt = make_pair(seed * 100003 + i)
            eid = f"sn_{i}"
            (gt_dir / "normals" / f"{eid}.png").write_bytes(_png(gt))
            archive.writestr(f"{SUBSET}/normals/{eid}.png", _png(pred))
            samples.append({"input": {"example_id": eid, "task_query": None},
                            "output": {"example_id": eid, "out_image_name": f"{eid}.png"},
                            "meta": {"data_source": "synthetic", "is_new_source": bool(i % 2),
                                     "has_new_concept": bool(i % 3 == 0), "is_distorted": False,
                                     "concepts": []}})
            preds.append({"example_id": eid, "confidence": float(rng.uniform()), "normal": f"{eid}.png"})
        archive.writestr(f"{SUBSET}/normal.json", json.dumps(preds))
    for task in GRIT_TASKS:
        (gt_dir / SUBSET / f"{task}.json").write_text(json.dumps(samples if task == "normal" else []))
    return zip_path


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the scorer's worker processes
    are joined when their pool closes): unlike wall time, it does not depend on how many
    other jobs share the machine."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def official_style(root: Path, zip_path: Path, aggregate) -> tuple[float, dict[str, float]]:
    """(seconds, example id -> score) of the official evaluate.py's shape on the set.

    Args:
        aggregate: the official per-key aggregation loop over a records frame.
    """
    import pandas as pd

    t0 = time.perf_counter()
    scores, records = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(tmp)
        samples = json.loads((root / "gt" / SUBSET / "normal.json").read_text())
        preds = {p["example_id"]: p for p in json.loads((Path(tmp) / SUBSET / "normal.json").read_text())}
        for sample in samples:
            pred = preds[sample["output"]["example_id"]]
            gt = np.asarray(Image.open(root / "gt" / "normals" / sample["output"]["out_image_name"]))[:, :, :3]
            rgb = np.asarray(Image.open(Path(tmp) / SUBSET / "normals" / pred["normal"]))[:, :, :3]
            metric, conf = straightforward_score(rgb, gt), pred["confidence"]
            scores[sample["input"]["example_id"]] = metric
            meta = sample["meta"]
            records.append(dict(
                example_id=sample["input"]["example_id"], task="normal",
                src="newSrc" if meta["is_new_source"] else "sameSrc",
                cpt="newCpt" if meta["has_new_concept"] else "sameCpt", dist="undist",
                undistp=False, groups=(), acc=100 * metric, inf=100 * conf * metric,
                misinf=100 * conf * (1 - metric), conf=100 * conf,
                sa=100 * (conf * metric + (1 - conf) * (1 - metric)), rmse=(100 * (conf - metric)) ** 2))
    aggregate(pd.DataFrame.from_records(records))
    return time.perf_counter() - t0, scores


def ours(root: Path, zip_path: Path) -> tuple[float, dict[str, float]]:
    """(seconds, example id -> acc / 100) of ``grit-eval-score`` on the set."""
    from grit_eval.scoring.cli import main

    t0 = time.perf_counter()
    status = main(["--pred_zip", str(zip_path), "--grit_samples_dir", str(root / "gt"),
                   "--subset", SUBSET, "--outdir", str(root / "out")])
    seconds = time.perf_counter() - t0
    assert status == 0, "scoring failed"
    lines = (root / "out" / f"{SUBSET}_samples.jsonl").read_text().splitlines()
    return seconds, {x["example_id"]: x["acc"] for x in map(json.loads, lines)}


def compare(kind: str, n_maps: int, aggregate, repeats: int = 2) -> float:
    """Build one set, score it both ways ``repeats`` times, interleaved (the machine is
    shared: the minimum of each is printed); returns the speed ratio."""
    ours_times, base_times = [], []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        zip_path = build_normal_set(root, kind, n_maps)
        for _ in range(repeats):
            cpu = cpu_seconds()
            ours_s, ours_acc = ours(root, zip_path)
            cpu, ours_cpu = cpu_seconds(), cpu_seconds() - cpu
            base_s, base_scores = official_style(root, zip_path, aggregate)
            ours_times.append((ours_s, ours_cpu))
            base_times.append((base_s, cpu_seconds() - cpu))
    same = ours_acc.keys() == base_scores.keys() and all(
        ours_acc[k] == 100 * s for k, s in base_scores.items())
    label = "24x24..64x64" if kind == "small" else "480x640"
    (ours_s, ours_cpu), (base_s, base_cpu) = min(ours_times), min(base_times)
    ours_cpu, base_cpu = min(c for _, c in ours_times), min(c for _, c in base_times)
    print(f"normal maps {label:12s} x{n_maps}: grit-eval-score {ours_s:6.2f} s wall "
          f"[{ours_cpu:6.2f} s CPU, workers included], official-style loop {base_s:6.2f} s "
          f"[{base_cpu:6.2f} s CPU] (min of {repeats}): x{base_s / ours_s:.1f} faster wall, "
          f"x{base_cpu / ours_cpu:.1f} less CPU; scores {'identical' if same else 'DIFFERENT'}")
    return base_s / ours_s
