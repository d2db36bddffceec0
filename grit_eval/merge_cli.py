"""``grit-eval-merge SHARD_DIR... --out RUN_DIR``: merge sharded runs, check coverage, score.

Each shard (``run.shard=k run.num_shards=n``, or a SLURM array) wrote its own prediction store.
The merge checks that the shards are the n shards of ONE evaluation (same model, data and tasks
settings; every k in 0..n-1 exactly once), that every sample of the split was predicted exactly
once, then writes a normal run directory (store, submission, records, metrics, leaderboard)
exactly as an unsharded run would: corpus metrics are computed only after the merge.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Sequence

from grit_eval.errors import OneLineArgumentParser

PROG = "grit-eval-merge"


def _manifests(dirs: Sequence[Path]) -> list[dict]:
    from grit_eval.errors import StoreError

    out = []
    for d in dirs:
        path = d / "manifest.json"
        if not path.is_file():
            raise StoreError(f"{path}: not found; is {d} a grit-eval run directory?")
        try:
            manifest = json.loads(path.read_text())
        except ValueError:
            raise StoreError(f"{path}: not valid JSON; is {d} a grit-eval run directory?") from None
        if manifest.get("status") != "finished":
            raise StoreError(f"{d}: the shard has not finished (status {manifest.get('status')!r}); rerun it first")
        out.append(manifest)
    return out


def _check_shards(dirs: Sequence[Path], manifests: list[dict]) -> None:
    from grit_eval.errors import StoreError

    n_values = {m.get("num_shards") for m in manifests}
    if len(n_values) != 1:
        raise StoreError(f"the runs disagree on the number of shards: {sorted(map(str, n_values))}")
    n = n_values.pop()
    seen: dict[int, Path] = {}
    for d, m in zip(dirs, manifests):
        k = m.get("shard")
        if k in seen:
            raise StoreError(f"shard {k} of {n} appears twice: {seen[k]} and {d}")
        seen[k] = d
    missing = [k for k in range(n) if k not in seen]
    if missing:
        raise StoreError(f"shard(s) {missing} of {n} are missing; got {sorted(seen)}")
    def identity(m: dict) -> dict:
        config = json.loads(json.dumps(m["config"]))
        config["run"] = {k: v for k, v in config["run"].items() if k not in ("dir", "shard", "num_shards", "progress", "break_lock")}
        return config
    first = identity(manifests[0])
    for d, m in zip(dirs[1:], manifests[1:]):
        difference = None
        if "binding" in m and "binding" in manifests[0]:  # files compared by content
            from grit_eval.run.binding import first_difference

            difference = first_difference(merged_binding(manifests[0]), merged_binding(m))
        if difference or identity(m) != first:
            raise StoreError(f"{d}: its settings differ from {dirs[0]}'s ({difference or 'config'}); "
                             "shards must come from one evaluation")


def merged_binding(manifest: dict) -> dict | None:
    """A shard's binding as the merged run's (shard 0 of 1); None for older shards."""
    binding = manifest.get("binding")
    return None if binding is None else {**binding, "run": {**binding["run"], "shard": 0, "num_shards": 1}}


def merge(dirs: Sequence[Path], out: Path, break_lock: bool = False) -> Path:
    from grit_eval.errors import StoreError
    from grit_eval.run.lock import RunLock
    from grit_eval.run.manifest import now_iso, write_manifest
    from grit_eval.run.runner import finalize
    from grit_eval.run.atomic import write_bytes_atomic
    from grit_eval.run.sample_logs import SampleLog, file_references, is_log_file_name
    from grit_eval.run.store import PredictionStore
    from grit_eval.settings import settings_from_dict
    from grit_eval.splits import describe, load_split

    dirs = [Path(d) for d in dirs]
    for d in dirs:
        if d.resolve() == Path(out).resolve():
            raise StoreError(f"--out {out} is one of the shards; merge into a new run directory")
    if Path(out).exists() and not Path(out).is_dir():
        raise StoreError(f"--out {out}: exists and is not a directory")
    manifests = _manifests(dirs)
    _check_shards(dirs, manifests)
    settings = settings_from_dict(manifests[0]["config"])
    settings = dataclasses.replace(settings, run=dataclasses.replace(settings.run, dir=str(out), shard=None, num_shards=None))
    tasks = manifests[0].get("run_tasks") or settings.tasks
    binding = merged_binding(manifests[0])
    with RunLock(out, force=break_lock, override="--break-lock"):
        if binding is not None:
            from grit_eval.run.binding import check_binding

            check_binding(out, binding)
        split = load_split(settings.data, list(settings.tasks))
        stores = [PredictionStore(d / "predictions" / split.subset, strict=True) for d in dirs]
        merged = PredictionStore(out / "predictions" / split.subset)
        problems, batches = [], {}
        for task in tasks:
            by_shard = [s.load(task) for s in stores]
            batches[task] = []
            for sample in (s for s in split.samples if s.task == task):
                holders = [i for i, preds in enumerate(by_shard) if sample.example_id in preds]
                if len(holders) != 1:
                    where = ", ".join(str(dirs[i]) for i in holders) or "no shard"
                    problems.append(f"{task} {sample.example_id}: predicted by {where}")
                    continue
                batches[task].append((holders[0], by_shard[holders[0]][sample.example_id]))
        if problems:
            shown = "; ".join(problems[:5]) + ("; ..." if len(problems) > 5 else "")
            raise StoreError(f"the shards do not cover the split exactly once ({len(problems)} problem(s)): {shown}")
        for task, items in batches.items():
            done = merged.load(task)  # a rerun of the merge appends only what is missing
            pending = [(i, p) for i, p in items if p.example_id not in done]
            for i, p in pending:  # the per-sample log's array files, before the lines naming them
                for name in file_references(p.trace):
                    if not is_log_file_name(name):
                        raise StoreError(f"{dirs[i]}: {task} {p.example_id}: its sample log refers "
                                         f"to {name!r}, no file inside sample_logs/")
                    write_bytes_atomic(out / name, _read_artifact(dirs[i] / name, p))
            new = [dataclasses.replace(p, artifacts={n: _read_artifact(stores[i].artifact_dir / n, p)
                                                     for n in _artifact_names(p)})
                   for i, p in pending]
            if new:
                merged.append(task, new)
        SampleLog(out, split.subset, settings.run.sample_logs).finalize(
            split.samples, {t: merged.load(t) for t in tasks})
        params = int(manifests[0].get("params_in_millions") or 0)
        finalize(out, split, merged, list(tasks), params, settings)
        write_manifest(out, settings, {"split": describe(split), "finished": now_iso(), "status": "finished",
                                       "merged_from": [str(d) for d in dirs], "run_tasks": list(tasks),
                                       "params_in_millions": params, "shard": 0, "num_shards": 1,
                                       **({"binding": binding} if binding is not None else {})})
    return out


def _read_artifact(path: Path, prediction) -> bytes:
    from grit_eval.errors import StoreError

    try:
        return path.read_bytes()
    except OSError as err:
        raise StoreError(f"{path}: {prediction.example_id}: the shard's artifact cannot be read "
                         f"({err.strerror or err}); rerun that shard to predict it again") from None


def _artifact_names(prediction) -> list[str]:
    name = prediction.output.get("normal") or prediction.output.get("depth")
    return [name] if prediction.error is None and isinstance(name, str) else []


def main(argv: Sequence[str] | None = None) -> int:
    parser = OneLineArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("shards", nargs="+", type=Path, help="run directories of the shards")
    parser.add_argument("--out", type=Path, required=True, help="the merged run directory")
    parser.add_argument("--break-lock", action="store_true",
                        help="take --out's lock over whoever holds it (its owner is known to be gone)")
    args = parser.parse_args(argv)
    from grit_eval.errors import GritEvalError, error_line

    created = not args.out.exists()
    try:
        out = merge(args.shards, args.out, args.break_lock)
    except KeyboardInterrupt:
        print(f"{PROG}: error: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except (GritEvalError, OSError) as exc:
        print(f"{PROG}: error: {error_line(exc)}", file=sys.stderr)
        if created and args.out.is_dir() and not any(args.out.iterdir()):
            args.out.rmdir()  # refused before writing: leave nothing behind
        return 2
    print(f"{PROG}: merged {len(args.shards)} shards into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
