"""Plain typed settings of a run. The Hydra CLI validates YAML against these dataclasses
(structured configs) and converts once; nothing below the CLI sees OmegaConf.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from grit_eval.types import GRIT_TASKS, TASKS


@dataclass
class ModelSettings:
    """Which adapter to run (a preset, an entry point name or `pkg.module:Class`) and its settings.

    `prompts` and `options` an adapter does not declare (``accepts_prompts``, ``options_class``)
    are refused (grit_eval.run.runner.check_adapter_settings), and so are the fields below that
    only some models have (size, checkpoint, tokenizer, dtype, seed, predictions) when set on an
    adapter whose ``reads_settings`` does not name them."""

    name: str = "prior"
    size: Optional[str] = None  # unified_io: tiny | small | base | large | xl
    checkpoint: Optional[str] = None  # unified_io: path of a released .bin, or "random"
    tokenizer: Optional[str] = None  # unified_io: path of the T5 spiece.model
    dtype: str = "float32"
    batch_size: int = 8
    seed: int = 0
    predictions: Optional[str] = None  # replay: a submission zip or folder
    params_in_millions: Optional[int] = None  # overrides the adapter's own count
    # task -> template (prompt studies). The CLI's schema declares every task's key (None: the
    # adapter's own prompt), so `model.prompts.<task>=...` needs no `+`; the runner drops Nones.
    prompts: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)  # adapter-specific extras


@dataclass
class DataSettings:
    """Which split to evaluate."""

    name: str = "mini_grit"
    subset: str = "ablation"
    root: Optional[str] = None  # grit: the GRIT download root; mini_grit: cache folder
    seed: int = 0  # mini_grit generator seed; seed of `limit_mode=random`
    limit: Optional[int] = None  # take only N samples per task
    limit_mode: str = "first"  # first | random
    # Per-dataset splits (grit_eval.dataset_splits; conf/data/<dataset>.yaml shows each layout).
    # None means "the dataset's default", usually a path under `root` named after `split`.
    split: Optional[str] = None  # the dataset's own split name: val2014, testA, test, ...
    split_by: Optional[str] = None  # refcoco family: unc | umd | google
    annotations: Optional[str] = None  # annotation / label file (JSON, CSV or txt)
    questions: Optional[str] = None  # VQAv2 / OK-VQA questions JSON
    images: Optional[str] = None  # image folder (classification: the class-folder tree)
    classes: Optional[str] = None  # classification: class-name list file
    vqa_rule: Optional[str] = None  # vqav2 / okvqa / vizwiz: official (default) | legacy


@dataclass
class RunSettings:
    """Where and how the run happens."""

    dir: Optional[str] = None  # run directory; default: Hydra's job output directory
    progress: bool = True
    zip_submission: bool = True
    # Shard k of n of the split (also read from SLURM array variables); a sharded run only
    # predicts; `grit-eval-merge` then merges the shards and scores.
    shard: Optional[int] = None
    num_shards: Optional[int] = None
    # Take the run directory's lock over whoever holds it (after a crash the lock could not be
    # proven stale, e.g. a process on another host that is known to be gone).
    break_lock: bool = False
    # Per-sample logs (sample_logs.jsonl beside records.jsonl): rendered prompt, raw and
    # post-processed output of every prediction.
    sample_logs: bool = True


@dataclass
class EvalSettings:
    model: ModelSettings = field(default_factory=ModelSettings)
    data: DataSettings = field(default_factory=DataSettings)
    # A list, one name, "a,b" or "all" on the command line; the CLI makes it a list of names.
    tasks: Any = field(default_factory=lambda: list(GRIT_TASKS))
    run: RunSettings = field(default_factory=RunSettings)


def settings_from_dict(config: dict[str, Any]) -> EvalSettings:
    """Rebuild settings from a run manifest's ``config`` (the inverse of dataclasses.asdict)."""
    return EvalSettings(
        model=ModelSettings(**config["model"]),
        data=DataSettings(**config["data"]),
        tasks=list(config["tasks"]),
        run=RunSettings(**config["run"]),
    )


def cli_schema() -> EvalSettings:
    """The defaults the command line validates against: every task's prompt key is declared."""
    return EvalSettings(model=ModelSettings(prompts={task: None for task in TASKS}))
