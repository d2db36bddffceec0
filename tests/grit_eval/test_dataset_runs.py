"""End-to-end per-dataset runs: native-format files written here -> CLI -> run directory.

Expected values are worked out by hand from the files each test writes (see the comments).
"""
from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from grit_eval.errors import ConfigError
from grit_eval.run.runner import run_evaluation
from grit_eval.settings import DataSettings, EvalSettings, ModelSettings, RunSettings


def grit_eval(run_dir: Path, *overrides: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "grit_eval.cli", f"run.dir={run_dir}", "run.progress=false",
           *overrides]
    return subprocess.run(cmd, cwd=run_dir.parent, capture_output=True, text=True, check=check)


def run_both(tmp_path: Path, *overrides: str) -> dict[str, dict]:
    """metrics.json of an oracle and a prior run with the same data overrides."""
    out = {}
    for model in ("oracle", "prior"):
        run = tmp_path / f"run_{model}"
        done = grit_eval(run, f"model={model}", *overrides, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        out[model] = json.loads((run / "metrics.json").read_text())
        out[model]["_records"] = [json.loads(x) for x in (run / "records.jsonl").read_text().splitlines()]
        out[model]["_leaderboard"] = (run / "leaderboard.md").read_text()
    return out


def write_image(path: Path, width: int = 64, height: int = 48) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (width, height), (90, 120, 30)).save(path)


def write_refcoco(root: Path, refs: object = None) -> tuple[Path, Path]:
    data, images = root / "refcoco", root / "train2014"
    data.mkdir(parents=True)
    for image_id in (1, 2):
        write_image(images / f"COCO_train2014_{image_id:012d}.jpg")
    instances = {
        "images": [{"id": 1, "file_name": "COCO_train2014_000000000001.jpg"},
                   {"id": 2, "file_name": "COCO_train2014_000000000002.jpg"}],
        # ann 10 is exactly the prior's central box of a 64x48 image (16..48, 12..36);
        # ann 11 is the top-left corner, which the central box does not touch.
        "annotations": [{"id": 10, "image_id": 1, "bbox": [16, 12, 32, 24], "category_id": 1},
                        {"id": 11, "image_id": 2, "bbox": [0, 0, 16, 12], "category_id": 1}],
    }
    (data / "instances.json").write_text(json.dumps(instances))
    if refs is None:
        refs = [
            {"ref_id": 0, "ann_id": 10, "image_id": 1, "split": "val", "category_id": 1,
             "sentences": [{"sent_id": 0, "sent": "the middle thing"},
                           {"sent_id": 1, "sent": "centre object"}]},
            {"ref_id": 1, "ann_id": 11, "image_id": 2, "split": "val", "category_id": 1,
             "sentences": [{"sent_id": 2, "sent": "top left"}]},
            {"ref_id": 2, "ann_id": 11, "image_id": 2, "split": "testA", "category_id": 1,
             "sentences": [{"sent_id": 3, "sent": "not in val"}]},
        ]
    (data / "refs(unc).p").write_bytes(refs if isinstance(refs, bytes) else pickle.dumps(refs))
    return data, images


def test_refcoco_oracle_hits_every_box_prior_two_of_three(tmp_path, capsys):
    data, images = write_refcoco(tmp_path)
    m = run_both(tmp_path, "data=refcoco", f"data.root={data}", f"data.images={images}")
    assert m["oracle"]["metrics"] == {"accuracy": 1.0, "mean_iou": 1.0}
    # Prior: sentences 0 and 1 (ann 10) IoU 1, sentence 2 (ann 11) IoU 0 -> 2/3.
    assert m["prior"]["metrics"]["accuracy"] == pytest.approx(2 / 3)
    assert m["prior"]["metrics"]["mean_iou"] == pytest.approx(2 / 3)
    assert m["prior"]["count"] == 3 and m["prior"]["split"] == "val"
    assert [r["iou"] for r in m["prior"]["_records"]] == pytest.approx([1.0, 1.0, 0.0])
    assert [r["example_id"] for r in m["prior"]["_records"]] == ["0_0", "0_1", "1_2"]
    assert "| prior@refcoco/val | 66.7 |" in m["prior"]["_leaderboard"]
    # not a GRIT split: grit-eval-submit says so (not "refexp: not run")
    from grit_eval.submission.cli import main as submit_main

    assert submit_main([str(tmp_path / "run_prior"), "--subset", "ablation"]) == 2
    assert "data=refcoco, not a GRIT split" in capsys.readouterr().err


def test_hostile_refs_pickle_is_refused_with_a_clear_error(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    data, images = write_refcoco(tmp_path, refs=pickle.dumps([Evil()]))
    run = tmp_path / "run"
    done = grit_eval(run, "model=prior", "data=refcoco", f"data.root={data}",
                     f"data.images={images}", check=False)
    assert done.returncode == 2
    assert "refused to load this pickle" in done.stderr and "builtins.print" in done.stderr
    assert "pwned" not in done.stdout and "Traceback" not in done.stderr
    assert not (run / "metrics.json").exists()


def write_coco_captions(root: Path, n: int = 3) -> Path:
    # One reference per image, 4 words each, no word shared between images: every n-gram has
    # df = 1, so the oracle's candidate equals its reference in all 4 orders -> CIDEr-D 10.
    words = [["red", "kite", "flies", "high"], ["two", "dogs", "chase", "balls"],
             ["old", "man", "reads", "newspapers"], ["green", "train", "crosses", "bridges"]]
    images = [{"id": 100 + k, "file_name": f"COCO_val2014_{100 + k:012d}.jpg"} for k in range(n)]
    anns = [{"id": k, "image_id": 100 + k, "caption": " ".join(words[k]).capitalize() + "."}
            for k in range(n)]
    for img in images:
        write_image(root / "val2014" / img["file_name"])
    (root / "annotations").mkdir(parents=True)
    (root / "annotations/captions_val2014.json").write_text(
        json.dumps({"images": images, "annotations": anns}))
    return root


def test_coco_captions_cider_oracle_ten_prior_zero(tmp_path):
    root = write_coco_captions(tmp_path / "coco")
    m = run_both(tmp_path, "data=coco_captions", f"data.root={root}")
    assert m["oracle"]["metrics"]["cider_d"] == pytest.approx(10.0)
    # "a picture of something" shares no n-gram with any reference.
    assert m["prior"]["metrics"]["cider_d"] == 0.0
    assert [r["example_id"] for r in m["oracle"]["_records"]] == ["100", "101", "102"]
    assert "| oracle@coco_captions/val2014 | 1000.0 |" in m["oracle"]["_leaderboard"]


def write_vqav2(root: Path, answers_2: list[str] | None = None) -> Path:
    questions = {"data_subtype": "val2014", "questions": [
        {"question_id": 1, "image_id": 7, "question": "What color is it?"},
        {"question_id": 2, "image_id": 8, "question": "Is it raining?"}]}
    annotations = {"annotations": [
        {"question_id": 1, "image_id": 7,
         "answers": [{"answer": a} for a in ["red"] * 6 + ["blue"] * 4]},
        {"question_id": 2, "image_id": 8,
         "answers": [{"answer": a} for a in answers_2 or ["yes"] * 2 + ["no"] * 8]}]}
    root.mkdir(parents=True)
    (root / "v2_OpenEnded_mscoco_val2014_questions.json").write_text(json.dumps(questions))
    (root / "v2_mscoco_val2014_annotations.json").write_text(json.dumps(annotations))
    for image_id in (7, 8):
        write_image(root / "val2014" / f"COCO_val2014_{image_id:012d}.jpg")
    return root


def test_vqav2_official_accuracy_oracle_one_prior_hand_computed(tmp_path):
    root = write_vqav2(tmp_path / "vqa")
    m = run_both(tmp_path, "data=vqav2", f"data.root={root}")
    assert m["oracle"]["metrics"] == {"vqa_accuracy": 1.0}
    # Prior "yes": question 1 -> 0. Question 2 has 2 "yes" of 10: leaving out one of them
    # leaves 1 match (1/3), leaving out any of the 8 others leaves 2 (2/3):
    # (2 * 1/3 + 8 * 2/3) / 10 = 0.6. Mean over the split: 0.3.
    assert [r["score"] for r in m["prior"]["_records"]] == pytest.approx([0.0, 0.6])
    assert m["prior"]["metrics"]["vqa_accuracy"] == pytest.approx(0.3)


def test_vqav2_rule_setting_official_default_and_legacy(tmp_path):
    # Question 2: "Yes" x 2 + "no" x 8 (not unanimous). Prior "yes": the official rule
    # lower-cases GT answers -> 2 matches -> 0.6; the legacy rule does not -> 0.
    root = write_vqav2(tmp_path / "vqa", ["Yes"] * 2 + ["no"] * 8)
    scores = {}
    for rule in ("official", "legacy"):
        run = tmp_path / f"run_{rule}"
        done = grit_eval(run, "model=prior", "data=vqav2", f"data.root={root}",
                         f"data.vqa_rule={rule}", check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        records = (run / "records.jsonl").read_text().splitlines()
        scores[rule] = [json.loads(x)["score"] for x in records]
    assert scores["official"] == pytest.approx([0.0, 0.6])
    assert scores["legacy"] == [0.0, 0.0]
    bad = grit_eval(tmp_path / "run_bad", "model=prior", "data=vqav2", f"data.root={root}",
                    "data.vqa_rule=lmms", check=False)
    assert bad.returncode == 2 and "data.vqa_rule must be one of official, legacy" in bad.stderr


def write_nyuv2(root: Path) -> Path:
    # Image "a": 2.5 m everywhere but one pixel with no reading; image "b": 1.0 m everywhere.
    depth = {"a": np.full((6, 8), 2500, np.uint16), "b": np.full((6, 8), 1000, np.uint16)}
    depth["a"][0, 0] = 0
    for image_id, mm in depth.items():
        write_image(root / "rgb" / f"{image_id}.png", 8, 6)
        (root / "depth").mkdir(parents=True, exist_ok=True)
        Image.fromarray(mm).save(root / "depth" / f"{image_id}.png")
    (root / "test.txt").write_text("a\nb\n")
    return root


def test_nyuv2_depth_rmse_oracle_zero_prior_hand_computed(tmp_path):
    root = write_nyuv2(tmp_path / "nyu")
    m = run_both(tmp_path, "data=nyuv2_depth", f"data.root={root}")
    assert m["oracle"]["metrics"]["rmse"] == 0.0 and m["oracle"]["metrics"]["delta1"] == 1.0
    # Prior 2.5 m: image a is exact (its 0 pixel is invalid), image b is 1.5 m off everywhere
    # (ratio 2.5 >= 1.25^3): mean RMSE 0.75, delta1 = delta3 = (1 + 0) / 2.
    assert [r["score"] for r in m["prior"]["_records"]] == pytest.approx([0.0, 1.5])
    assert m["prior"]["metrics"]["rmse"] == pytest.approx(0.75)
    assert m["prior"]["metrics"]["delta3"] == pytest.approx(0.5)
    assert "| prior@nyuv2_depth/test | 0.750 |" in m["prior"]["_leaderboard"]


def test_imagenet_folder_tree_top1(tmp_path):
    root = tmp_path / "imagenet"
    for name in ("cat/1.png", "cat/2.png", "dog/3.png"):
        write_image(root / "val" / name, 8, 8)
    m = run_both(tmp_path, "data=imagenet", f"data.root={root}")
    assert m["oracle"]["metrics"] == {"top1_accuracy": 1.0}
    # Classes are the sorted folders (cat, dog); the prior always answers the first, "cat".
    assert m["prior"]["metrics"]["top1_accuracy"] == pytest.approx(2 / 3)
    assert [r["example_id"] for r in m["prior"]["_records"]] == ["cat/1.png", "cat/2.png", "dog/3.png"]


# --- in-process runs (same code path below the CLI, faster) ---------------------------------

def run_in_process(tmp_path: Path, model: str, **data) -> dict:
    settings = EvalSettings(model=ModelSettings(name=model), data=DataSettings(**data),
                            run=RunSettings(progress=False))
    run_dir = tmp_path / f"{model}_{data['name']}_{data.get('limit')}"
    run_evaluation(settings, run_dir)
    return json.loads((run_dir / "metrics.json").read_text())


def write_coco_keypoints(root: Path) -> Path:
    person = [30.0, 20.0, 2] * 17
    person[3:6] = [34.0, 18.0, 2]  # a second distinct joint so the box has an extent
    anns = [{"id": 1, "image_id": 5, "category_id": 1, "keypoints": person, "num_keypoints": 17,
             "area": 400.0, "bbox": [20.0, 10.0, 20.0, 20.0], "iscrowd": 0}]
    data = {"images": [{"id": 5, "file_name": "5.jpg", "width": 64, "height": 48},
                       {"id": 6, "file_name": "6.jpg", "width": 64, "height": 48}],
            "annotations": anns,
            "categories": [{"id": 1, "name": "person", "keypoints": [f"k{i}" for i in range(17)]}]}
    for name in ("5.jpg", "6.jpg"):
        write_image(root / "val2017" / name)
    (root / "annotations").mkdir(parents=True)
    (root / "annotations/person_keypoints_val2017.json").write_text(json.dumps(data))
    return root


def test_coco_keypoints_oracle_ap_one_prior_lower(tmp_path):
    root = write_coco_keypoints(tmp_path / "coco")
    oracle = run_in_process(tmp_path, "oracle", name="coco_keypoints", root=str(root))
    prior = run_in_process(tmp_path, "prior", name="coco_keypoints", root=str(root))
    assert oracle["metrics"]["AP"] == pytest.approx(1.0)
    # GRIT OKS: image 5 perfect (1), image 6 empty vs empty (1).
    assert oracle["metrics"]["oks_mean"] == pytest.approx(1.0)
    assert prior["metrics"]["AP"] < 0.5 and prior["metrics"]["oks_mean"] < 1.0


def test_nyuv2_normal_oracle_zero_angle_prior_hand_computed(tmp_path):
    root = tmp_path / "nyu"
    # GT: left half faces the camera (n = (0, 0, -1): the prior's answer), right half points
    # along +x (n = (1, 0, 0)), 90 degrees from the prior's. One pixel has no GT (0, 0, 0).
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[:, :3] = (127, 127, 0)
    rgb[:, 3:] = (255, 127, 127)
    rgb[0, 0] = 0
    write_image(root / "rgb" / "a.png", 6, 4)
    (root / "normal").mkdir()
    Image.fromarray(rgb).save(root / "normal" / "a.png")
    (root / "test.txt").write_text("a\n")
    oracle = run_in_process(tmp_path, "oracle", name="nyuv2_normal", root=str(root))
    prior = run_in_process(tmp_path, "prior", name="nyuv2_normal", root=str(root))
    assert oracle["metrics"]["mean_angle_deg"] == pytest.approx(0.0, abs=1e-6)
    assert oracle["metrics"]["within_11.25"] == 1.0
    # 11 valid pixels at ~0 degrees, 12 at ~90 (the 8-bit encoding is off by < 1 degree).
    assert prior["metrics"]["within_11.25"] == pytest.approx(11 / 23)
    assert prior["metrics"]["mean_angle_deg"] == pytest.approx(12 / 23 * 90, abs=1.0)


def test_limit_scores_cider_on_the_chosen_samples_only(tmp_path):
    root = write_coco_captions(tmp_path / "coco", n=4)
    full = run_in_process(tmp_path, "oracle", name="coco_captions", root=str(root))
    part = run_in_process(tmp_path, "oracle", name="coco_captions", root=str(root), limit=2,
                          limit_mode="random", seed=3)
    assert full["count"] == 4 and part["count"] == 2
    assert part["metrics"]["cider_d"] == pytest.approx(10.0)


def test_tasks_that_the_split_does_not_have_are_a_config_error(tmp_path):
    root = write_vqav2(tmp_path / "vqa")
    settings = EvalSettings(model=ModelSettings(name="prior"), tasks=["captioning"],
                            data=DataSettings(name="vqav2", root=str(root)),
                            run=RunSettings(progress=False))
    with pytest.raises(ConfigError, match=r"has task\(s\) \['vqa'\]"):
        run_evaluation(settings, tmp_path / "run")


def test_missing_root_names_the_setting(tmp_path):
    settings = EvalSettings(data=DataSettings(name="nyuv2_depth"), run=RunSettings(progress=False))
    with pytest.raises(ConfigError, match="data.root"):
        run_evaluation(settings, tmp_path / "run")


def _vqa_like_files(root: Path, dataset: str) -> dict:
    """Native files of the other VQA-style and caption/classification datasets."""
    if dataset == "okvqa":
        write_vqav2(root)
        for old, new in (("v2_OpenEnded_mscoco_val2014_questions.json", "OpenEnded_mscoco_val2014_questions.json"),
                         ("v2_mscoco_val2014_annotations.json", "mscoco_val2014_annotations.json")):
            (root / old).rename(root / new)
        return {}
    if dataset == "vizwiz":
        write_image(root / "val" / "VizWiz_val_00000000.jpg")
        (root / "Annotations").mkdir()
        (root / "Annotations/val.json").write_text(json.dumps([
            {"image": "VizWiz_val_00000000.jpg", "question": "What is this?",
             "answers": [{"answer": "no"}] * 10}]))
        return {}
    if dataset == "aokvqa":
        write_image(root / "val2017" / f"{9:012d}.jpg")
        root.joinpath("aokvqa_v1p0_val.json").write_text(json.dumps([
            {"question_id": "q1", "image_id": 9, "question": "Is it wet?", "choices": ["yes", "no"],
             "correct_choice_idx": 1, "direct_answers": ["yes"] * 2 + ["no"] * 8}]))
        return {}
    if dataset == "coco_karpathy":
        write_image(root / "val2014" / "a.jpg")
        root.joinpath("dataset_coco.json").write_text(json.dumps({"images": [
            {"filepath": "val2014", "filename": "a.jpg", "split": "test", "cocoid": 42,
             "sentences": [{"raw": "Four orange cats sleeping."}]},
            {"filepath": "val2014", "filename": "a.jpg", "split": "test", "cocoid": 44,
             "sentences": [{"raw": "Blue boats near harbours."}]},
            {"filepath": "val2014", "filename": "a.jpg", "split": "train", "cocoid": 43,
             "sentences": [{"raw": "Not in the test split."}]}]}))
        return {}
    if dataset == "nocaps":
        write_image(root / "val" / "n.jpg")
        root.joinpath("nocaps_val_4500_captions.json").write_text(json.dumps({
            "images": [{"id": 0, "file_name": "n.jpg"}, {"id": 1, "file_name": "n.jpg"}],
            "annotations": [{"image_id": 0, "caption": "One jellyfish drifting in blue water."},
                            {"image_id": 1, "caption": "Three penguins crossing icy roads."}]}))
        return {}
    # places365: the native list + category file, not a tree.
    write_image(root / "val_256" / "x1.jpg")
    write_image(root / "val_256" / "x2.jpg")
    root.joinpath("categories_places365.txt").write_text("/a/airfield 0\n/b/bakery/shop 1\n")
    root.joinpath("places365_val.txt").write_text("x1.jpg 1\nx2.jpg 0\n")
    return {"annotations": str(root / "places365_val.txt"), "images": str(root / "val_256"),
            "classes": str(root / "categories_places365.txt")}


@pytest.mark.parametrize("dataset,key,oracle,prior", [
    ("okvqa", "vqa_accuracy", 1.0, 0.3),  # the same files as the VQAv2 test
    ("vizwiz", "vqa_accuracy", 1.0, 0.0),  # 10 x "no"; the prior says "yes"
    # A-OKVQA's rule has no leave-one-out: "yes" matches 2 of 10 -> min(1, 2/3), not 0.6.
    ("aokvqa", "vqa_accuracy", 1.0, 2 / 3),
    # Two images whose one reference each shares no word with the other: CIDEr-D 10 for the
    # oracle (see the COCO test); the prior's caption shares no n-gram -> 0.
    ("coco_karpathy", "cider_d", 10.0, 0.0),
    ("nocaps", "cider_d", 10.0, 0.0),
    ("places365", "top1_accuracy", 1.0, 0.5),  # x1 is "bakery shop"; the prior says "airfield"
])
def test_other_datasets_oracle_and_prior(tmp_path, dataset, key, oracle, prior):
    root = tmp_path / dataset
    extra = _vqa_like_files(root, dataset)
    got = {m: run_in_process(tmp_path, m, name=dataset, root=str(root), **extra)
           for m in ("oracle", "prior")}
    assert got["oracle"]["metrics"][key] == pytest.approx(oracle)
    assert got["prior"]["metrics"][key] == pytest.approx(prior)
    two = ("okvqa", "places365", "coco_karpathy", "nocaps")
    assert got["oracle"]["count"] == 1 + (dataset in two)
