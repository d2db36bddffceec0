"""Per-dataset splits (``data=<dataset>``): the native-format readers behind ``EvalSplit``.

Each builder takes the run's ``DataSettings`` and returns an ``EvalSplit`` with
``is_grit=False`` named ``<dataset>/<split>``. Paths come from the settings; any path left
None defaults to the dataset's native layout under ``data.root`` (the list below; every
``conf/data/<dataset>.yaml`` repeats it in its comments):

* refcoco / refcoco+ / refcocog (split val): ``refs(<split_by>).p``, ``instances.json``;
  ``data.images`` = the COCO train2014 folder;
* coco_keypoints (val2017): ``annotations/person_keypoints_<split>.json``, ``<split>/``;
* coco_captions (val2014): ``annotations/captions_<split>.json``, ``<split>/``;
* coco_karpathy (test): ``dataset_coco.json``, ``train2014/``, ``val2014/``;
* nocaps (val): ``nocaps_<split>_4500_captions.json``, ``<split>/``;
* vqav2 (val2014): ``v2_OpenEnded_mscoco_<split>_questions.json``,
  ``v2_mscoco_<split>_annotations.json``, ``<split>/``;
* okvqa (val2014): ``OpenEnded_mscoco_<split>_questions.json``,
  ``mscoco_<split>_annotations.json``, ``<split>/``;
* vizwiz (val): ``Annotations/<split>.json``, ``<split>/``;
* aokvqa (val): ``aokvqa_v1p0_<split>.json``, ``<split>2017/``;
* nyuv2_depth / nyuv2_normal (test): ``<split>.txt``, ``rgb/``, ``depth/``, ``normal/``;
* imagenet / places365 (val): a ``<split>/<class>/<image>`` tree, or ``data.annotations`` =
  an image/label list with ``data.images`` (and ``data.classes``, the class list).

A VQA annotations file at its DEFAULT path that does not exist (test-dev, test) gives a split
without ground truth: it is predicted, not scored. An explicitly given file must exist.
``data.limit`` takes the first N samples (``limit_mode=first``) or a seeded random N
(``random``, seed ``data.seed``); corpus metrics are then computed on those N only.
"""
from __future__ import annotations

import logging
from pathlib import Path

from grit_eval.datasets import sampling
from grit_eval.errors import ConfigError, DataError
from grit_eval.settings import DataSettings
from grit_eval.splits import EvalSplit
from grit_eval.types import Sample

log = logging.getLogger(__name__)

_DEFAULT_SPLITS = {
    "refcoco": "val", "refcoco+": "val", "refcocog": "val",
    "coco_keypoints": "val2017", "coco_captions": "val2014", "coco_karpathy": "test",
    "nocaps": "val", "vqav2": "val2014", "okvqa": "val2014", "vizwiz": "val", "aokvqa": "val",
    "nyuv2_depth": "test", "nyuv2_normal": "test", "imagenet": "val", "places365": "val",
}
_REFCOCO_SPLIT_BY = {"refcoco": "unc", "refcoco+": "unc", "refcocog": "umd"}


def _split_name(settings: DataSettings) -> str:
    split = settings.split or _DEFAULT_SPLITS[settings.name]
    if not isinstance(split, str) or not split or "/" in split or split.startswith("."):
        raise ConfigError(f"data.split must be a plain split name (e.g. val), got {split!r}")
    return split


def _root(settings: DataSettings, *, required: bool = True) -> Path | None:
    if settings.root:
        return Path(settings.root).expanduser()
    if required:
        raise ConfigError(f"data={settings.name} needs data.root=/path/to/{settings.name} "
                          f"(see conf/data/{settings.name}.yaml for the expected layout)")
    return None


def _path(settings: DataSettings, key: str, default: str | None) -> Path:
    """``data.<key>`` if set, else ``default`` under ``data.root``."""
    value = getattr(settings, key)
    if value:
        return Path(value).expanduser()
    if default is None:
        raise ConfigError(f"data={settings.name} needs data.{key}=... "
                          f"(see conf/data/{settings.name}.yaml)")
    root = _root(settings)
    return root / default


def _finish(settings: DataSettings, split: str, samples: list[Sample]) -> EvalSplit:
    samples = sampling.take(samples, settings.limit, settings.limit_mode, settings.seed)
    if not samples:
        raise DataError(f"data={settings.name} split {split!r}: no samples to evaluate")
    return EvalSplit(name=f"{settings.name}/{split}", subset=split, samples=tuple(samples),
                     is_grit=False, root=Path(settings.root).expanduser() if settings.root else None)


def refcoco_split(settings: DataSettings, tasks: list[str]) -> EvalSplit:
    """RefCOCO / RefCOCO+ / RefCOCOg (``data.split_by`` defaults to unc, umd for refcocog)."""
    from grit_eval.datasets.refcoco import read_refcoco

    split = _split_name(settings)
    split_by = settings.split_by or _REFCOCO_SPLIT_BY[settings.name]
    if split_by not in ("unc", "umd", "google"):
        raise ConfigError(f"data.split_by must be unc, umd or google, not {split_by!r}")
    images = _path(settings, "images", None)
    samples = read_refcoco(_root(settings), images, split, split_by=split_by)
    return _finish(settings, split, samples)


def coco_keypoints_split(settings: DataSettings, tasks: list[str]) -> EvalSplit:
    from grit_eval.datasets.coco_keypoints import read_coco_keypoints

    split = _split_name(settings)
    annotations = _path(settings, "annotations", f"annotations/person_keypoints_{split}.json")
    samples = read_coco_keypoints(annotations, _path(settings, "images", split))
    return _finish(settings, split, samples)


def coco_captions_split(settings: DataSettings, tasks: list[str]) -> EvalSplit:
    from grit_eval.datasets.coco_captions import read_coco_captions

    split = _split_name(settings)
    annotations = _path(settings, "annotations", f"annotations/captions_{split}.json")
    return _finish(settings, split, read_coco_captions(annotations, _path(settings, "images", split)))


def nocaps_split(settings: DataSettings, tasks: list[str]) -> EvalSplit:
    from grit_eval.datasets.coco_captions import read_coco_captions

    split = _split_name(settings)
    annotations = _path(settings, "annotations", f"nocaps_{split}_4500_captions.json")
    return _finish(settings, split, read_coco_captions(annotations, _path(settings, "images", split)))


def coco_karpathy_split(settings: DataSettings, tasks: list[str]) -> EvalSplit:
    from grit_eval.datasets.coco_captions import read_karpathy_captions

    split = _split_name(settings)
    dataset_file = _path(settings, "annotations", "dataset_coco.json")
    image_root = _path(settings, "images", ".")
    return _finish(settings, split, read_karpathy_captions(dataset_file, image_root, split))


def _vqa_annotations(settings: DataSettings, default: str) -> Path | None:
    if settings.annotations:
        return Path(settings.annotations).expanduser()
    path = _root(settings) / default
    if not path.exists():
        log.warning("%s: no annotations file: data=%s split is predicted, not scored",
                    path, settings.name)
        return None
    return path


def _check_vqa_rule(settings: DataSettings) -> None:
    from metrics.vqa import VQA_RULES

    if settings.vqa_rule is not None and settings.vqa_rule not in VQA_RULES:
        raise ConfigError(f"data.vqa_rule must be one of {', '.join(VQA_RULES)}, "
                          f"not {settings.vqa_rule!r}")


def _vqav2_like(settings: DataSettings, questions: str, annotations: str) -> EvalSplit:
    from grit_eval.datasets.vqa_format import read_vqa

    _check_vqa_rule(settings)
    split = _split_name(settings)
    questions_file = _path(settings, "questions", questions.format(split=split))
    annotations_file = _vqa_annotations(settings, annotations.format(split=split))
    samples = read_vqa(questions_file, annotations_file, _path(settings, "images", split))
    return _finish(settings, split, samples)


def vqav2_split(settings: DataSettings, tasks: list[str]) -> EvalSplit:
    return _vqav2_like(settings, "v2_OpenEnded_mscoco_{split}_questions.json",
                       "v2_mscoco_{split}_annotations.json")


def okvqa_split(settings: DataSettings, tasks: list[str]) -> EvalSplit:
    return _vqav2_like(settings, "OpenEnded_mscoco_{split}_questions.json",
                       "mscoco_{split}_annotations.json")


def vizwiz_split(settings: DataSettings, tasks: list[str]) -> EvalSplit:
    from grit_eval.datasets.vqa_format import read_vizwiz

    _check_vqa_rule(settings)
    split = _split_name(settings)
    annotations = _path(settings, "annotations", f"Annotations/{split}.json")
    return _finish(settings, split, read_vizwiz(annotations, _path(settings, "images", split)))


def aokvqa_split(settings: DataSettings, tasks: list[str]) -> EvalSplit:
    """A-OKVQA in the direct-answer setting (scored with A-OKVQA's own accuracy rule)."""
    from grit_eval.datasets.vqa_format import read_aokvqa

    split = _split_name(settings)
    annotations = _path(settings, "annotations", f"aokvqa_v1p0_{split}.json")
    images = _path(settings, "images", f"{split}2017")
    return _finish(settings, split, read_aokvqa(annotations, images))


def _nyuv2(settings: DataSettings, task: str) -> EvalSplit:
    from grit_eval.datasets.nyuv2 import read_nyuv2

    split = _split_name(settings)
    return _finish(settings, split, read_nyuv2(_root(settings), split, task))


def nyuv2_depth_split(settings: DataSettings, tasks: list[str]) -> EvalSplit:
    return _nyuv2(settings, "depth")


def nyuv2_normal_split(settings: DataSettings, tasks: list[str]) -> EvalSplit:
    return _nyuv2(settings, "normal")


def classification_split(settings: DataSettings, tasks: list[str]) -> EvalSplit:
    """ImageNet / Places365: a class-folder tree, or an image/label list (``data.annotations``)."""
    from grit_eval.datasets.image_classification import read_image_csv, read_image_folder

    split = _split_name(settings)
    classes = Path(settings.classes).expanduser() if settings.classes else None
    images = _path(settings, "images", split)
    if settings.annotations:
        samples = read_image_csv(Path(settings.annotations).expanduser(), images, classes)
    else:
        samples = read_image_folder(images, classes)
    return _finish(settings, split, samples)

