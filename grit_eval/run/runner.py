"""The evaluation run: split -> adapter in batches -> store -> submission, records, metrics.

``run_evaluation`` is the whole main job of ``grit-eval`` without Hydra: it takes plain
settings and a run directory. Rerunning on the same directory resumes from the store and
produces the same final files as an uninterrupted run.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from tqdm import tqdm

from grit_eval.data.fields import prediction_field_problem
from grit_eval.errors import ConfigError
from grit_eval.registry import resolve_adapter, suggest
from grit_eval.run.binding import check_binding, run_binding
from grit_eval.run.lock import RunLock
from grit_eval.run.sample_logs import SampleLog
from grit_eval.run.manifest import now_iso, write_manifest
from grit_eval.run.shards import resolve_shard, shard_samples
from grit_eval.run.store import PredictionStore
from grit_eval.settings import EvalSettings, ModelSettings
from grit_eval.splits import EvalSplit, describe, load_split
from grit_eval.submission.layout import write_submission, zip_folder
from grit_eval.types import DATASET_TASKS, GRIT_TASKS, TASK_KIND, TASK_OUTPUT_FIELD, Prediction, Sample
from model_adapters.protocol import kind_method

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOutcome:
    run_dir: Path
    split: str
    metrics: dict[str, Any] | None
    errors: int
    leaderboard: str | None


def check_tasks(tasks: Sequence[str] | str) -> list[str]:
    """The requested task names, each a GRIT task or a per-dataset task (e.g. captioning).

    Accepts every way the command line names tasks: a list (``tasks=[vqa,normal]``), one
    name (``tasks=vqa``), a quoted comma list (``tasks='vqa,normal'``) and ``all``.
    """
    known = list(dict.fromkeys([*GRIT_TASKS, *DATASET_TASKS]))
    names = tasks.split(",") if isinstance(tasks, str) else list(tasks)
    names = [n.strip() if isinstance(n, str) else n for n in names]
    tasks = list(dict.fromkeys(t for n in names for t in (GRIT_TASKS if n == "all" else [n])))
    if not tasks:
        raise ConfigError("tasks is empty; name at least one task (or tasks=all)")
    for task in tasks:
        if task not in known:
            raise ConfigError(f"unknown task {task!r}.{suggest(str(task), known)}")
    return tasks


def split_tasks(requested: list[str], split: EvalSplit) -> list[str]:
    """The tasks to run on a per-dataset split.

    Its samples fix its tasks: the default ``tasks`` (all GRIT tasks) means "the split's
    tasks"; an explicit list must name only tasks the split has.
    """
    available = split.tasks()
    if list(requested) == list(GRIT_TASKS):
        return available
    foreign = [t for t in requested if t not in available]
    if foreign:
        raise ConfigError(f"data={split.name.split('/')[0]} has task(s) {available}; "
                          f"tasks={list(requested)} names {foreign}")
    return list(requested)


def build_adapter(settings: EvalSettings, split: EvalSplit) -> Any:
    adapter_cls = resolve_adapter(settings.model.name)
    check_adapter_settings(adapter_cls, settings.model)
    try:
        return adapter_cls.from_settings(settings.model, split)
    except ValueError as exc:  # e.g. a truncated or mismatched checkpoint: the settings' fault
        raise ConfigError(f"model={settings.model.name}: {exc}") from None


def check_adapter_settings(adapter_cls: Any, model: Any) -> None:
    """Settings that would do nothing are errors: ``model.prompts`` for an adapter that has no
    prompts (``accepts_prompts``), ``model.options`` its ``options_class`` (a dataclass, or a
    function returning one) does not name."""
    name = model.name
    if model.prompts and not getattr(adapter_cls, "accepts_prompts", False):
        raise ConfigError(f"model={name} has no prompts to replace: model.prompts."
                          f"{sorted(model.prompts)[0]} (or prompts=...) would change nothing")
    _check_shared_fields(adapter_cls, model)
    options_class = getattr(adapter_cls, "options_class", None)
    if options_class is not None and not dataclasses.is_dataclass(options_class):
        options_class = options_class()  # a function returning it, for a lazy import
    known = [f.name for f in dataclasses.fields(options_class)] if options_class else []
    for key in model.options or {}:
        if key not in known:
            hint = suggest(str(key), known) if known else " It takes no model.options."
            raise ConfigError(f"model={name}: unknown model.options.{key}.{hint}")


# ModelSettings fields that only some models have; an adapter names those it reads in
# ``reads_settings`` and any other one set away from its default is refused.
SHARED_MODEL_FIELDS = ("size", "checkpoint", "tokenizer", "dtype", "seed", "predictions")


def _check_shared_fields(adapter_cls: Any, model: Any) -> None:
    reads = set(getattr(adapter_cls, "reads_settings", ()))
    defaults = {f.name: f.default for f in dataclasses.fields(ModelSettings)}
    for key in SHARED_MODEL_FIELDS:
        value = getattr(model, key, defaults[key])
        if key not in reads and value != defaults[key]:
            uses = ", ".join(f"model.{k}" for k in SHARED_MODEL_FIELDS if k in reads) or "none of them"
            raise ConfigError(f"model={model.name} does not read model.{key} (={value}): it would "
                              f"change nothing (this model reads: {uses})")


DTYPES = ("float32", "bfloat16", "float16")


def check_model_settings(settings: EvalSettings) -> None:
    """Settings every adapter shares, checked before anything is loaded or written."""
    model = settings.model
    if isinstance(model.batch_size, bool) or not isinstance(model.batch_size, int) or model.batch_size < 1:
        raise ConfigError(f"model.batch_size={model.batch_size}: must be a positive integer")
    if model.dtype not in DTYPES:
        raise ConfigError(f"model.dtype={model.dtype}: unknown dtype.{suggest(str(model.dtype), list(DTYPES))}")
    if model.params_in_millions is not None and model.params_in_millions < 0:
        raise ConfigError(f"model.params_in_millions={model.params_in_millions}: must be >= 0")


def predict_task(adapter: Any, samples: list[Sample], store: PredictionStore, task: str,
                 batch_size: int, progress: bool, sample_log: SampleLog) -> int:
    """Run every not-yet-stored sample of ``task`` through the adapter method of its request
    kind, in batches in split order; returns #new errors."""
    answer = kind_method(adapter, task, TASK_KIND[task])
    done = store.load(task)
    pending = [s for s in samples if s.task == task and s.example_id not in done]
    errors = 0
    if not pending:
        return 0
    bar = tqdm(total=len(pending), desc=f"{task:>14}", unit="sample", disable=not progress,
               dynamic_ncols=True, leave=True)
    with bar:
        for start in range(0, len(pending), batch_size):
            batch = pending[start:start + batch_size]
            predictions = answer([s.to_request() for s in batch])
            if [p.example_id for p in predictions] != [s.example_id for s in batch]:
                raise RuntimeError(f"adapter {adapter.name!r} returned predictions out of order "
                                   f"or of the wrong length for task {task}")
            predictions = [checked_prediction(p) for p in predictions]
            for p in predictions:
                if p.error:
                    errors += 1
                    log.warning("%s %s: %s", task, p.example_id, p.error)
            store.append(task, sample_log.prepared(task, predictions))
            bar.update(len(batch))
    return errors


# Confidences are stored rounded: float32 log-probs move by ~1e-6 with the batch composition
# and the device count, and stored files should not (resume, 1 vs N devices). 1e-6 is far
# below the official output's resolution (100 * c rounded to 4 decimals).
CONFIDENCE_DECIMALS = 6


def checked_prediction(prediction: Prediction) -> Prediction:
    """The prediction with its confidence rounded, or an error prediction when its output
    would not be a valid submission."""
    if prediction.error is not None:
        return prediction
    field = TASK_OUTPUT_FIELD[prediction.task]
    confidence = prediction.confidence
    if field not in prediction.output:
        problem = f"no '{field}' in the output"
    elif not (isinstance(confidence, (int, float)) and math.isfinite(confidence) and 0 <= confidence <= 1):
        problem = f"confidence {confidence!r} is not a number in [0, 1]"
    else:
        problem = prediction_field_problem(field, prediction.output[field])
    if problem is None:
        return dataclasses.replace(prediction, confidence=round(float(confidence), CONFIDENCE_DECIMALS))
    # the trace stays: what the model said is what a study of this failure needs
    return Prediction(prediction.example_id, prediction.task, {}, 0.0, f"invalid output: {problem}",
                      trace=prediction.trace)


def _params(settings: EvalSettings, adapter: Any) -> int:
    if settings.model.params_in_millions is not None:
        return int(settings.model.params_in_millions)
    count = adapter.num_parameters()
    return int(round(count / 1e6)) if count else 0


def run_evaluation(settings: EvalSettings, run_dir: Path) -> RunOutcome:
    """Evaluate ``settings.model`` on ``settings.data`` into ``run_dir`` (resuming if present).

    Everything that can be refused (settings, data, a run directory bound to another
    evaluation, a busy lock, the model) is checked before the run directory is written to.
    """
    run_dir = Path(run_dir)
    tasks = check_tasks(settings.tasks)
    prompts = {task: t for task, t in dict(settings.model.prompts or {}).items() if t is not None}
    settings = dataclasses.replace(settings, tasks=tasks,
                                   model=dataclasses.replace(settings.model, prompts=prompts))
    check_model_settings(settings)
    started = time.perf_counter()
    split = load_split(settings.data, tasks)
    if not split.is_grit:
        tasks = split_tasks(tasks, split)
    shard, num_shards = resolve_shard(settings.run.shard, settings.run.num_shards)
    sharding = {"shard": shard, "num_shards": num_shards}
    binding = run_binding(settings, split, resolve_adapter(settings.model.name), shard, num_shards)
    with RunLock(run_dir, force=settings.run.break_lock):
        check_binding(run_dir, binding)
        adapter = build_adapter(settings, split)
        remove_temp_files(run_dir)
        identity = {"split": describe(split), "binding": binding, **sharding}
        write_manifest(run_dir, settings, {**identity, "started": now_iso(), "status": "running"})
        store = PredictionStore(run_dir / "predictions" / split.subset)
        samples = shard_samples(list(split.samples), shard, num_shards)
        errors = 0
        run_tasks = [t for t in tasks if kind_method(adapter, t, TASK_KIND[t]) is not None]
        for task in tasks:
            if task not in run_tasks:
                log.warning("adapter %s does not answer %s requests (task %s): the task is "
                            "skipped (it scores 0 in the cross-task average)",
                            adapter.name, TASK_KIND[task], task)
        sample_log = SampleLog(run_dir, split.subset, settings.run.sample_logs)
        for task in run_tasks:
            errors += predict_task(adapter, samples, store, task, settings.model.batch_size,
                                   settings.run.progress, sample_log)
        sample_log.finalize(samples, {t: store.load(t) for t in run_tasks})
        predicted = time.perf_counter()
        params = _params(settings, adapter)
        outcome: tuple[dict | None, str | None] = (None, None)
        if num_shards == 1:
            outcome = finalize(run_dir, split, store, run_tasks, params, settings)
        else:
            log.info("shard %d of %d done; merge the shards with grit-eval-merge", shard, num_shards)
        timings = {"predict_s": round(predicted - started, 3),
                   "finalize_s": round(time.perf_counter() - predicted, 3)}
        write_manifest(run_dir, settings, {**identity, "finished": now_iso(), "status": "finished",
                                           "timings": timings, "prediction_errors": errors,
                                           "run_tasks": run_tasks, "params_in_millions": params})
    return RunOutcome(run_dir, split.name, outcome[0], errors, outcome[1])


def remove_temp_files(run_dir: Path) -> None:
    """Delete the temp files a killed run left (``.<name>.*.tmp``, see run/atomic.py)."""
    for path in Path(run_dir).rglob(".*.tmp"):
        if path.is_file():
            log.info("removing %s, left by an interrupted run", path)
            path.unlink(missing_ok=True)


def finalize(run_dir: Path, split: EvalSplit, store: PredictionStore, tasks: list[str],
             params_in_millions: int, settings: EvalSettings) -> tuple[dict | None, str | None]:
    """Write the submission folder (+ zip), then score what has ground truth."""
    from grit_eval.run.scoring_step import score_run

    predictions: dict[str, dict[str, Prediction]] = {t: store.load(t) for t in tasks}
    if not split.is_grit:
        # Per-dataset splits: no GRIT submission; each community's own metrics.
        from grit_eval.run.dataset_scoring import score_dataset_run

        if not split.has_ground_truth:
            log.info("no ground truth in %s: predictions written, nothing scored", split.name)
            return None, None
        return score_dataset_run(run_dir, split, predictions, store.artifact_dir,
                                 run_name=f"{settings.model.name}@{split.name}",
                                 vqa_rule=settings.data.vqa_rule)
    submission_root = run_dir / "submission"
    folder = write_submission(submission_root, split.subset, split.samples, predictions,
                              store.artifact_dir, params_in_millions)
    if settings.run.zip_submission:
        zip_folder(folder, submission_root / f"{split.subset}.zip")
    if not split.has_ground_truth:
        log.info("no ground truth in %s: predictions and submission written, nothing scored", split.name)
        return None, None
    return score_run(run_dir, split, predictions, run_name=f"{settings.model.name}@{split.name}")
