"""Collect run directories (single runs and Hydra multirun sweeps) into one frame.

A run directory is what ``grit-eval`` writes (README, "The run directory"): ``manifest.json``
(resolved config under ``"config"``, ``"status"``), ``metrics.json`` (official keys) and
``records.jsonl``. A Hydra job directory (it holds ``.hydra/``) without a manifest is a job that
failed before its run started. Nothing is dropped: every run found gets a row and a ``status``:

* ``finished``: manifest says finished and metrics.json exists;
* ``not scored``: finished, but the split had no ground truth (GRIT ablation/test);
* ``incomplete``: the manifest still says running (killed, or still running);
* ``failed``: the job raised (``job_error.txt``, written by the sweep callback), or its
  directory has no manifest, or a file is unreadable.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

FINISHED, NOT_SCORED, INCOMPLETE, FAILED = "finished", "not scored", "incomplete", "failed"
JOB_ERROR_FILE = "job_error.txt"  # written by grit_eval.hydra_callbacks for a failed job
CONFIG_PREFIX = "cfg."
# Config keys that differ between runs without describing the experiment.
LABEL_IGNORED = ("run.", "data.root")
RUN_COLUMNS = ("run", "path", "status", "error", "model", "split", "subset", "tasks", "metrics")


def _is_run_dir(path: Path) -> bool:
    return (path / "manifest.json").is_file() or (path / ".hydra").is_dir()


def find_run_dirs(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Every run directory at or below ``paths``, in sorted order per argument.

    The walk does not descend into a run directory (its predictions and submission folders
    can hold thousands of files).

    Raises:
        FileNotFoundError: a path does not exist.
        ValueError: a path holds no run directory.
    """
    found: list[Path] = []
    for raw in paths:
        root = Path(raw)
        if not root.is_dir():
            raise FileNotFoundError(f"not a directory: {root}")
        if _is_run_dir(root):
            found.append(root)
            continue
        runs: list[Path] = []
        pending = [root]
        while pending:
            folder = pending.pop()
            with os.scandir(folder) as entries:
                subdirs = [Path(e.path) for e in entries if e.is_dir() and e.name != ".hydra"]
            for sub in subdirs:
                (runs if _is_run_dir(sub) else pending).append(sub)
        if not runs:
            raise ValueError(f"no run directory (manifest.json or .hydra/) under {root}")
        found.extend(sorted(runs, key=_natural_key))
    return found


def _natural_key(path: Path) -> tuple:
    # Hydra names jobs "<num>_<overrides>": sort 2_ before 10_.
    head = path.name.split("_", 1)[0]
    return (str(path.parent), int(head) if head.isdigit() else float("inf"), path.name)


def flatten_config(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"model": {"name": "prior"}}`` -> ``{"model.name": "prior"}``; lists become
    comma-joined strings so that they are hashable and print as Hydra overrides do."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_config(value, f"{name}."))
        elif isinstance(value, (list, tuple)):
            flat[name] = ",".join(str(v) for v in value)
        else:
            flat[name] = value
    return flat


def _read_json(path: Path) -> tuple[Any, str | None]:
    try:
        return json.loads(path.read_text()), None
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError) as exc:
        return None, f"{path.name} unreadable: {exc}"


def read_run(path: Path) -> dict[str, Any]:
    """One run directory as a row: status, error, config (flattened), metrics dict."""
    manifest, manifest_error = _read_json(path / "manifest.json")
    metrics, metrics_error = _read_json(path / "metrics.json")
    job_error = path / JOB_ERROR_FILE
    error = manifest_error or metrics_error
    if job_error.is_file():
        status, error = FAILED, job_error.read_text().strip() or "job failed"
    elif error:
        status = FAILED
    elif manifest is None:
        status, error = FAILED, "no manifest.json: the job failed before its run started"
    elif manifest.get("status") != "finished":
        status, error = INCOMPLETE, f"manifest status {manifest.get('status')!r}: killed or still running"
    elif metrics is None:
        status = NOT_SCORED if not (manifest.get("split") or {}).get("ground_truth", True) else FAILED
        error = None if status == NOT_SCORED else "finished but metrics.json is missing"
    else:
        status = FINISHED
    manifest = manifest if isinstance(manifest, dict) else {}
    config = manifest.get("config") or {}
    split = (manifest.get("split") or {}).get("name")
    data = config.get("data") or {}
    row = {
        "path": str(path),
        "status": status,
        "error": error,
        "model": (config.get("model") or {}).get("name"),
        "split": split or (f"{data['name']}/{data.get('subset')}" if "name" in data else None),
        "subset": data.get("subset"),
        "tasks": tuple(config.get("tasks") or ()),
        "metrics": metrics if isinstance(metrics, dict) else {},
    }
    row.update({CONFIG_PREFIX + k: v for k, v in flatten_config(config).items()})
    return row


def varying_keys(runs: pd.DataFrame, exclude: Sequence[str] = LABEL_IGNORED) -> list[str]:
    """Config keys (without the ``cfg.`` prefix) whose value differs between runs.

    A key missing from some runs (e.g. ``model.prompts.refexp`` set only in a prompt study)
    counts as differing. Keys starting with a string of ``exclude`` are left out.
    """
    keys = []
    configured = runs[_has_config(runs)]  # a job that died before its manifest varies nothing
    for column in configured.columns:
        if not column.startswith(CONFIG_PREFIX):
            continue
        key = column[len(CONFIG_PREFIX):]
        if key.startswith(tuple(exclude)):
            continue
        values = configured[column].map(lambda v: "\0missing" if _is_missing(v) else repr(v))
        if values.nunique() > 1:
            keys.append(key)
    return keys


def _has_config(runs: pd.DataFrame) -> pd.Series:
    columns = [c for c in runs.columns if c.startswith(CONFIG_PREFIX)]
    if not columns:
        return pd.Series(False, index=runs.index)
    return runs[columns].notna().any(axis=1)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def label_runs(runs: pd.DataFrame, exclude: Sequence[str] = LABEL_IGNORED,
               unique: bool = True) -> list[str]:
    """A short name per run: the config values that vary across ``runs``
    (``"model.name=prior tasks=vqa"``), else ``model@split``; with ``unique``, labels that
    repeat get the run's directory name appended."""
    keys = varying_keys(runs, exclude)
    labels = []
    for (_, row), configured in zip(runs.iterrows(), _has_config(runs)):
        parts = [f"{k}={_show(row.get(CONFIG_PREFIX + k))}" for k in keys]
        if not configured:
            labels.append(Path(row["path"]).name)
        else:
            labels.append(" ".join(parts) if parts else f"{row['model']}@{row['split']}")
    if not unique:
        return labels
    counts = pd.Series(labels).value_counts()
    return [f"{label} ({Path(path).name})" if counts[label] > 1 else label
            for label, path in zip(labels, runs["path"])]


def _show(value: Any) -> str:
    return "-" if _is_missing(value) else str(value)


def collect_runs(paths: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """Read every run at or below ``paths`` into one frame.

    Returns:
        DataFrame, one row per run in discovery order, with ``RUN_COLUMNS`` (``metrics`` is the
        run's metrics dict, empty when absent; ``tasks`` a tuple) and one ``cfg.<key>`` column
        per flattened config key (NaN where a run lacks the key).
    """
    rows = [read_run(p) for p in find_run_dirs(paths)]
    # object dtype: a config int stays an int where other runs lack the key (no 3 -> 3.0).
    runs = pd.DataFrame(rows, dtype=object)
    runs.insert(0, "run", label_runs(runs))
    return runs


def read_records(run_dir: str | os.PathLike) -> pd.DataFrame:
    """The per-sample records of one run (``records.jsonl``), groups as tuples.

    Raises:
        FileNotFoundError: the run has no records (not scored, failed or incomplete).
        ValueError: a line is not JSON or lacks a record column.
    """
    path = Path(run_dir) / "records.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no per-sample records (run not scored or not finished)")
    rows = []
    with path.open() as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as exc:
                    raise ValueError(f"{path}:{number}: not JSON ({exc})") from None
    frame = pd.DataFrame(rows)
    lacking = {"example_id", "task", "score", "confidence", "acc", "dist", "src"} - set(frame.columns)
    if rows and lacking:
        raise ValueError(f"{path}: records lack the columns {sorted(lacking)}")
    if "groups" in frame:
        frame["groups"] = frame["groups"].map(lambda g: tuple(g) if isinstance(g, list) else ())
    return frame
