"""Bundled mini-GRIT generator: determinism, layout, partitions, and labels re-derived from
the rendered scenes (not from the generator's own answers)."""
from __future__ import annotations

import hashlib
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

from grit_eval.minigrit import DEFAULT_SUBSETS, generate, is_complete, read_manifest
from grit_eval.minigrit import vocabulary as voc
from grit_eval.minigrit.builder import build_subset
from grit_eval.minigrit.scene import FLOOR, SKY
from grit_eval.types import GRIT_TASKS, TASK_SHORT_NAMES

PUBLIC_KEYS = {"example_id", "image_id", "task_name", "task_query", "task_bbox", "output_options"}
GT_FIELD = {"categorization": "words", "vqa": "words", "localization": "bboxes",
            "refexp": "bboxes", "segmentation": "masks", "keypoint": "points",
            "normal": "out_image_name"}


@pytest.fixture(scope="module")
def roots(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("minigrit")
    return generate(base / "a", seed=0), generate(base / "b", seed=0)


@pytest.fixture(scope="module")
def root(roots) -> Path:
    return roots[0]


@pytest.fixture(scope="module")
def built():
    """The ablation subset in memory, with its scenes (label maps, instances, rooms)."""
    return build_subset("ablation", seed=0)


def _load(root: Path, kind: str, subset: str, task: str) -> list[dict]:
    return json.loads((root / kind / subset / f"{task}.json").read_text())


def _image(root: Path, image_id: str) -> np.ndarray:
    with Image.open(root / "images" / image_id) as im:
        return np.asarray(im.convert("RGB"))


def _decode(rle: dict) -> np.ndarray:
    with warnings.catch_warnings():
        # pycocotools 2.0.11 + numpy 2 warn inside decode (GRIT_SPEC 2.9); not ours.
        warnings.simplefilter("ignore", DeprecationWarning)
        return mask_utils.decode({"size": rle["size"], "counts": rle["counts"].encode()}).astype(bool)


def _undistorted(gt: list[dict]) -> list[dict]:
    return [g for g in gt if not g["meta"]["is_distorted"]]


# --- determinism and layout -----------------------------------------------------------------

def test_same_seed_gives_identical_bytes(roots):
    def digests(r: Path) -> dict[str, str]:
        return {str(p.relative_to(r)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(r.rglob("*")) if p.is_file()}
    a, b = digests(roots[0]), digests(roots[1])
    assert len(a) > 400
    assert a == b


def test_other_seed_gives_other_samples():
    a = build_subset("train", seed=0, tasks=("vqa",)).samples["vqa"]
    b = build_subset("train", seed=1, tasks=("vqa",)).samples["vqa"]
    assert [s["task_query"] for s in a] != [s["task_query"] for s in b]


def test_manifest_lists_every_file_with_its_hash(root):
    manifest = read_manifest(root)
    on_disk = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} - {"MANIFEST.json"}
    assert set(manifest["files"]) == on_disk
    assert manifest["seed"] == 0 and manifest["subsets"] == list(DEFAULT_SUBSETS)
    assert is_complete(root, seed=0)
    for subset in DEFAULT_SUBSETS:
        for task in GRIT_TASKS:
            assert manifest["counts"][subset][task] == len(_load(root, "samples", subset, task))


def test_size_and_image_dimensions(root):
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert total < 5_000_000
    shapes = set()
    for subset in DEFAULT_SUBSETS:
        for task in GRIT_TASKS:
            for s in _load(root, "samples", subset, task)[:6]:
                with Image.open(root / "images" / s["image_id"]) as im:
                    w, h = im.size
                assert 96 <= w <= 192 and 96 <= h <= 192, s["example_id"]
                shapes.add("portrait" if h > w else "landscape" if w > h else "square")
    assert {"portrait", "landscape"} <= shapes


def test_generate_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "x.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not an empty folder"):
        generate(tmp_path)
    assert (tmp_path / "x.txt").read_text() == "keep me"


# --- schema -----------------------------------------------------------------------------------

def test_public_samples_carry_no_ground_truth(root):
    for subset in DEFAULT_SUBSETS:
        for task in GRIT_TASKS:
            public = _load(root, "samples", subset, task)
            gt = _load(root, "ground_truth", subset, task)
            assert [p["example_id"] for p in public] == [g["input"]["example_id"] for g in gt]
            for p, g in zip(public, gt):
                assert set(p) == PUBLIC_KEYS and p["task_name"] == task
                assert (root / "images" / p["image_id"]).is_file()
                assert g["output"]["example_id"] == p["example_id"]
                assert GT_FIELD[task] in g["output"]
                text = json.dumps(p)
                assert "meta" not in p and GT_FIELD[task] not in text
                if task == "vqa":  # the answer never leaks into the question
                    assert g["output"]["words"][0] not in p["task_query"].lower().split()


def test_ground_truth_meta_and_concept_groups(root):
    lemma2groups = json.loads((root / "lemma2groups.json").read_text())
    assert all(set(groups) <= voc.GRIT_CONCEPT_GROUPS for groups in lemma2groups.values())
    options = json.loads((root / "output_options" / f"{voc.OUTPUT_OPTIONS_NAME}.json").read_text())
    for subset in DEFAULT_SUBSETS:
        for task in GRIT_TASKS:
            for g in _load(root, "ground_truth", subset, task):
                meta = g["meta"]
                assert set(meta) == {"data_source", "is_new_source", "has_new_concept",
                                     "is_distorted", "concepts"}
                lemmas = [c["lemma"] for c in meta["concepts"]]
                assert lemmas and all(lemma in lemma2groups for lemma in lemmas)
                assert meta["has_new_concept"] == any(l not in voc.SEEN_LEMMAS for l in lemmas)
                if task == "categorization":
                    assert g["input"]["output_options"] == voc.OUTPUT_OPTIONS_NAME
                    assert g["output"]["words"][0] in options


def test_every_partition_has_two_samples_per_task(root):
    for subset in DEFAULT_SUBSETS:
        for task in GRIT_TASKS:
            gt = _load(root, "ground_truth", subset, task)
            ids = {g["input"]["example_id"] for g in gt}
            und = _undistorted(gt)
            parts = {
                "sameSrc": [g for g in und if not g["meta"]["is_new_source"]],
                "newSrc": [g for g in und if g["meta"]["is_new_source"]],
                "sameCpt": [g for g in und if not g["meta"]["has_new_concept"]],
                "newCpt": [g for g in und if g["meta"]["has_new_concept"]],
                "dist": [g for g in gt if g["meta"]["is_distorted"]],
                "undist": [g for g in und if g["input"]["example_id"] + "_dist" in ids],
            }
            for name, members in parts.items():
                assert len(members) >= 2, (subset, task, name)
            assert 24 <= len(gt) <= 40


def test_concept_groups_populated_in_both_sources(root):
    lemma2groups = json.loads((root / "lemma2groups.json").read_text())
    tasks_with_groups = 0
    for task in GRIT_TASKS:
        count: dict[tuple[str, bool], int] = {}
        for g in _undistorted(_load(root, "ground_truth", "ablation", task)):
            groups = {gr for c in g["meta"]["concepts"] for gr in lemma2groups[c["lemma"]]}
            for group in groups:
                key = (group, g["meta"]["is_new_source"])
                count[key] = count.get(key, 0) + 1
        both = {gr for gr, _ in count if count.get((gr, False), 0) >= 2 and count.get((gr, True), 0) >= 2}
        tasks_with_groups += len(both) >= 2
    assert tasks_with_groups >= 4


def test_distorted_copies_change_the_image_not_the_truth(root):
    for subset in DEFAULT_SUBSETS:
        for task in GRIT_TASKS:
            public = {p["example_id"]: p for p in _load(root, "samples", subset, task)}
            gt = {g["input"]["example_id"]: g for g in _load(root, "ground_truth", subset, task)}
            for eid, g in gt.items():
                if not g["meta"]["is_distorted"]:
                    continue
                orig_id = eid[: -len("_dist")]
                assert eid.endswith("_dist") and orig_id in gt
                orig, dist = gt[orig_id], g
                assert public[eid]["image_id"] == f"distorted/{task}/{public[orig_id]['image_id']}"
                assert {**dist["output"], "example_id": orig_id} == orig["output"]
                assert {**dist["meta"], "is_distorted": False} == orig["meta"]
                a, b = _image(root, public[orig_id]["image_id"]), _image(root, public[eid]["image_id"])
                assert a.shape == b.shape
                # Blur on flat paint only moves edges, so count changed pixels, not the mean.
                assert np.any(a != b, axis=-1).mean() > 0.02, eid


# --- labels, re-derived from the rendered scenes ----------------------------------------------

PALETTE = {name: np.array(rgb) for name, rgb in voc.COLOURS.items()}
PLURAL_TO_CATEGORY = {plural: cat for cat, (_, plural) in voc.SHAPE_CATEGORIES.items()}
PLURAL_TO_CATEGORY[voc.PERSON_PLURAL] = voc.PERSON


def _observed_colour(image: np.ndarray, mask: np.ndarray) -> str:
    """The palette name nearest to the median paint under ``mask`` (read from the pixels)."""
    median = np.median(image[mask].astype(float), axis=0)
    return min(PALETTE, key=lambda name: float(np.sum((PALETTE[name] - median) ** 2)))


def _scene_samples(root: Path, built, task: str):
    for p in _load(root, "samples", "ablation", task):
        if p["example_id"].endswith("_dist"):
            continue
        gt = next(g for g in _load(root, "ground_truth", "ablation", task)
                  if g["input"]["example_id"] == p["example_id"])
        yield p, gt["output"], built.built[p["example_id"]].scene, _image(root, p["image_id"])


def test_instance_masks_are_non_empty_and_inside_tight_boxes(built):
    n = 0
    for b in built.built.values():
        if b.task == "normal":
            continue
        h, w = b.scene.label_map.shape
        for inst in b.scene.instances:
            ys, xs = np.nonzero(b.scene.mask(inst.label))
            assert len(xs) > 0
            x1, y1, x2, y2 = inst.box
            assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h
            assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (x1, y1, x2, y2)
            n += 1
    assert n > 200


def test_localization_and_segmentation_cover_every_instance(root, built):
    for task in ("localization", "segmentation"):
        for p, out, scene, image in _scene_samples(root, built, task):
            query = p["task_query"]
            if query.endswith("(Stuff)"):
                (rle,) = out["masks"]
                label = {"sky (Stuff)": SKY, "floor (Stuff)": FLOOR}[query]
                assert np.array_equal(_decode(rle), scene.label_map == label)
                assert _decode(rle).any()
                continue
            labels = [i.label for i in scene.instances if i.category == query]
            assert set(np.unique(scene.label_map)) >= set(labels) and labels
            if task == "localization":
                boxes = []
                for label in labels:
                    ys, xs = np.nonzero(scene.label_map == label)
                    boxes.append([int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1])
                assert sorted(out["bboxes"]) == sorted(boxes)
            else:
                masks = [_decode(rle) for rle in out["masks"]]
                assert all(m.shape == image.shape[:2] and m.any() for m in masks)
                assert sorted(int(scene.label_map[m][0]) for m in masks) == sorted(labels)
                assert all(np.all(scene.label_map[m] == scene.label_map[m][0]) for m in masks)


def test_categorization_box_holds_an_object_of_the_answer(root, built):
    for p, out, scene, _ in _scene_samples(root, built, "categorization"):
        x1, y1, x2, y2 = p["task_bbox"]
        inside = [i for i in scene.instances if i.box == (x1, y1, x2, y2)]
        assert len(inside) == 1 and inside[0].category == out["words"][0]


def test_keypoints_lie_on_each_person(root, built):
    for _, out, scene, _ in _scene_samples(root, built, "keypoint"):
        people = scene.of_category(voc.PERSON)
        assert len(out["points"]) == len(people) >= 1
        for flat, person in zip(out["points"], people):
            kp = np.asarray(flat, float).reshape(17, 3)
            assert np.all(kp[:, 2] == 2)
            x1, y1, x2, y2 = person.box
            assert np.all((kp[:, 0] >= x1) & (kp[:, 0] < x2) & (kp[:, 1] >= y1) & (kp[:, 1] < y2))
            on_mask = scene.label_map[kp[:, 1].astype(int), kp[:, 0].astype(int)] == person.label
            assert on_mask.all()
            # The official OKS area is the box around labeled points: it must be > 0.
            span = kp[:, :2].max(axis=0) - kp[:, :2].min(axis=0)
            assert span[0] * span[1] > 0


def test_vqa_answers_match_the_rendered_scene(root, built):
    kinds = set()
    for p, out, scene, image in _scene_samples(root, built, "vqa"):
        answers, q = out["words"], p["task_query"]
        assert len(answers) == 10 and len(set(answers)) == 1
        assert re.fullmatch(r"[a-z0-9]+", answers[0])  # unchanged by VQA normalisation
        present = set(np.unique(scene.label_map).tolist())
        colours = {i.label: _observed_colour(image, scene.mask(i.label))
                   for i in scene.instances if i.colour is not None}
        if m := re.fullmatch(r"How many (\w+) are there\?", q):
            cat = PLURAL_TO_CATEGORY[m[1]]
            expected = str(sum(i.label in present for i in scene.of_category(cat)))
            kinds.add("count")
        elif m := re.fullmatch(r"What color is the (\w+)\?", q):
            (inst,) = scene.of_category(m[1])
            expected = colours[inst.label]
            kinds.add("colour")
        elif m := re.fullmatch(r"What shape is the (\w+) object\?", q):
            (label,) = [lab for lab, c in colours.items() if c == m[1]]
            cat = next(i.category for i in scene.instances if i.label == label)
            expected = voc.SHAPE_CATEGORIES[cat][0]
            kinds.add("shape")
        elif m := re.fullmatch(r"Is there a (\w+) in the image\?", q):
            expected = "yes" if any(i.label in present for i in scene.of_category(m[1])) else "no"
            kinds.add("exists")
        else:
            raise AssertionError(f"unexpected question {q!r}")
        assert answers[0] == expected, (p["example_id"], q)
    assert kinds == {"count", "colour", "shape", "exists"}


def test_refexp_expression_picks_exactly_the_gt_object(root, built):
    sides = set()
    for p, out, scene, image in _scene_samples(root, built, "refexp"):
        m = re.fullmatch(r"the (\w+) (\w+)(?: on the (left|right))?", p["task_query"])
        assert m, p["task_query"]
        colour, cat, side = m[1], m[2], m[3]
        matches = [i for i in scene.instances if i.category == cat and i.colour is not None
                   and _observed_colour(image, scene.mask(i.label)) == colour]
        if side is None:
            assert len(matches) == 1
            target = matches[0]
        else:
            left, right = sorted(matches, key=lambda i: i.box[0])
            assert left.box[2] <= image.shape[1] // 2 <= right.box[0]  # opposite halves
            target = left if side == "left" else right
        sides.add(side)
        assert out["bboxes"] == [list(target.box)]
    assert None in sides and sides & {"left", "right"}  # both grammar forms are exercised


def _official_valid(rgb: np.ndarray) -> np.ndarray:
    """GRIT_SPEC 2.8 step 3, written out: excluded colours plus both pixels of sharp edges."""
    n = (rgb.astype(float) - 122.5) / 122.5
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    valid = ~np.any([np.all(rgb == c, axis=-1) for c in (0, 128, 201)], axis=0)
    for axis in (0, 1):
        a = np.take(n, range(n.shape[axis] - 1), axis=axis)
        b = np.take(n, range(1, n.shape[axis]), axis=axis)
        dot = np.sum(a * b, axis=-1)
        assert dot.min() > -0.99  # no antipodal neighbours (official arccos would warn)
        sharp = np.degrees(np.arccos(np.clip(dot, -1, 1))) > 40
        pad = [(0, 0), (0, 0)]
        pad[axis] = (0, 1)
        lo = np.pad(sharp, pad)
        pad[axis] = (1, 0)
        valid &= ~(lo | np.pad(sharp, pad))
    return valid


def test_normal_maps_are_unit_valid_and_match_the_geometry(root, built):
    for subset in DEFAULT_SUBSETS:
        for g in _undistorted(_load(root, "ground_truth", subset, "normal")):
            with Image.open(root / "ground_truth" / "normals" / g["output"]["out_image_name"]) as im:
                rgb = np.asarray(im)
            assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
            h = rgb.shape[0]
            stored = ~np.all(rgb == 0, axis=-1)
            n = rgb[stored].astype(float) / 255.0 * 2.0 - 1.0  # inverse of normal2rgb
            assert np.all(np.abs(np.linalg.norm(n, axis=-1) - 1.0) < 0.02)
            assert np.all(n[:, 2] <= 0.0)  # every visible surface faces the camera
            valid = _official_valid(rgb)
            assert valid.sum() > 500 and valid.sum() > h
            if subset == "ablation":
                room = built.built[g["input"]["example_id"]].scene
                assert np.array_equal(stored, room.valid)
                cos = np.sum(n / np.linalg.norm(n, axis=-1, keepdims=True) * room.normals[stored], -1)
                assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() < 1.5
                assert np.all(room.depth > 0)


# --- the oracle scores the official maximum, through the project's reader and metrics --------

def test_oracle_scores_the_maximum_on_every_sample(root):
    reader = pytest.importorskip("grit_eval.data.grit_reader")
    from metrics.categorization import categorization_score
    from metrics.keypoint import keypoint_score
    from metrics.localization import localization_score
    from metrics.normal import normal_score
    from metrics.refexp import refexp_score
    from metrics.segmentation import is_stuff_query, segmentation_score
    from metrics.vqa import grit_vqa_score

    def score(s) -> float:
        t = s.target
        if s.task == "categorization":
            return categorization_score(t["words"][0], t["words"])
        if s.task == "vqa":
            return grit_vqa_score(t["words"][0], t["words"])
        if s.task == "localization":
            return localization_score(t["bboxes"], t["bboxes"])
        if s.task == "refexp":
            return refexp_score(t["bboxes"], t["bboxes"])
        if s.task == "segmentation":
            return segmentation_score(t["masks"], t["masks"], is_stuff_query(s.gt_query))
        if s.task == "keypoint":
            return keypoint_score(t["points"], t["points"])
        name = t["out_image_name"]
        if name not in normal_scores:  # a _dist copy shares its original's GT file
            with Image.open(root / "ground_truth" / "normals" / name) as im:
                rgb = np.asarray(im)
            normal_scores[name] = normal_score(rgb.copy(), rgb, height_exceeds_valid="raise")
        return normal_scores[name]

    normal_scores: dict[str, float] = {}

    n_stuff, outcomes = 0, []
    for subset in DEFAULT_SUBSETS:
        # R-RANSAC takes ~0.1 s a map: score the normals of one subset (the other subset's
        # maps pass the same validity checks in the test above).
        tasks = GRIT_TASKS if subset == "ablation" else GRIT_TASKS[:-1]
        samples = reader.read_split(root, subset, tasks)
        assert len(samples) == sum(read_manifest(root)["counts"][subset][t] for t in tasks)
        per_task: dict[str, list[float]] = {}
        for s in samples:
            assert Path(s.image_path).is_file()
            per_task.setdefault(s.task, []).append(score(s))
            n_stuff += s.task == "segmentation" and "(Stuff)" in (s.gt_query or "")
            if subset == "ablation":
                outcomes.append({"example_id": s.example_id, "task": s.task,
                                 "score": per_task[s.task][-1], "confidence": 1.0,
                                 "is_new_source": s.meta.is_new_source,
                                 "has_new_concept": s.meta.has_new_concept,
                                 "is_distorted": s.meta.is_distorted, "lemmas": s.meta.lemmas})
        for task, scores in per_task.items():
            # Box IoU carries the official +1e-6 (A/(A+1e-6)); after the leaderboard's
            # round(100*mean, 4) every task must read exactly 100.
            assert min(scores) > 1 - 1e-6, task
            assert round(100 * float(np.mean(scores)), 4) == 100.0, task
    assert n_stuff >= 4
    _check_official_keys(root, outcomes)


def _check_official_keys(root: Path, outcomes: list[dict]) -> None:
    """Every official partition key exists for every task, and the oracle reads 100."""
    leaderboard = pytest.importorskip("results.leaderboard")
    from results.records import records_frame

    lemma2groups = json.loads((root / "lemma2groups.json").read_text())
    metrics = leaderboard.leaderboard_metrics(records_frame(outcomes, lemma2groups), params=0)
    for short in TASK_SHORT_NAMES.values():
        for part in ("agg", "sameSrc", "newSrc", "sameCpt", "newCpt", "dist", "undist"):
            assert metrics[f"acc.any.{part}.{short}.mean"] == 100.0, (part, short)
        assert metrics[f"acc.any.deldist.{short}.mean"] == 0.0
    assert metrics["overall.mean"] == 100.0
    group_keys = [k for k in metrics if k.startswith("acc.") and ".any." not in k]
    assert len({k.split(".")[1] for k in group_keys}) >= 4  # several concept groups scored


# --- the cache: atomic, verified on reuse -----------------------------------------------------

@pytest.fixture
def fake_assemble(monkeypatch):
    """Replaces the (seconds-long) generation by a two-file dataset; records each call."""
    from grit_eval.minigrit import writer

    calls: list[int] = []
    hooks: list = []

    def assemble(seed, subsets):
        calls.append(seed)
        for hook in hooks:
            hook()
        files = {"samples/train/vqa.json": b"[]\n", "lemma2groups.json": b"{}\n"}
        return files, {"counts": {}, "distortions": {}}

    monkeypatch.setattr(writer, "assemble", assemble)
    return calls, hooks


def _leftovers(base: Path) -> list[str]:
    return sorted(p.name for p in base.iterdir() if p.name.startswith("."))


def test_cache_generates_once_then_reuses(tmp_path, fake_assemble):
    from grit_eval.minigrit import GENERATOR_VERSION, ensure_minigrit

    calls, _ = fake_assemble
    root = ensure_minigrit(tmp_path, seed=3)
    assert root == tmp_path / f"mini_grit-v{GENERATOR_VERSION}-s3"
    assert is_complete(root, seed=3) and calls == [3]
    assert ensure_minigrit(tmp_path, seed=3) == root and calls == [3]
    assert _leftovers(tmp_path) == []


def test_cache_replaces_a_corrupt_or_incomplete_folder(tmp_path, fake_assemble):
    from grit_eval.minigrit import ensure_minigrit

    calls, _ = fake_assemble
    root = ensure_minigrit(tmp_path)
    (root / "lemma2groups.json").write_bytes(b"{\"tampered\": 1}")
    assert ensure_minigrit(tmp_path) == root and len(calls) == 2
    assert (root / "lemma2groups.json").read_bytes() == b"{}\n"
    (root / "MANIFEST.json").unlink()  # as if a copy stopped before its manifest
    assert ensure_minigrit(tmp_path) == root and len(calls) == 3 and is_complete(root)
    assert _leftovers(tmp_path) == []


def test_failed_generation_leaves_no_folder_that_looks_complete(tmp_path, fake_assemble):
    from grit_eval.minigrit import ensure_minigrit

    _, hooks = fake_assemble
    hooks.append(lambda: (_ for _ in ()).throw(RuntimeError("disk full")))
    with pytest.raises(RuntimeError, match="disk full"):
        ensure_minigrit(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_concurrent_winner_is_kept(tmp_path, fake_assemble):
    from grit_eval.minigrit import GENERATOR_VERSION, ensure_minigrit, writer

    calls, hooks = fake_assemble
    target = tmp_path / f"mini_grit-v{GENERATOR_VERSION}-s0"

    def other_process_finishes_first():
        if len(calls) == 1:
            writer.generate(target, 0, DEFAULT_SUBSETS)

    hooks.append(other_process_finishes_first)
    assert ensure_minigrit(tmp_path) == target
    assert is_complete(target, seed=0) and len(calls) == 2
    assert _leftovers(tmp_path) == []


def test_cache_location_from_environment(tmp_path, monkeypatch, fake_assemble):
    from grit_eval.minigrit import ensure_minigrit

    monkeypatch.setenv("GRIT_EVAL_CACHE", str(tmp_path / "cache"))
    root = ensure_minigrit()
    assert root.parent == tmp_path / "cache" and is_complete(root)
