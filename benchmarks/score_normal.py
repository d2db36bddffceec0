"""Benchmark: GRIT surface-normal score of one 480x640 map.

Prints, per map and on average, ms per map for ``metrics.normal.normal_score`` with cold
stream caches (the first map of a new height H / valid-pixel count N: the official random
streams are recomputed), with a new N at a known H (only the subsets are recomputed: the
usual case on real data) and with warm caches (the same sizes again), and, measured in the same
run on the same maps, the straightforward official-shaped loop (500 x scipy
``Rotation.align_vectors`` + 500 inlier counts), the ratios, and whether the scores agree.
Target: under 40 ms per map on the 2-core dev machine. Times are the best of --repeats runs
(wall clock, and process CPU time in brackets), because the machine is shared; the load
averages are printed with them.

    python3 benchmarks/score_normal.py [--maps 3] [--repeats 5]
"""
from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
from scipy.spatial.transform import Rotation

from metrics import normal_ransac
from metrics.normal import decode_normals, normal_score, valid_mask_from_gt


def room_scene(h: int, w: int, seed: int) -> np.ndarray:
    """[H, W, 3] unit normals of a box room with a box on the floor, pinhole camera (x right,
    y down, z forward) at a random yaw and tilt, so each map differs."""
    rng = np.random.default_rng(seed)
    f = 0.8 * w
    ys, xs = np.mgrid[0:h, 0:w]
    rays = np.stack([(xs - w / 2) / f, (ys - h / 2) / f, np.ones((h, w))], -1)
    cam = Rotation.from_euler("xy", [rng.uniform(-25, -5), rng.uniform(-30, 30)], degrees=True)
    rays = rays @ cam.as_matrix().T
    depth = np.full((h, w), np.inf)
    normal = np.zeros((h, w, 3))
    # Axis-aligned planes (axis, position, extent check) of the room and of one box face.
    planes = [(0, -2.5), (0, 2.5), (1, -1.3), (1, 1.4), (2, 6.0), (2, -6.0)]
    for axis, pos in planes:
        with np.errstate(divide="ignore", invalid="ignore"):
            t = pos / rays[..., axis]
        hit = (t > 0) & (t < depth)
        depth[hit] = t[hit]
        normal[hit] = 0.0
        normal[hit, axis] = -np.sign(pos)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_top = 0.6 / rays[..., 1]  # box top at y = 0.6 (y down), x in [-1, 0.5], z in [3, 4]
    p = rays * t_top[..., None]
    on_box = (t_top > 0) & (t_top < depth) & (p[..., 0] > -1) & (p[..., 0] < 0.5) \
        & (p[..., 2] > 3) & (p[..., 2] < 4)
    normal[on_box] = [0.0, -1.0, 0.0]
    return normal @ cam.as_matrix()


def encode(n: np.ndarray) -> np.ndarray:
    """Official normal2rgb: uint8((n + 1) / 2 * 255)."""
    return ((n + 1.0) / 2.0 * 255.0).astype(np.uint8)


def make_pair(seed: int, h: int = 480, w: int = 640) -> tuple[np.ndarray, np.ndarray]:
    """(prediction, GT) uint8 maps: GT with a missing-depth hole, prediction globally rotated
    by ~10-25 deg plus per-pixel Gaussian noise."""
    rng = np.random.default_rng(seed)
    n = room_scene(h, w, seed)
    gt = encode(n)
    y, x = rng.integers(0, h - 100), rng.integers(0, w - 150)
    gt[y:y + 100, x:x + 150] = 128
    rot = Rotation.from_rotvec(rng.normal(size=3) * 0.25).as_matrix()
    pred = n @ rot.T + rng.normal(0, 0.12, n.shape)
    pred /= np.linalg.norm(pred, axis=-1, keepdims=True)
    return encode(pred), gt


def straightforward_score(pred_rgb: np.ndarray, gt_rgb: np.ndarray) -> float:
    """The official loop's shape: one align_vectors and one inlier count per hypothesis
    (local generators instead of the global seed; same streams)."""
    valid = valid_mask_from_gt(gt_rgb)
    u = decode_normals(pred_rgb)[valid]
    u /= np.linalg.norm(u, ord=2, axis=1, keepdims=True)
    v = decode_normals(gt_rgb)[valid]
    v /= np.linalg.norm(v, ord=2, axis=1, keepdims=True)

    def inliers(a, b):
        dot = np.multiply(a, b).sum(axis=1).clip(-1.0, 1.0)
        return np.sum(np.degrees(np.arccos(dot)) < 11.25)

    legacy, rng = np.random.RandomState(0), np.random.default_rng(0)
    best, r_hat, best_r = 0, Rotation.identity(), None
    for i in range(500):
        if i > 0:
            ind = legacy.choice(gt_rgb.shape[0], size=2, replace=False)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r_hat, _ = Rotation.align_vectors(v[ind], u[ind])
        idx = rng.choice(u.shape[0], size=500, replace=False)
        count = inliers(r_hat.apply(u[idx]), v[idx])
        if count > best:
            best, best_r = count, r_hat
    return 100 * inliers(best_r.apply(u), v) / u.shape[0] / 100.0


def best_ms(fn, repeats: int, before=None) -> tuple[float, float]:
    """(best wall ms, best CPU ms) of `repeats` calls of fn; `before()` runs untimed first."""
    wall, cpu = [], []
    for _ in range(repeats):
        if before is not None:
            before()
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start_wall)
        cpu.append(time.process_time() - start_cpu)
    return 1e3 * min(wall), 1e3 * min(cpu)


def clear_stream_caches() -> None:
    """Forget the memoised random streams: the next score is a first map of its H and N."""
    normal_ransac._cached_pairs.cache_clear()
    normal_ransac._cached_subsets.cache_clear()


def clear_subset_cache() -> None:
    """Forget the subsets only: a new N at a known H (the usual case on real data, where
    every GT map has its own number of valid pixels but heights repeat)."""
    normal_ransac._cached_subsets.cache_clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--maps", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print("load averages (1, 5, 15 min): %.2f %.2f %.2f on %d CPUs"
          % (*os.getloadavg(), os.cpu_count()))
    totals = {"cold": [0.0, 0.0], "newN": [0.0, 0.0], "warm": [0.0, 0.0], "loop": [0.0, 0.0]}
    for seed in range(args.maps):
        pred, gt = make_pair(seed)
        fast, slow = normal_score(pred, gt), straightforward_score(pred, gt)
        times = {
            "cold": best_ms(lambda: normal_score(pred, gt), args.repeats, clear_stream_caches),
            "newN": best_ms(lambda: normal_score(pred, gt), args.repeats, clear_subset_cache),
            "warm": best_ms(lambda: normal_score(pred, gt), args.repeats),
            "loop": best_ms(lambda: straightforward_score(pred, gt), max(1, args.repeats // 2)),
        }
        for key, (wall, cpu) in times.items():
            totals[key][0] += wall
            totals[key][1] += cpu
        print(f"map {seed}: score {fast:.6f} (loop {slow:.6f}, "
              f"{'equal' if fast == slow else 'DIFFERENT'})  "
              + "  ".join(f"{key} {wall:6.1f} ms [{cpu:5.1f}]" for key, (wall, cpu) in times.items()))
    (cold, cold_cpu), (new_n, new_n_cpu), (warm, warm_cpu), (loop, loop_cpu) = (
        (wall / args.maps, cpu / args.maps) for wall, cpu in totals.values())
    print(f"mean ms per 480x640 map, wall [CPU]: loop {loop:.1f} [{loop_cpu:.1f}], "
          f"vectorised cold caches {cold:.1f} [{cold_cpu:.1f}], new N only {new_n:.1f} "
          f"[{new_n_cpu:.1f}], warm caches {warm:.1f} [{warm_cpu:.1f}]")
    print(f"speed-up over the loop: cold x{loop / cold:.1f}, new N x{loop / new_n:.1f}, "
          f"warm x{loop / warm:.1f} (CPU: cold x{loop_cpu / cold_cpu:.1f}, "
          f"new N x{loop_cpu / new_n_cpu:.1f}, warm x{loop_cpu / warm_cpu:.1f})")
    print("load averages after (1, 5, 15 min): %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()
