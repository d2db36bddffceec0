"""NYUv2 reader on a tiny folder of PNGs written here; depth decoding in metres."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from grit_eval.datasets.nyuv2 import load_depth_png, load_normal_png, read_nyuv2
from grit_eval.errors import DataError

H, W = 6, 8


def _make(root, ids=("0001", "0002"), split_text=None):
    for sub in ("rgb", "depth", "normal"):
        (root / sub).mkdir(exist_ok=True)
    for k, i in enumerate(ids):
        Image.fromarray(np.full((H, W, 3), 100 + k, np.uint8)).save(root / "rgb" / f"{i}.png")
        depth = np.arange(H * W, dtype=np.uint16).reshape(H, W) * 100  # 0 .. 4.7 m in mm
        Image.fromarray(depth).save(root / "depth" / f"{i}.png")
        Image.fromarray(np.full((H, W, 3), 128, np.uint8)).save(root / "normal" / f"{i}.png")
    (root / "test.txt").write_text(split_text if split_text is not None else "\n".join(ids) + "\n")
    return root


def test_depth_samples_and_metres(tmp_path):
    root = _make(tmp_path)
    samples = read_nyuv2(root, "test", "depth")
    assert [s.example_id for s in samples] == ["0001", "0002"]
    s = samples[0]
    assert s.task == "depth" and s.image_path == str(root / "rgb" / "0001.png")
    depth = load_depth_png(s.target["depth_path"], s.target["depth_scale"])
    assert depth.shape == (H, W) and depth.dtype == np.float32
    assert depth[0, 0] == 0.0 and depth[0, 1] == pytest.approx(0.1)  # 100 mm
    assert depth[-1, -1] == pytest.approx((H * W - 1) * 0.1)


def test_normal_samples(tmp_path):
    root = _make(tmp_path)
    s = read_nyuv2(root, "test", "normal")[1]
    assert s.task == "normal" and s.target["image_id"] == "0002"
    assert load_normal_png(s.target["normal_path"]).shape == (H, W, 3)


def test_comments_blank_lines_and_jpg(tmp_path):
    root = _make(tmp_path, split_text="# eigen test\n\n0001\n")
    (root / "rgb" / "0001.png").rename(root / "rgb" / "0001.jpg")
    (s,) = read_nyuv2(root)
    assert s.image_path.endswith("0001.jpg")


def test_missing_depth_file_names_it(tmp_path):
    root = _make(tmp_path)
    (root / "depth" / "0002.png").unlink()
    with pytest.raises(DataError, match=r"depth/0002\.png: 0002: file not found"):
        read_nyuv2(root)


def test_8bit_depth_is_refused(tmp_path):
    root = _make(tmp_path)
    Image.fromarray(np.zeros((H, W), np.uint8)).save(root / "depth" / "0001.png")
    with pytest.raises(DataError, match="0001: expected a 16-bit grayscale depth PNG"):
        read_nyuv2(root)


def test_misaligned_sizes(tmp_path):
    root = _make(tmp_path)
    Image.fromarray(np.zeros((H, W + 1), np.uint16)).save(root / "depth" / "0001.png")
    with pytest.raises(DataError, match="must be aligned"):
        read_nyuv2(root)


@pytest.mark.parametrize(
    "split_text, match",
    [("", "has no ids"), ("0001\n0001\n", "0001: listed twice"),
     ("../etc/passwd\n", "plain file stem"), ("0009\n", "0009: no RGB image")],
)
def test_bad_split_lists(tmp_path, split_text, match):
    with pytest.raises(DataError, match=match):
        read_nyuv2(_make(tmp_path, split_text=split_text))


def test_missing_split_and_bad_task(tmp_path):
    with pytest.raises(DataError, match="val.txt: split list not found"):
        read_nyuv2(_make(tmp_path), "val")
    with pytest.raises(DataError, match="task must be one of"):
        read_nyuv2(tmp_path, task="segmentation")


def test_corrupt_png(tmp_path):
    root = _make(tmp_path)
    (root / "normal" / "0001.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="0001: not a readable image"):
        read_nyuv2(root, task="normal")
