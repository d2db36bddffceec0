"""Data splits the runner can evaluate, by registry name (``data=<name>``).

A split is the list of samples plus what scoring needs beside them (GT normals folder,
lemma2groups). GRIT-format roots follow the layout documented in
``grit_eval.data.grit_reader``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grit_eval.errors import ConfigError, DataError
from grit_eval.datasets.sampling import take
from grit_eval.settings import DataSettings
from grit_eval.types import Sample


@dataclass(frozen=True)
class EvalSplit:
    """Samples of one split and the files that scoring reads beside them.

    Attributes:
        name: ``<dataset>/<subset>``, used in run directories and tables.
        subset: the GRIT subset name (ablation / test / train) or the dataset's split name.
        samples: in a fixed order (the order of the files), all tasks.
        gt_normals_dir: folder of ground-truth normal PNGs, when ground truth is present.
        lemma2groups: lemma -> concept groups, for the concept-group leaderboard keys.
        is_grit: True for GRIT-format data (official metrics and submission apply).
    """

    name: str
    subset: str
    samples: tuple[Sample, ...]
    gt_normals_dir: Path | None = None
    lemma2groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    is_grit: bool = True
    root: Path | None = None

    @property
    def has_ground_truth(self) -> bool:
        return any(s.target is not None for s in self.samples)

    def tasks(self) -> list[str]:
        return list(dict.fromkeys(s.task for s in self.samples))


def limit_samples(samples: list[Sample], limit: int | None, mode: str, seed: int) -> list[Sample]:
    """Keep ``limit`` samples per task (first N, or a seeded random N in file order).

    A ``_dist`` copy is kept exactly when its undistorted original is, so the dist/undist
    partitions stay paired.
    """
    if limit is None:
        return samples
    keep: set[tuple[str, str]] = set()
    for task in dict.fromkeys(s.task for s in samples):
        base_ids = [s.example_id for s in samples if s.task == task and not s.example_id.endswith("_dist")]
        keep.update((task, i) for i in take(base_ids, limit, mode, seed))
    return [s for s in samples if (s.task, s.example_id.removesuffix("_dist")) in keep]


def _grit_root_split(root: Path, settings: DataSettings, tasks: list[str], name: str) -> EvalSplit:
    from grit_eval.data.grit_reader import read_lemma2groups, read_split

    if not root.is_dir():
        raise DataError(f"{root}: data root does not exist (data.root)")
    samples = read_split(root, settings.subset, tasks)
    samples = limit_samples(samples, settings.limit, settings.limit_mode, settings.seed)
    normals = root / "ground_truth" / "normals"
    lemma2groups = root / "lemma2groups.json"
    return EvalSplit(
        name=f"{name}/{settings.subset}",
        subset=settings.subset,
        samples=tuple(samples),
        gt_normals_dir=normals if normals.is_dir() else None,
        lemma2groups=read_lemma2groups(lemma2groups) if lemma2groups.is_file() else {},
        root=root,
    )


def mini_grit_split(settings: DataSettings, tasks: list[str]) -> EvalSplit:
    """The bundled synthetic set, generated into a cache folder on first use."""
    from grit_eval.minigrit import ensure_minigrit

    cache = Path(settings.root) if settings.root else None
    root = ensure_minigrit(cache_dir=cache, seed=settings.seed)
    return _grit_root_split(root, settings, tasks, "mini_grit")


def grit_split(settings: DataSettings, tasks: list[str]) -> EvalSplit:
    """A real GRIT download (``data.root`` = the folder holding samples/, images/, ...)."""
    if not settings.root:
        raise ConfigError("data=grit needs data.root=/path/to/GRIT (the folder with samples/ and images/)")
    return _grit_root_split(Path(settings.root).expanduser(), settings, tasks, "grit")


def grit_examples_split(settings: DataSettings, tasks: list[str]) -> EvalSplit:
    """The 14 real-image examples shipped with the official scorer (official example layout).

    ``data.root`` is the folder holding ``samples.json`` and ``images/``.
    """
    from grit_eval.data.grit_reader import read_official_examples

    if not settings.root:
        raise ConfigError("data=grit_examples needs data.root=<folder with samples.json and images/>")
    root = Path(settings.root).expanduser()
    samples = [s for s in read_official_examples(root / "samples.json", root) if s.task in tasks]
    return EvalSplit(name="grit_examples/examples", subset="examples", samples=tuple(samples),
                     gt_normals_dir=root, root=root)


def load_split(settings: DataSettings, tasks: list[str]) -> EvalSplit:
    from grit_eval.registry import resolve

    return resolve("dataset", settings.name)(settings, tasks)


def describe(split: EvalSplit) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for s in split.samples:
        counts[s.task] = counts.get(s.task, 0) + 1
    return {"name": split.name, "samples_per_task": counts, "ground_truth": split.has_ground_truth}
