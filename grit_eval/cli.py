"""``grit-eval``: the Hydra app. The only module that sees Hydra/OmegaConf.

It validates the composed config against ``EvalSettings``, converts it once to plain
dataclasses, and hands over to ``grit_eval.run.runner.run_evaluation``.

Every mistake ends with one line ``grit-eval: error: ...`` and exit status 2 (Hydra's own
override errors included, with a "did you mean"; ``-v`` adds the full text); Ctrl-C and SIGTERM
end with "interrupted; rerun the same command to resume" (exit 130 / 143), the run's lock
released. A run that fails before writing anything leaves no directory behind.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import re
import signal
import sys
import traceback
from pathlib import Path

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException, MissingConfigException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from grit_eval.errors import GritEvalError, error_line
from grit_eval.settings import EvalSettings, cli_schema

PROG = "grit-eval"
VERBOSE_FLAGS = ("-v", "--verbose")
ConfigStore.instance().store(name="eval_schema", node=cli_schema())
# conf/config.yaml: the run directory is run.dir when given (so Hydra creates nothing else),
# and only multirun jobs get a .hydra/ folder (a job killed before its manifest shows FAILED).
OmegaConf.register_new_resolver("grit_eval_or", lambda value, default: value or default, replace=True)
OmegaConf.register_new_resolver("grit_eval_if_multirun", lambda mode, value: value if str(mode).endswith("MULTIRUN") else None,
                                replace=True)
log = logging.getLogger("grit_eval")


class Interrupted(BaseException):
    """SIGTERM (e.g. a SLURM preemption), raised where the process is so locks are released."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Interrupted()


@hydra.main(version_base="1.3", config_path="pkg://conf", config_name="config")
def _app(cfg: DictConfig) -> float | None:
    from grit_eval.run.runner import check_tasks, run_evaluation

    multirun = HydraConfig.get().mode == RunMode.MULTIRUN
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        settings: EvalSettings = OmegaConf.to_object(cfg)
        settings = dataclasses.replace(settings, tasks=check_tasks(settings.tasks))
        outcome = run_evaluation(settings, Path(settings.run.dir or run_dir))
    except (GritEvalError, OSError) as exc:
        if VERBOSE:
            traceback.print_exc()
        print(f"{PROG}: error: {error_line(exc)}", file=sys.stderr)
        if multirun:
            exc.reported = True  # type: ignore[attr-defined]
            raise  # Hydra records this job as FAILED and the sweep goes on
        _remove_if_empty(run_dir)
        sys.exit(2)  # not an exception: Hydra would add its own "Error executing job" line
    _print_summary(outcome)
    overall = (outcome.metrics or {}).get("overall.mean")
    return overall  # the sweeper's objective, where one is used


def _print_summary(outcome) -> None:
    """The run is finished and on disk: a closed stdout (``| head -1``) must not fail it."""
    try:
        print(f"\nrun directory: {outcome.run_dir}")
        if outcome.errors:
            print(f"{outcome.errors} prediction(s) failed; see the log and records")
        if outcome.leaderboard:
            print(outcome.leaderboard)
        sys.stdout.flush()
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's final flush does not fail either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _remove_if_empty(run_dir: Path) -> None:
    """Remove the run directory (and its empty parents below the working directory) when the
    run failed before writing anything: no phantom runs/<date>/... folders."""
    cwd = Path.cwd().resolve()
    path = run_dir.resolve()
    first = True
    while first or (path != cwd and path.is_relative_to(cwd)):
        try:
            path.rmdir()  # only ever removes an empty folder
        except OSError:
            return
        path, first = path.parent, False


def _setting_names() -> list[str]:
    """Every dotted setting name and config group, for "did you mean"."""
    names = ["model", "data", "prompts", "launcher", "tasks"]
    for section in dataclasses.fields(EvalSettings):
        default = section.default_factory() if callable(section.default_factory) else None
        if dataclasses.is_dataclass(default):
            names += [f"{section.name}.{f.name}" for f in dataclasses.fields(default)]
    return names


def hydra_error_line(exc: BaseException) -> str:
    """One line for a Hydra/OmegaConf composition error, with a "did you mean"."""
    from grit_eval.registry import suggest

    text = str(exc)
    missing = re.search(r"Could not find '([^']+)'", text)
    if isinstance(exc, MissingConfigException) and missing and exc.options:
        group, _, name = missing.group(1).rpartition("/")
        return f"{group}={name}: no such {group}.{suggest(name, list(exc.options))}"
    if text.startswith("Could not override '"):
        key = text.split("'")[1]
        hint = suggest(key, _setting_names()).split(" Known:")[0]
        return f"{key}: no such setting.{hint} (to add a key anyway: +{key}=...)"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if lines and lines[0].startswith("Error merging override"):
        cause = str(exc.__cause__ or "").strip().splitlines() or lines[1:2]
        return f"{lines[0].removeprefix('Error merging override').strip()}: {cause[0] if cause else 'invalid'}"
    return " ".join(lines[:2]) or type(exc).__name__


VERBOSE = False


def _raised_by_hydra(exc: BaseException) -> bool:
    """Whether Hydra itself raised ``exc`` (its command-line checks raise plain ValueErrors)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and f"{os.sep}hydra{os.sep}" in frames[-1].filename


def _model_presets() -> set[str]:
    from importlib.resources import files

    return {entry.name[:-len(".yaml")] for entry in files("conf").joinpath("model").iterdir()
            if entry.name.endswith(".yaml")}


def adapter_overrides(args: list[str]) -> list[str]:
    """``model=pkg.module:Class`` or ``model=<entry point>``: not presets (conf/model/), so the
    value names the adapter (``model.name=...``) on the default preset's settings."""
    presets = _model_presets()
    out = []
    for arg in args:
        key, eq, value = arg.partition("=")
        if key == "model" and eq and value and not set(value.split(",")) & presets:
            arg = f"model.name={value}"
        out.append(arg)
    return out


def main() -> None:
    global VERBOSE
    verbose = VERBOSE = any(arg in VERBOSE_FLAGS for arg in sys.argv[1:])
    sys.argv = [sys.argv[0], *adapter_overrides([a for a in sys.argv[1:] if a not in VERBOSE_FLAGS])]
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra re-raises; we report (below)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        _app()
    except (KeyboardInterrupt, Interrupted) as exc:
        print(f"{PROG}: error: interrupted; rerun the same command to resume", file=sys.stderr)
        sys.exit(130 if isinstance(exc, KeyboardInterrupt) else 128 + signal.SIGTERM)
    except ValueError as exc:
        if not _raised_by_hydra(exc):
            raise  # a bug of ours: keep the traceback
        if verbose:
            traceback.print_exc()
        print(f"{PROG}: error: {' '.join(str(exc).split())}", file=sys.stderr)  # e.g. -m with --cfg
        sys.exit(2)
    except (GritEvalError, OSError, HydraException, OmegaConfBaseException) as exc:
        if verbose:
            traceback.print_exc()
        hydra_error = isinstance(exc, (HydraException, OmegaConfBaseException))
        line = hydra_error_line(exc) if hydra_error else error_line(exc)
        if not getattr(exc, "reported", False):
            print(f"{PROG}: error: {line}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
