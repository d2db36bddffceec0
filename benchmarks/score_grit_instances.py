"""Benchmark: the instance-matching GRIT metrics (localization, segmentation, keypoint).

For each metric prints ms per sample for ``metrics.*`` and, measured in the same run on the
same inputs, an official-shaped baseline (a Python double loop over prediction/GT pairs, as
grit_official computes the IoU/OKS matrix; segmentation's baseline resizes with a per-pair
call like the official code), the ratio, and whether the scores agree. Times are the best of
--repeats runs, because the machine is shared.

    python3 benchmarks/score_grit_instances.py [--repeats 5]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.optimize import linear_sum_assignment

from metrics.keypoint import COCO_SIGMAS, keypoint_score
from metrics.localization import localization_score
from metrics.mask_resize import resize_linear_uint8
from metrics.segmentation import segmentation_score_dense


def _best(fn, repeats: int) -> tuple[float, float]:
    times, value = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return min(times), value


def _matched(ious: np.ndarray, cost: np.ndarray) -> float:
    rows, cols = linear_sum_assignment(cost)
    kept = [ious[i, j] for i, j in zip(rows, cols) if ious[i, j] > 0]
    return float(np.sum(kept) / (ious.shape[0] + ious.shape[1] - len(kept)))


def loop_localization(pred, gt) -> float:
    ious = np.zeros((len(pred), len(gt)))
    for i, (a1, b1, a2, b2) in enumerate(pred):
        for j, (c1, d1, c2, d2) in enumerate(gt):
            w, h = min(a2, c2) - max(a1, c1), min(b2, d2) - max(b1, d1)
            inter = w * h if w > 0 and h > 0 else 0.0
            union = (a2 - a1) * (b2 - b1) + (c2 - c1) * (d2 - d1) - inter
            ious[i, j] = inter / (union + 1e-6)
    return _matched(ious, 1 - ious)


def loop_segmentation(pred, gt) -> float:
    ious = np.zeros((len(pred), len(gt)))
    for i, p in enumerate(pred):
        for j, g in enumerate(gt):
            q = resize_linear_uint8(p, g.shape[1], g.shape[0]) if p.shape != g.shape else p
            ious[i, j] = np.sum(np.logical_and(q, g)) / (np.sum(np.logical_or(q, g)) + 1e-6)
    return _matched(ious, -ious)


def loop_keypoint(pred, gt) -> float:
    var = (2 * COCO_SIGMAS) ** 2
    oks = np.zeros((len(pred), len(gt)))
    for j, g in enumerate(gt):
        g = np.asarray(g)
        lab = g[2::3] > 0
        area = (g[1::3][lab].max() - g[1::3][lab].min()) * (g[0::3][lab].max() - g[0::3][lab].min())
        for i, d in enumerate(pred):
            d = np.asarray(d)
            e = ((d[0::3] - g[0::3]) ** 2 + (d[1::3] - g[1::3]) ** 2) / var / (area + np.spacing(1)) / 2
            oks[i, j] = np.sum(np.exp(-e[lab])) / lab.sum()
    return _matched(oks, -oks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)

    xy = rng.uniform(0, 600, (60, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(5, 200, (60, 2))], axis=1)
    pred_boxes = (boxes[:50] + rng.normal(0, 5, (50, 4))).tolist()
    gt_boxes = boxes[10:].tolist()

    gt_masks = [(rng.random((480, 640)) < 0.02).astype(np.uint8) for _ in range(8)]
    pred_masks = [(rng.random((240, 320)) < 0.05).astype(np.uint8) for _ in range(10)]

    people = rng.uniform(0, 500, (20, 17, 3))
    people[:, :, 2] = rng.integers(0, 3, (20, 17))
    people[:, 0, 2] = 2
    gt_points = people.reshape(20, 51).tolist()
    pred_points = (people[:15] + rng.normal(0, 3, (15, 17, 3))).reshape(15, 51).tolist()

    cases = [
        ("localization 50 pred x 50 gt boxes", lambda: localization_score(pred_boxes, gt_boxes),
         lambda: loop_localization(pred_boxes, gt_boxes)),
        ("segmentation 10 pred (240x320) x 8 gt (480x640)",
         lambda: segmentation_score_dense(pred_masks, gt_masks, False),
         lambda: loop_segmentation(pred_masks, gt_masks)),
        ("keypoint 15 pred x 20 gt people", lambda: keypoint_score(pred_points, gt_points),
         lambda: loop_keypoint(pred_points, gt_points)),
    ]
    for name, ours, baseline in cases:
        t_ours, v_ours = _best(ours, args.repeats)
        t_base, v_base = _best(baseline, max(1, args.repeats // 2))
        print(f"{name}: ours {1e3 * t_ours:.2f} ms, per-pair loop {1e3 * t_base:.2f} ms, "
              f"ratio {t_base / t_ours:.1f}x, scores agree: {abs(v_ours - v_base) < 1e-12}")


if __name__ == "__main__":
    main()
