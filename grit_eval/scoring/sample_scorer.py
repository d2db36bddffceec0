"""Score one GRIT sample against one prediction, as ``evaluate.compute_metric`` (GRIT_SPEC.md 2).

The per-task metric functions live in ``metrics/``; this module picks the right one, feeds
it the fields the official code feeds it, and loads normal-map PNGs. It is shared by
``grit-eval-score`` and the run's scoring step, so both give the same numbers.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from grit_eval.errors import DataError, SubmissionError
from grit_eval.types import TASKS, Sample
from metrics.errors import UnscorableInput

# The official evaluator treats a segmentation query as "stuff" when the GT query holds this.
STUFF_MARKER = "(Stuff)"
NORMAL_MODES = ("RGB", "RGBA")


def metric_function(task: str) -> Callable[..., float]:
    """The per-sample metric of ``task`` (a GRIT task name), from the registry table."""
    from grit_eval.errors import ConfigError
    from grit_eval.registry import resolve

    try:
        return resolve("metric", task)
    except ConfigError:
        raise DataError(f"no GRIT metric for task {task!r}") from None


def load_normal_png(path: Path, expected_hw: tuple[int, int] | None = None, *, what: str = "normal map") -> np.ndarray:
    """Read a normal-map PNG as the official scorer does (``imread(path)[:, :, :3]``).

    Only 8-bit RGB or RGBA is accepted (alpha is dropped); the official code raises on
    grayscale and misdecodes 16-bit, and never resizes.

    Args:
        path: the PNG file.
        expected_hw: (height, width) it must have, in pixels (None: any).
        what: how messages name the image.

    Returns:
        [H, W, 3] uint8 RGB.

    Raises:
        ValueError: unreadable, wrong mode or wrong size (the caller adds file and id).
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if image.mode not in NORMAL_MODES:
                raise ValueError(f"{what} {path} must be an 8-bit RGB or RGBA image, got mode {image.mode}")
            # PIL opens a 16-bit-per-channel PNG as 8-bit "RGB"; the tile's raw mode tells.
            if any("16" in str(tile[3]) for tile in image.tile):
                raise ValueError(f"{what} {path} has 16 bits per channel; it must be 8-bit")
            rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    except FileNotFoundError:
        raise ValueError(f"{what} {path} not found") from None
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError(f"{what} {path} is not a readable image ({err})") from None
    if expected_hw is not None and rgb.shape[:2] != tuple(expected_hw):
        raise ValueError(
            f"{what} {path} is {rgb.shape[0]}x{rgb.shape[1]} (HxW) but the ground truth is "
            f"{expected_hw[0]}x{expected_hw[1]}; normals are not resized"
        )
    return rgb


def score_sample(
    sample: Sample,
    prediction: Mapping[str, Any],
    *,
    gt_normals_dir: Path | None = None,
    pred_normals_dir: Path | None = None,
) -> float:
    """Per-sample score in [0, 1] of ``prediction`` for ``sample`` (which must have a target).

    Args:
        sample: a GRIT sample with ``target`` (the GT ``output`` block).
        prediction: the submission dict (``words``/``bboxes``/``masks``/``points``/``normal``).
        gt_normals_dir: folder GT ``out_image_name`` is relative to (normal only).
        pred_normals_dir: folder the predicted ``normal`` file name is relative to.

    Returns:
        The official per-sample score.

    Raises:
        metrics.errors.UnscorableInput: input the official scorer would crash on.
        DataError: a GT normal map cannot be read.
        SubmissionError: a predicted normal map cannot be read or has the wrong size/mode.
    """
    target = sample.target
    if target is None:
        raise DataError(f"{sample.example_id}: sample has no ground truth to score against")
    task = sample.task
    spec = TASKS.get(task)
    if spec is None or spec.grit_metric is None:
        raise DataError(f"{sample.example_id}: no GRIT metric for task {task!r}")
    score = metric_function(task)  # the task table's metric, through the registry
    if task == "normal":  # maps are files: read both PNGs first
        return _score_normal(sample, prediction, gt_normals_dir, pred_normals_dir, score)
    # The official code reads "(Stuff)" from the GT query (input.task_query).
    extra = (STUFF_MARKER in (sample.gt_query or ""),) if task == "segmentation" else ()
    field = spec.output_field
    return float(score(prediction[field], target[field], *extra))


def _score_normal(sample, prediction, gt_normals_dir, pred_normals_dir, score) -> float:
    # An absolute out_image_name (official example layout) wins over the folder, as os.path.join.
    gt_path = Path(gt_normals_dir or ".") / sample.target["out_image_name"]
    try:
        gt = load_normal_png(gt_path, what="ground-truth normal map")
    except ValueError as err:
        raise DataError(f"{gt_path}: {sample.example_id}: {err}") from None
    pred_path = Path(pred_normals_dir or ".") / prediction["normal"]
    try:
        pred = load_normal_png(pred_path, gt.shape[:2], what="predicted normal map")
    except ValueError as err:
        raise SubmissionError(f"{pred_path}: {sample.example_id}: {err}") from None
    # The official metric reseeds numpy's global RNG (GRIT_SPEC.md 6.14); callers' random
    # state must not change because they scored something, so it is restored.
    state = np.random.get_state()
    try:
        return float(score(pred, gt))
    finally:
        np.random.set_state(state)


def sample_outcome(sample: Sample, score: float, confidence: float) -> dict[str, Any]:
    """The ``results.records.Outcome`` of a scored sample (input of ``records_frame``)."""
    return {
        "example_id": sample.example_id,
        "task": sample.task,
        "score": score,
        "confidence": confidence,
        "is_new_source": sample.meta.is_new_source,
        "has_new_concept": sample.meta.has_new_concept,
        "is_distorted": sample.meta.is_distorted,
        "lemmas": sample.meta.lemmas,
    }


# Normal maps cost ~40 ms each (PNG decoding + R-RANSAC); larger sets are scored in parallel
# processes. Each sample's score is a pure function of its files, so results do not change.
PARALLEL_MIN_SAMPLES = 200


def _score_job(job: tuple) -> tuple[str, Any]:
    sample, prediction, gt_dir, pred_dir = job
    try:
        return "ok", score_sample(sample, prediction, gt_normals_dir=gt_dir, pred_normals_dir=pred_dir)
    except UnscorableInput as err:
        return "unscorable", str(err)
    except (DataError, SubmissionError) as err:
        return type(err).__name__, str(err)


def score_samples(pairs: Sequence[tuple[Sample, Mapping[str, Any]]], *, gt_normals_dir: Path | None,
                  pred_normals_dir: Path | None, workers: int | None = None) -> list[tuple[str, Any]]:
    """``_score_job`` results (status, score or message) for many samples, in order.

    Uses up to ``workers`` processes (default: the CPU count) when there are at least
    ``PARALLEL_MIN_SAMPLES`` samples; otherwise scores in this process.
    """
    jobs = [(s, p, gt_normals_dir, pred_normals_dir) for s, p in pairs]
    workers = workers or os.cpu_count() or 1
    if workers < 2 or len(jobs) < PARALLEL_MIN_SAMPLES:
        return [_score_job(job) for job in jobs]
    # spawn, not fork: the parent may hold BLAS/JAX threads that a forked child would inherit
    # locked. One BLAS thread per worker: the workers already use every core.
    context = multiprocessing.get_context("spawn")
    saved = {k: os.environ.get(k) for k in _THREAD_VARS}
    os.environ.update({k: "1" for k in _THREAD_VARS})
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            return list(pool.map(_score_job, jobs, chunksize=max(1, len(jobs) // (8 * workers))))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
