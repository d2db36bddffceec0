"""End-to-end tests of ``grit-eval-score`` (grit_eval/scoring/cli.py) and its bad-input errors.

The data set is built in tmp_path from the golden aggregation cases
(../shared/golden/grit/example_aggregate_cases.json, official provenance in that README), so
the command's metrics file can be compared with the official output for the same cases.
"""
from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

from grit_eval.scoring.cli import main

SUBSET = "ablation"


def _rle(dense) -> dict:
    encoded = mask_utils.encode(np.asfortranarray(np.asarray(dense, dtype=np.uint8)))
    return {"size": [int(v) for v in encoded["size"]], "counts": encoded["counts"].decode("utf-8")}


def _normal_source(golden: Path, name: str) -> Path:
    # Cases name example PNGs relative to golden/grit, or the official example images.
    prefix = "data/examples/images/"
    if name.startswith(prefix):
        return golden / "official_examples" / "images" / name[len(prefix):]
    return golden / name


def _convert(block: dict) -> dict:
    block = dict(block)
    if "masks_dense" in block:
        block["masks"] = [_rle(m) for m in block.pop("masks_dense")]
    block.setdefault("confidence", 1.0)
    return block


@pytest.fixture(scope="module")
def dataset(golden_dir, tmp_path_factory):
    """(gt_dir, normals_dir, lemma2groups path, predictions {task: list}, pred normal files)."""
    golden = golden_dir / "grit"
    root = tmp_path_factory.mktemp("grit")
    cases = json.loads((golden / "example_aggregate_cases.json").read_text())
    gt_dir, normals = root / "gt", root / "gt" / "normals"
    (gt_dir / SUBSET).mkdir(parents=True)
    predictions, pred_files = {}, {}
    for task, items in cases.items():
        if task == "_comment":
            continue
        samples, preds = [], []
        for case in items:
            sample = copy.deepcopy(case["sample"])
            output = _convert(sample["output"])
            output.pop("confidence")
            sample["output"] = output
            samples.append(sample)
            pred = _convert(case["prediction"])
            preds.append(pred)
            if task == "normal":
                for name in (output["out_image_name"],):
                    (normals / name).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(_normal_source(golden, name), normals / name)
                pred_files[pred["normal"]] = _normal_source(golden, pred["normal"]).read_bytes()
        (gt_dir / SUBSET / f"{task}.json").write_text(json.dumps(samples))
        predictions[task] = preds
    lemma2groups = golden / "example_aggregate_lemma2groups.json"
    return gt_dir, normals, lemma2groups, predictions, pred_files


def build_zip(path: Path, predictions: dict, pred_files: dict, *, params=1, top=SUBSET,
              extra: dict | None = None) -> Path:
    """Write a submission zip: <top>/params.json, <top>/<task>.json, <top>/normals/*."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        if params is not None:
            archive.writestr(f"{top}/params.json", json.dumps({"params_in_millions": params}))
        for task, preds in predictions.items():
            archive.writestr(f"{top}/{task}.json", json.dumps(preds))
        for name, data in pred_files.items():
            archive.writestr(f"{top}/normals/{name}", data)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def run_cli(dataset, zip_path: Path, outdir: Path) -> int:
    gt_dir, normals, lemma2groups, _, _ = dataset
    return main(["--pred_zip", str(zip_path), "--grit_samples_dir", str(gt_dir),
                 "--grit_normals_dir", str(normals), "--lemma2groups", str(lemma2groups),
                 "--subset", SUBSET, "--outdir", str(outdir)])


def test_end_to_end_matches_official_metrics(dataset, golden_dir, tmp_path):
    _, _, _, predictions, pred_files = dataset
    zip_path = build_zip(tmp_path / "ablation.zip", predictions, pred_files)
    state = np.random.get_state()
    assert run_cli(dataset, zip_path, tmp_path / "out") == 0
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]
    got = json.loads((tmp_path / "out" / f"{SUBSET}_metrics.json").read_text())
    golden = json.loads((golden_dir / "grit" / "example_aggregate_metrics.json").read_text())
    assert set(got) == set(golden)
    # Per sample: the official scores, except sn_random, which depends on the numpy build
    # (GRIT_SPEC.md 2.8; the modern-environment golden value is accepted too).
    scores = {s["id"]: s["score"] for s in json.loads((golden_dir / "grit" / "example_aggregate_scores.json").read_text())}
    modern = {s["id"]: s["score"] for s in json.loads((golden_dir / "grit" / "example_scores_modern_env.json").read_text())}
    lines = [json.loads(x) for x in (tmp_path / "out" / f"{SUBSET}_samples.jsonl").read_text().splitlines()]
    assert sorted(x["example_id"] for x in lines) == sorted(scores)
    for line in lines:
        allowed = {scores[line["example_id"]]}
        if line["example_id"] == "sn_random":
            allowed.add(modern["sn_random"])
        assert min(abs(line["acc"] / 100 - a) for a in allowed) < 1e-9, line
    # So aggregates agree to the 4th decimal except where sn_random enters (normal, all).
    for key, want in golden.items():
        tol = 0.2 if (".sn." in key or ".all." in key or key.startswith("overall")) else 1e-4
        assert abs(got[key] - want) <= tol + 1e-9, (key, got[key], want)


def test_scoring_twice_gives_identical_files(dataset, tmp_path):
    _, _, _, predictions, pred_files = dataset
    subset_preds = {t: p for t, p in predictions.items() if t != "normal"}
    zip_path = build_zip(tmp_path / "a.zip", subset_preds, {})
    assert run_cli(dataset, zip_path, tmp_path / "one") == 0
    assert run_cli(dataset, zip_path, tmp_path / "two") == 0
    for name in (f"{SUBSET}_metrics.json", f"{SUBSET}_samples.jsonl"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    # normal.json absent: the task is missing and counts as 0 in the cross-task averages.
    got = json.loads((tmp_path / "one" / f"{SUBSET}_metrics.json").read_text())
    assert not any(".sn." in k for k in got) and "overall.mean" in got


def test_pred_dir_layout(dataset, tmp_path):
    _, _, _, predictions, _ = dataset
    folder = tmp_path / "preds" / SUBSET
    folder.mkdir(parents=True)
    (folder / "params.json").write_text('{"params_in_millions": "12"}')
    (folder / "vqa.json").write_text(json.dumps(predictions["vqa"]))
    gt_dir, normals, lemma2groups, _, _ = dataset
    assert main(["--pred_dir", str(tmp_path / "preds"), "--grit_samples_dir", str(gt_dir),
                 "--subset", SUBSET, "--outdir", str(tmp_path / "out")]) == 0
    got = json.loads((tmp_path / "out" / f"{SUBSET}_metrics.json").read_text())
    assert got["params"] == 12 and "acc.any.agg.vqa.mean" in got
    assert not any(k.startswith("acc.animals") for k in got)  # no lemma2groups given


def _edit(predictions, task, index, **changes):
    edited = copy.deepcopy(predictions)
    edited[task][index].update(changes)
    return edited


def _bad_cases(predictions, pred_files):
    """(name, zip kwargs or raw bytes, expected message fragment)."""
    one_gt = copy.deepcopy(predictions)
    del one_gt["vqa"][3]
    seg = predictions["segmentation"][0]["masks"][0]
    small = Image.new("RGB", (3, 2))
    gray = Image.new("L", (16, 16))
    png = {}
    for name, image in (("small.png", small), ("gray.png", gray)):
        import io
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        png[name] = buffer.getvalue()
    normal_id = predictions["normal"][0]["example_id"]
    return [
        ("missing_prediction", dict(predictions=one_gt), f"vqa.json: {predictions['vqa'][3]['example_id']}: no prediction"),
        ("nan_confidence", dict(predictions=_edit(predictions, "vqa", 0, confidence=float("nan"))), "confidence must be a finite number"),
        ("confidence_above_1", dict(predictions=_edit(predictions, "vqa", 0, confidence=1.5)), "confidence must be in [0, 1]"),
        ("shape_not_size", dict(predictions=_edit(predictions, "segmentation", 0, masks=[{"shape": seg["size"], "counts": seg["counts"]}])), "the key must be 'size'"),
        ("uncompressed_counts", dict(predictions=_edit(predictions, "segmentation", 0, masks=[{"size": seg["size"], "counts": [3, 4]}])), "uncompressed RLE"),
        ("box_three_numbers", dict(predictions=_edit(predictions, "localization", 0, bboxes=[[1, 2, 3]])), "bboxes[0] must have 4 numbers"),
        ("keypoints_50", dict(predictions=_edit(predictions, "keypoint", 0, points=[[0.0] * 50])), "points[0] must have 51 numbers"),
        ("words_list", dict(predictions=_edit(predictions, "vqa", 0, words=["a"])), "'words' must be a str"),
        ("normal_wrong_size", dict(predictions=_edit(predictions, "normal", 0, normal="small.png"), pred_files={**pred_files, **png}), f"{normal_id}: predicted normal map"),
        ("normal_gray", dict(predictions=_edit(predictions, "normal", 0, normal="gray.png"), pred_files={**pred_files, **png}), "sub.zip:ablation/normals/gray.png must be an 8-bit RGB or RGBA"),
        ("normal_missing_file", dict(predictions=_edit(predictions, "normal", 0, normal="nope.png")), "not found in the submission"),
        ("missing_params", dict(params=None), "params.json is missing"),
        ("bad_params", dict(params="many"), "params.json must be"),
        ("wrong_top_folder", dict(top="test"), "outside the folder 'ablation/'"),
        ("zip_slip", dict(extra={"ablation/../../evil.txt": b"x"}), "leaves the extraction folder"),
        ("absolute_path", dict(extra={"/etc/evil.txt": b"x"}), "absolute path"),
        ("duplicated_id", dict(predictions={**predictions, "vqa": [*predictions["vqa"], predictions["vqa"][1]]}),
         f"vqa.json: {predictions['vqa'][1]['example_id']}: duplicated example id (entries 1 and"),
        ("id_not_in_gt", dict(predictions={**predictions, "vqa": [*predictions["vqa"], {**predictions["vqa"][0], "example_id": "zz_stray"}]}),
         "vqa.json: zz_stray: not a sample of the ground truth"),
        ("deeply_nested_json", dict(extra={f"{SUBSET}/vqa.json": b"[" * 200_000 + b"]" * 200_000},
                                    predictions={}), "vqa.json: not valid JSON"),
    ]


BAD_CASES = 19


def test_bad_cases_table_is_complete(dataset):
    _, _, _, predictions, pred_files = dataset
    assert len(_bad_cases(predictions, pred_files)) == BAD_CASES


@pytest.mark.parametrize("index", range(BAD_CASES))
def test_bad_submission_one_line_error(dataset, tmp_path, capsys, index):
    _, _, _, predictions, pred_files = dataset
    name, kwargs, fragment = _bad_cases(predictions, pred_files)[index]
    kwargs = {"predictions": predictions, "pred_files": pred_files, **kwargs}
    zip_path = build_zip(tmp_path / "sub.zip", **kwargs)
    assert run_cli(dataset, zip_path, tmp_path / "out") == 2, name
    err = capsys.readouterr().err.strip().splitlines()
    assert len([line for line in err if "error" in line]) == 1, err
    assert err[-1].startswith("grit-eval-score: error: "), err
    assert fragment in err[-1], (name, err[-1])
    assert "grit-eval-score-" not in err[-1], "files are named as in the zip, not the temp folder"
    assert not (tmp_path / "out").exists(), "no partial output"


def test_not_a_zip(dataset, tmp_path, capsys):
    bogus = tmp_path / "ablation.zip"
    bogus.write_text("hello")
    assert run_cli(dataset, bogus, tmp_path / "out") == 2
    assert capsys.readouterr().err.strip() == f"grit-eval-score: error: {bogus}: not a zip file"


def test_symlink_entry_rejected(dataset, tmp_path, capsys):
    zip_path = tmp_path / "link.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        info = zipfile.ZipInfo(f"{SUBSET}/params.json")
        info.external_attr = 0o120777 << 16  # S_IFLNK
        archive.writestr(info, "/etc/passwd")
    assert run_cli(dataset, zip_path, tmp_path / "out") == 2
    assert "is a symbolic link" in capsys.readouterr().err


def test_oversize_archive_rejected(tmp_path):
    from grit_eval.errors import SubmissionError
    from grit_eval.scoring.submission_reader import ZipLimits, open_submission

    zip_path = tmp_path / "big.zip"
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{SUBSET}/params.json", '{"params_in_millions": 1}')
        archive.writestr(f"{SUBSET}/vqa.json", b" " * 100_000)  # compresses to almost nothing
    with pytest.raises(SubmissionError, match="more than the limit of 50000"):
        with open_submission(SUBSET, pred_zip=zip_path, limits=ZipLimits(max_total_bytes=50_000)):
            pass
    with pytest.raises(SubmissionError, match="2 entries, more than the limit of 1"):
        with open_submission(SUBSET, pred_zip=zip_path, limits=ZipLimits(max_entries=1)):
            pass


def _lying_zip(path: Path, member: str, real: bytes, declared: int) -> Path:
    """A zip whose central directory (and local header) understate ``member``'s size."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{SUBSET}/params.json", '{"params_in_millions": 1}')
        archive.writestr(member, real)
    data = bytearray(path.read_bytes())
    import struct
    for sig, size_at in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        start = 0
        while (at := data.find(sig, start)) >= 0:
            name_len = struct.unpack_from("<H", data, at + (28 if sig == b"PK\x01\x02" else 26))[0]
            name = bytes(data[at + (46 if sig == b"PK\x01\x02" else 30):][:name_len])
            if name == member.encode():
                struct.pack_into("<I", data, at + size_at, declared)
            start = at + 4
    path.write_bytes(bytes(data))
    return path


def test_zip_bomb_refused_fast_with_caps_from_the_split(tmp_path):
    """A highly compressed JSON member (declared honestly, or understated in the headers) is
    refused by the ratio/per-member caps before it is inflated or parsed."""
    import time

    from grit_eval.errors import SubmissionError
    from grit_eval.scoring.submission_reader import ZipLimits, open_submission

    limits = ZipLimits.for_split({"vqa": 10, "normal": 2})
    assert limits.max_json_bytes < 2 * 2**20 and limits.max_entries < 100
    bomb = b"[" + b" " * (8 * 2**20) + b"]"  # 8 MiB of blanks deflates ~1000:1
    honest = tmp_path / "honest.zip"
    with zipfile.ZipFile(honest, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{SUBSET}/params.json", '{"params_in_millions": 1}')
        archive.writestr(f"{SUBSET}/vqa.json", bomb)
    lying = _lying_zip(tmp_path / "lying.zip", f"{SUBSET}/vqa.json", bomb, declared=100)
    for path, fragment in ((honest, "refused as a zip bomb"), (lying, "vqa.json")):
        started = time.perf_counter()
        with pytest.raises(SubmissionError, match=fragment):
            with open_submission(SUBSET, pred_zip=path, limits=limits):
                pass
        assert time.perf_counter() - started < 5
    # the same member is fine when the split is large enough to need it and it is not a bomb
    with pytest.raises(SubmissionError, match="refused as a zip bomb"):
        with open_submission(SUBSET, pred_zip=honest, limits=ZipLimits.for_split({"vqa": 1000})):
            pass


def test_cli_import_does_not_import_jax_and_help_is_fast():
    code = ("import sys, time; t = time.perf_counter(); import grit_eval.scoring.cli; "
            "assert 'jax' not in sys.modules and 'pandas' not in sys.modules, sorted(sys.modules); "
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(out.stdout) < 1.0
    helped = subprocess.run([sys.executable, "-m", "grit_eval.scoring.cli", "--help"],
                            capture_output=True, text=True, check=True)
    assert "--grit_samples_dir" in helped.stdout and "--lemma2groups" in helped.stdout
