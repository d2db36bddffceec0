"""Read GRIT files into ``grit_eval.types.Sample``.

Three schemas (GRIT_SPEC.md 1.1-1.2):

* public samples (``GRIT/samples/<subset>/<task>.json``): a list of
  ``{example_id, image_id, task_name, task_query, task_bbox, output_options}``;
* hidden ground truth (what the official ``evaluate.py`` reads from
  ``--grit_samples_dir/<subset>/<task>.json``): a list of ``{input, output, meta}``;
* the official example layout (``data/examples/samples.json``):
  ``{task: [{input: {image_path, ...}, gt: {...}, src}]}``.

On-disk layout of a GRIT-format data root (mini-GRIT writes exactly this)::

    <root>/samples/<subset>/<task>.json          public samples (official schema)
    <root>/ground_truth/<subset>/<task>.json     ground truth {input, output, meta}
                                                 (absent for real GRIT ablation/test)
    <root>/ground_truth/normals/<out_image_name> GT normal PNGs
    <root>/images/<image_id>
    <root>/output_options/<name>.json            a JSON list of candidate strings
    <root>/lemma2groups.json                     lemma -> concept groups

``<root>/ground_truth`` is exactly the official ``--grit_samples_dir`` and
``<root>/ground_truth/normals`` its ``--grit_normals_dir``.

Conventions: ``Sample.target`` is the GT ``output`` block (its ``out_image_name`` stays
relative to the normals folder, except in the example layout, where it is resolved to an
absolute path); meta flags not given are None, which the leaderboard treats as False, as the
official code's truthiness tests do. Every malformed file raises ``DataError`` naming the
file, the example id and the problem.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable, Mapping

from grit_eval.data.fields import is_number, target_field_problem
from grit_eval.errors import DataError
from grit_eval.types import GRIT_TASKS, Sample, SampleMeta

# The GT output field each task carries (normal GT names a PNG, the prediction a file too).
TARGET_FIELD: Mapping[str, str] = {
    "categorization": "words",
    "vqa": "words",
    "localization": "bboxes",
    "refexp": "bboxes",
    "segmentation": "masks",
    "keypoint": "points",
    "normal": "out_image_name",
}
# Prefix of image paths in the official example layout; it stands for the examples folder.
EXAMPLES_PREFIX = "examples/"


def load_json(path: Path) -> Any:
    """Parse a JSON file; a missing or unparsable file is a ``DataError`` naming it."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: not valid JSON ({err})") from None
    except RecursionError:
        raise DataError(f"{path}: not valid JSON (nested too deeply)") from None


def _entries(path: Path, data: Any) -> list[dict]:
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise DataError(f"{path}: expected a JSON list of objects")
    return data


def _fail(path: Path, example_id: Any, problem: str) -> DataError:
    return DataError(f"{path}: {example_id}: {problem}")


def _unique(path: Path, samples: list[Sample]) -> list[Sample]:
    """``samples``, or an error naming the first example id the file holds twice."""
    seen: set[str] = set()
    for sample in samples:
        if sample.example_id in seen:
            raise _fail(path, sample.example_id, "duplicated example id")
        seen.add(sample.example_id)
    return samples


def _bbox(path: Path, example_id: str, value: Any) -> tuple[float, ...] | None:
    if value is None:
        return None
    if not (isinstance(value, list) and len(value) == 4 and all(is_number(v) for v in value)):
        raise _fail(path, example_id, f"task_bbox must be [x1, y1, x2, y2], got {value!r}")
    return tuple(value)


def _optional_str(path: Path, example_id: str, name: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise _fail(path, example_id, f"{name} must be a str or null, got {type(value).__name__}")
    return value


class OptionsCache:
    """Candidate-answer lists ``<options_root>/<name>.json``, each read once."""

    def __init__(self, options_root: Path | None):
        self.root = None if options_root is None else Path(options_root)
        self._cache: dict[str, tuple[str, ...]] = {}

    def get(self, path: Path, example_id: str, name: str | None) -> tuple[str, ...] | None:
        """The options named ``name`` (None when no name, or no options folder was given)."""
        if name is None or self.root is None:
            return None
        if name not in self._cache:
            options_path = self.root / f"{name}.json"
            if not options_path.is_file():
                raise _fail(path, example_id, f"output_options file {options_path} not found")
            options = load_json(options_path)
            if not (isinstance(options, list) and all(isinstance(o, str) for o in options)):
                raise DataError(f"{options_path}: expected a JSON list of strings")
            self._cache[name] = tuple(options)
        return self._cache[name]


def read_public_samples(
    path: Path, task: str, images_root: Path, options: OptionsCache | Path | None = None
) -> list[Sample]:
    """Read a public samples file (no ground truth; ``target`` is None).

    Args:
        path: ``<root>/samples/<subset>/<task>.json``.
        task: the task the file holds; every entry's ``task_name`` must equal it.
        images_root: folder that ``image_id`` is relative to.
        options: an ``OptionsCache`` or the output-options folder (None: options not resolved).
    """
    path = Path(path)
    cache = options if isinstance(options, OptionsCache) else OptionsCache(options)
    samples = []
    for i, entry in enumerate(_entries(path, load_json(path))):
        example_id = entry.get("example_id")
        if not isinstance(example_id, str):
            raise _fail(path, f"entry {i}", "example_id must be a str")
        image_id = entry.get("image_id")
        if not isinstance(image_id, str):
            raise _fail(path, example_id, "image_id must be a str")
        if entry.get("task_name") != task:
            raise _fail(path, example_id, f"task_name is {entry.get('task_name')!r}, expected {task!r}")
        options_name = _optional_str(path, example_id, "output_options", entry.get("output_options"))
        samples.append(
            Sample(
                example_id=example_id,
                task=task,
                image_path=str(Path(images_root) / image_id),
                task_query=_optional_str(path, example_id, "task_query", entry.get("task_query")),
                task_bbox=_bbox(path, example_id, entry.get("task_bbox")),
                output_options=cache.get(path, example_id, options_name),
            )
        )
    return _unique(path, samples)


def _meta(path: Path, example_id: str, meta: Any) -> SampleMeta:
    if not isinstance(meta, dict):
        raise _fail(path, example_id, "meta must be an object")
    flags = {}
    for name in ("is_new_source", "has_new_concept", "is_distorted"):
        value = meta.get(name)
        if value is not None and not isinstance(value, bool):
            raise _fail(path, example_id, f"meta.{name} must be true, false or absent, got {value!r}")
        flags[name] = value
    concepts = meta.get("concepts", [])
    if not (isinstance(concepts, list) and all(
        isinstance(c, dict) and isinstance(c.get("lemma"), str) for c in concepts
    )):
        raise _fail(path, example_id, "meta.concepts must be a list of {lemma: str, ...}")
    source = _optional_str(path, example_id, "meta.data_source", meta.get("data_source"))
    return SampleMeta(data_source=source, lemmas=tuple(c["lemma"] for c in concepts), **flags)


def _target(path: Path, example_id: str, task: str, output: Any) -> dict:
    if not isinstance(output, dict):
        raise _fail(path, example_id, "output must be an object")
    field = TARGET_FIELD[task]
    if field not in output:
        raise _fail(path, example_id, f"output has no '{field}' field")
    problem = target_field_problem(field, output[field])
    if problem:
        raise _fail(path, example_id, problem)
    if not isinstance(output.get("example_id", example_id), str):
        raise _fail(path, example_id, "output.example_id must be a str")
    # The official scorer looks predictions up by output.example_id; it defaults to the input id.
    return {**output, "example_id": output.get("example_id", example_id)}


def read_ground_truth(path: Path, task: str | None = None, images_root: Path | None = None) -> list[Sample]:
    """Read a hidden-schema ground-truth file (``{input, output, meta}`` per sample).

    Args:
        path: ``<grit_samples_dir>/<subset>/<task>.json``.
        task: the task; default: the file name's stem.
        images_root: resolves ``input.image_id`` when present (else ``image_path`` is "").

    Returns:
        Samples with ``target`` = the ``output`` block, ``meta`` and ``gt_query`` set.
    """
    path = Path(path)
    task = task or path.stem
    if task not in TARGET_FIELD:
        raise DataError(f"{path}: unknown GRIT task {task!r}")
    samples = []
    for i, entry in enumerate(_entries(path, load_json(path))):
        inputs = entry.get("input")
        if not isinstance(inputs, dict) or not isinstance(inputs.get("example_id"), str):
            raise _fail(path, f"entry {i}", "input.example_id must be a str")
        example_id = inputs["example_id"]
        query = _optional_str(path, example_id, "input.task_query", inputs.get("task_query"))
        image_id = inputs.get("image_id")
        image_path = str(Path(images_root) / image_id) if image_id and images_root else ""
        samples.append(
            Sample(
                example_id=example_id,
                task=task,
                image_path=image_path,
                task_query=query,
                task_bbox=_bbox(path, example_id, inputs.get("task_bbox")),
                target=_target(path, example_id, task, entry.get("output")),
                meta=_meta(path, example_id, entry.get("meta")),
                gt_query=query,
            )
        )
    return _unique(path, samples)


def _merge(public: list[Sample], truth: list[Sample], gt_path: Path) -> list[Sample]:
    """Public samples with their GT target/meta/gt_query; both files must hold the same ids."""
    by_id = {s.example_id: s for s in truth}
    merged = []
    for sample in public:
        gt = by_id.pop(sample.example_id, None)
        if gt is None:
            raise _fail(gt_path, sample.example_id, "no ground truth for this public sample")
        merged.append(replace(sample, target=gt.target, meta=gt.meta, gt_query=gt.gt_query))
    if by_id:
        raise _fail(gt_path, next(iter(by_id)), "ground truth for an id not in the public samples")
    return merged


def read_split(root: Path, subset: str, tasks: Iterable[str] = GRIT_TASKS) -> list[Sample]:
    """Read one subset of a GRIT-format data root (layout in the module docstring).

    Public samples are read when present, with the ground truth merged in when that file
    exists; a task with only ground truth is read from it alone.

    Returns:
        Samples of every task, in task then file order.
    """
    root = Path(root)
    options = OptionsCache(root / "output_options")
    samples: list[Sample] = []
    for task in tasks:
        if task not in TARGET_FIELD:
            raise DataError(f"{root}: unknown GRIT task {task!r}")
        public_path = root / "samples" / subset / f"{task}.json"
        gt_path = root / "ground_truth" / subset / f"{task}.json"
        truth = read_ground_truth(gt_path, task, root / "images") if gt_path.is_file() else None
        if public_path.is_file():
            public = read_public_samples(public_path, task, root / "images", options)
            samples.extend(public if truth is None else _merge(public, truth, gt_path))
        elif truth is not None:
            samples.extend(truth)
        else:
            raise DataError(f"{public_path}: file not found (nor {gt_path})")
    return samples


def read_lemma2groups(path: Path) -> dict[str, tuple[str, ...]]:
    """Read ``lemma2groups.json`` (lemma -> list of concept-group names)."""
    data = load_json(Path(path))
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a JSON object lemma -> list of groups")
    for lemma, groups in data.items():
        if not (isinstance(groups, list) and all(isinstance(g, str) for g in groups)):
            raise DataError(f"{path}: {lemma}: groups must be a list of str")
    return {lemma: tuple(groups) for lemma, groups in data.items()}


def read_official_examples(
    samples_json: Path, images_root: Path, options_root: Path | None = None
) -> list[Sample]:
    """Read the official example layout ``{task: [{input, gt, src}]}``.

    Example ids are not given there: they become ``<task>_<i>`` (0-based, file order). Image
    paths (and normal GT ``out_image_name``) start with ``examples/``, which stands for
    ``images_root``'s parent layout: the prefix is dropped and the rest is joined to
    ``images_root``. Meta defaults: ``data_source`` = ``src``, every flag False, no lemmas.
    Output options are resolved only when ``options_root`` is given.
    """
    path = Path(samples_json)
    data = load_json(path)
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a JSON object task -> list of examples")
    cache = OptionsCache(options_root)
    samples = []
    for task, entries in data.items():
        if task not in TARGET_FIELD:
            raise DataError(f"{path}: unknown GRIT task {task!r}")
        for i, entry in enumerate(_entries(path, entries)):
            example_id = f"{task}_{i}"
            inputs, gt = entry.get("input"), entry.get("gt")
            if not isinstance(inputs, dict) or not isinstance(inputs.get("image_path"), str):
                raise _fail(path, example_id, "input.image_path must be a str")
            target = {k: v for k, v in (gt or {}).items() if v is not None}
            if "out_image_name" in target:
                target["out_image_name"] = str(_example_path(images_root, target["out_image_name"]))
            query = _optional_str(path, example_id, "task_query", inputs.get("task_query"))
            samples.append(
                Sample(
                    example_id=example_id,
                    task=task,
                    image_path=str(_example_path(images_root, inputs["image_path"])),
                    task_query=query,
                    task_bbox=_bbox(path, example_id, inputs.get("task_bbox")),
                    output_options=cache.get(path, example_id, inputs.get("output_options")),
                    target=_target(path, example_id, task, target),
                    meta=SampleMeta(data_source=entry.get("src"), is_new_source=False,
                                    has_new_concept=False, is_distorted=False),
                    gt_query=query,
                )
            )
    return samples


def _example_path(images_root: Path, relative: str) -> Path:
    """``examples/images/x.png`` -> ``<images_root>/images/x.png``."""
    if relative.startswith(EXAMPLES_PREFIX):
        relative = relative[len(EXAMPLES_PREFIX):]
    return Path(images_root) / relative
