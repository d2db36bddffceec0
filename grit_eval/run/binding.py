"""A run directory holds exactly one evaluation.

The manifest stores the run's *binding*: every setting that can change a prediction, with
files named by their content (sha256) rather than their path, and the split's inputs by a
digest. Resuming a run directory with another binding is refused, naming the first setting
that differs, before anything in the directory is touched.

Settings that cannot change predictions are left out: where the run is (``run.dir``), progress
bars, the zip, and the batch size of an adapter that declares ``batch_invariant = True`` (its
outputs do not depend on how requests are batched). The task list is not bound either: each
task's stored predictions stay valid, so a run may be extended with more tasks.
``run.sample_logs`` is bound although it changes no prediction: the per-sample logs of samples
predicted with it off cannot be written later, so toggling it would leave a study's logs
silently incomplete.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from grit_eval.errors import ConfigError
from grit_eval.run.atomic import write_json_atomic

log = logging.getLogger(__name__)

HASH_CHUNK = 1 << 22
HASH_CACHE_FILE = "file_hashes.json"
# Data settings that name files: the split digest stands for what they hold.
_DATA_PATHS = ("root", "annotations", "questions", "images", "classes")


def _hash_cache_path() -> Path:
    from grit_eval.minigrit.writer import default_cache_dir

    return default_cache_dir() / HASH_CACHE_FILE


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, streamed once and remembered by (path, size, mtime)."""
    path = Path(path).resolve()
    stat = path.stat()
    key = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
    cache_path = _hash_cache_path()
    try:
        cache = json.loads(cache_path.read_text())
    except (OSError, ValueError):
        cache = {}
    if isinstance(cache, dict) and isinstance(cache.get(key), str):
        return cache[key]
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    value = digest.hexdigest()
    try:
        write_json_atomic(cache_path, {**(cache if isinstance(cache, dict) else {}), key: value})
    except OSError:
        pass  # an unwritable cache only costs a re-hash next time
    return value


def _by_content(value: Any) -> Any:
    """Strings that name existing files become ``{"sha256": ...}``, recursively."""
    if isinstance(value, dict):
        return {k: _by_content(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_by_content(v) for v in value]
    if isinstance(value, str) and value and os.path.isfile(os.path.expanduser(value)):
        return {"sha256": file_sha256(Path(os.path.expanduser(value)))}
    return value


def split_digest(split: Any) -> str:
    """sha256 of what the model sees of each sample (ids, image names, queries, boxes, options)."""
    root = Path(split.root) if getattr(split, "root", None) else None
    digest = hashlib.sha256()
    for s in split.samples:
        image = Path(s.image_path)
        if root is not None and image.is_relative_to(root):
            image = image.relative_to(root)
        item = [s.task, s.example_id, image.as_posix(), s.task_query, s.task_bbox, s.output_options]
        digest.update(json.dumps(item, default=list).encode() + b"\n")
    return digest.hexdigest()


def run_binding(settings: Any, split: Any, adapter_cls: type, shard: int, num_shards: int) -> dict:
    """The settings of ``settings`` that bind a run directory (see the module docstring)."""
    model = dataclasses.asdict(settings.model)
    if getattr(adapter_cls, "batch_invariant", False):
        model.pop("batch_size", None)
    data = {k: v for k, v in dataclasses.asdict(settings.data).items() if k not in _DATA_PATHS}
    name = model.pop("name")  # a registry name, never a file (even if one is called so)
    return {"model": {"name": name, **_by_content(model)},
            "data": {**data, "samples_sha256": split_digest(split)},
            "run": {"shard": shard, "num_shards": num_shards,
                    "sample_logs": bool(settings.run.sample_logs)}}


def _flat(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, dict) and set(tree) != {"sha256"}:
        out: dict[str, Any] = {}
        for key, value in tree.items():
            out.update(_flat(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: tree}


def first_difference(stored: dict, wanted: dict) -> str | None:
    """``"<setting>: <stored> in the run, <wanted> now"`` for the first differing setting."""
    old, new = _flat(stored), _flat(wanted)
    for key in [*old, *(k for k in new if k not in old)]:
        if old.get(key) != new.get(key):
            return f"{key} is {_show(old.get(key))} in the run, {_show(new.get(key))} now"
    return None


def _show(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"sha256"}:
        return f"a file with sha256 {value['sha256'][:12]}..."
    return json.dumps(value)


def check_binding(run_dir: Path, binding: dict) -> None:
    """Refuse to resume ``run_dir`` when its manifest holds another evaluation."""
    path = Path(run_dir) / "manifest.json"
    if not path.is_file():
        return
    try:
        stored = json.loads(path.read_text()).get("binding")
    except (OSError, ValueError, AttributeError):
        raise ConfigError(f"{path}: unreadable; this run directory cannot be resumed "
                          "(give another run.dir to start a fresh run)") from None
    if stored is None:
        return  # written before runs were bound; nothing to compare with
    if isinstance(stored.get("run"), dict) and "sample_logs" not in stored["run"]:
        # bound before sample logs were: not compared, so such runs still resume, but their
        # stored predictions carry no trace
        if binding["run"]["sample_logs"]:
            log.warning("%s: predicted before per-sample logs were kept with the records; its "
                        "samples predicted so far have no trace in sample_logs.jsonl", run_dir)
        stored = {**stored, "run": {**stored["run"], "sample_logs": binding["run"]["sample_logs"]}}
    difference = first_difference(stored, binding)
    if difference:
        raise ConfigError(f"{run_dir}: holds another evaluation ({difference}); rerun with the "
                          "run's settings to resume it, or give another run.dir for a fresh run")
