"""``grit-eval``: the Hydra app. The only module that sees Hydra/OmegaConf.

It validates the composed config against ``EvalSettings``, converts it once to plain
dataclasses, and hands over to ``grit_eval.run.runner.run_evaluation``.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from grit_eval.errors import GritEvalError
from grit_eval.settings import EvalSettings

ConfigStore.instance().store(name="eval_schema", node=EvalSettings)
log = logging.getLogger("grit_eval")


@hydra.main(version_base="1.3", config_path="pkg://conf", config_name="config")
def _app(cfg: DictConfig) -> float | None:
    from grit_eval.run.runner import run_evaluation

    settings: EvalSettings = OmegaConf.to_object(cfg)
    run_dir = Path(settings.run.dir or HydraConfig.get().runtime.output_dir)
    try:
        outcome = run_evaluation(settings, run_dir)
    except GritEvalError as exc:
        print(f"grit-eval: error: {exc}", file=sys.stderr)
        if HydraConfig.get().mode == RunMode.MULTIRUN:
            raise  # Hydra records this job as FAILED and the sweep goes on
        sys.exit(2)
    print(f"\nrun directory: {outcome.run_dir}")
    if outcome.errors:
        print(f"{outcome.errors} prediction(s) failed; see the log and records")
    if outcome.leaderboard:
        print(outcome.leaderboard)
    overall = (outcome.metrics or {}).get("overall.mean")
    return overall  # the sweeper's objective, where one is used


def main() -> None:
    _app()


if __name__ == "__main__":
    main()
