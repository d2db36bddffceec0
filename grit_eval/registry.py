"""The one registry table: short names -> ``"module:attr"``, resolved lazily.

Model adapters may also come from anywhere (``resolve_adapter``): an import string
``package.module:Class`` or the name of an entry point in the ``grit_eval.adapters`` group
of an installed package, next to the built-in short names below.

Nothing registers itself by decorator or import side effect: if a name is not in this table
it does not exist, and resolving a name imports only the module it points to (so
``grit-eval --help`` never imports jax). Unknown names get a "did you mean" suggestion.
"""
from __future__ import annotations

import difflib
import importlib
from typing import Any

from grit_eval.errors import ConfigError
from grit_eval.types import TASKS

REGISTRY: dict[str, dict[str, str]] = {
    # Model adapters (ModelAdapter protocol); each class has ``from_settings(settings, split)``.
    "adapter": {
        "prior": "model_adapters.prior:PriorAdapter",
        "oracle": "model_adapters.oracle:OracleAdapter",
        "replay": "grit_eval.submission.replay:ReplayAdapter",
        "unified_io": "model_adapters.unified_io.adapter:UnifiedIOAdapter",
        "unified_io_2": "model_adapters.unified_io_2.adapter:UnifiedIO2Adapter",
    },
    # Data splits: functions ``(settings) -> EvalSplit``.
    "dataset": {
        "mini_grit": "grit_eval.splits:mini_grit_split",
        "grit": "grit_eval.splits:grit_split",
        "grit_examples": "grit_eval.splits:grit_examples_split",
        # Per-dataset splits in their native formats (is_grit=False; grit_eval.dataset_splits).
        "refcoco": "grit_eval.dataset_splits:refcoco_split",
        "refcoco+": "grit_eval.dataset_splits:refcoco_split",
        "refcocog": "grit_eval.dataset_splits:refcoco_split",
        "coco_keypoints": "grit_eval.dataset_splits:coco_keypoints_split",
        "coco_captions": "grit_eval.dataset_splits:coco_captions_split",
        "coco_karpathy": "grit_eval.dataset_splits:coco_karpathy_split",
        "nocaps": "grit_eval.dataset_splits:nocaps_split",
        "vqav2": "grit_eval.dataset_splits:vqav2_split",
        "okvqa": "grit_eval.dataset_splits:okvqa_split",
        "vizwiz": "grit_eval.dataset_splits:vizwiz_split",
        "aokvqa": "grit_eval.dataset_splits:aokvqa_split",
        "nyuv2_depth": "grit_eval.dataset_splits:nyuv2_depth_split",
        "nyuv2_normal": "grit_eval.dataset_splits:nyuv2_normal_split",
        "imagenet": "grit_eval.dataset_splits:classification_split",
        "places365": "grit_eval.dataset_splits:classification_split",
    },
    # Per-task scoring functions, read from the task table (grit_eval.types.TASKS):
    # GRIT per-sample metrics ``(prediction output, ground truth, ...) -> score`` and the
    # per-dataset split scorers ``(samples, predictions, artifact_dir) -> (metrics, rows)``.
    "metric": {task: spec.grit_metric for task, spec in TASKS.items() if spec.grit_metric},
    "dataset_scorer": {task: spec.dataset_scorer for task, spec in TASKS.items() if spec.dataset_scorer},
}


def names(kind: str) -> list[str]:
    return sorted(_table(kind))


def _table(kind: str) -> dict[str, str]:
    if kind not in REGISTRY:
        raise ConfigError(f"unknown registry kind {kind!r}; kinds: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[kind]


def suggest(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"{hint} Known: {', '.join(sorted(choices))}."


def resolve(kind: str, name: str) -> Any:
    """The object registered as ``name`` under ``kind``, imported on first use."""
    table = _table(kind)
    if name not in table:
        raise ConfigError(f"unknown {kind} {name!r}.{suggest(name, list(table))}")
    module_name, attr = table[name].split(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr)


ADAPTER_ENTRY_POINT_GROUP = "grit_eval.adapters"


def _adapter_entry_points() -> dict[str, Any]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=ADAPTER_ENTRY_POINT_GROUP)}


def _import_string(spec: str) -> Any:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"model.name={spec!r}: an import string is 'package.module:Class'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"model.name={spec!r}: cannot import {module_name!r} ({exc})") from None
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"model.name={spec!r}: {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def resolve_adapter(name: str) -> Any:
    """The adapter class named ``name``: a built-in short name, an import string
    (``pkg.module:Class``) or an installed ``grit_eval.adapters`` entry point, in that order.
    Imports only what it names."""
    if name in REGISTRY["adapter"]:
        return resolve("adapter", name)
    if ":" in name:
        adapter = _import_string(name)
    else:
        installed = _adapter_entry_points()
        if name not in installed:
            raise ConfigError(f"unknown adapter {name!r}.{suggest(name, [*REGISTRY['adapter'], *installed])}"
                              f" (or an installed {ADAPTER_ENTRY_POINT_GROUP} entry point, or "
                              f"'pkg.module:Class')")
        try:
            adapter = installed[name].load()
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"adapter {name!r}: its entry point {installed[name].value!r} "
                              f"does not load ({exc})") from None
    if not callable(getattr(adapter, "from_settings", None)):
        raise ConfigError(f"adapter {name!r} has no from_settings(settings, split) classmethod")
    return adapter
