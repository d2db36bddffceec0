"""Checkpoint loading without torch: safetensors (single and sharded), the released torch zip
(float32 and bfloat16), the restricted unpickler, and name/shape checks against the config."""
from __future__ import annotations

import json
import pickle
import shutil
import zipfile
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from model_adapters.unified_io_2.checkpoint import CheckpointError, load_checkpoint
from model_adapters.unified_io_2.checkpoint_safetensors import read_safetensors, write_safetensors
from model_adapters.unified_io_2.checkpoint_torch import RefusedGlobal, read_torch_zip
from model_adapters.unified_io_2.config import param_shapes


def test_safetensors_and_release_formats_hold_the_same_weights(uio2_kit):
    ref = read_safetensors(uio2_kit / "model" / "model.safetensors")
    fp32 = read_torch_zip(uio2_kit / "release" / "fp32" / "pytorch_model.bin")
    bf16 = read_torch_zip(uio2_kit / "release" / "bf16" / "pytorch_model.bin")
    assert set(ref) == set(fp32) == set(bf16)
    for name, arr in ref.items():
        np.testing.assert_array_equal(fp32[name], arr)
        want = arr.astype(ml_dtypes.bfloat16) if arr.ndim >= 2 else arr
        assert bf16[name].dtype == want.dtype, name
        np.testing.assert_array_equal(bf16[name].astype(np.float32), want.astype(np.float32))


@pytest.mark.parametrize("folder", ["model", "release/fp32", "release/bf16"])
def test_kit_folders_load_and_list_ignored_audio_history(uio2_kit, folder):
    ck = load_checkpoint(uio2_kit / folder)
    shapes = json.loads((uio2_kit / "model" / "param_shapes.json").read_text())
    assert set(ck.params) | set(ck.ignored) == set(shapes)
    assert set(ck.params) == set(param_shapes(ck.config))
    assert ck.ignored and all(("audio" in n or "history" in n) for n in ck.ignored)


def test_sharded_safetensors_with_index(uio2_kit, tmp_path):
    tensors = read_safetensors(uio2_kit / "model" / "model.safetensors")
    names = sorted(tensors)
    half = len(names) // 2
    write_safetensors({n: tensors[n] for n in names[:half]}, tmp_path / "a.safetensors")
    write_safetensors({n: tensors[n] for n in names[half:]}, tmp_path / "b.safetensors")
    index = {"weight_map": {n: ("a.safetensors" if i < half else "b.safetensors") for i, n in enumerate(names)}}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    shutil.copy(uio2_kit / "model" / "config.json", tmp_path / "config.json")
    ck = load_checkpoint(tmp_path)
    for n, arr in ck.params.items():
        np.testing.assert_array_equal(arr, tensors[n])


def _hostile_zip(path: Path, marker: Path) -> None:
    """A torch-like zip whose pickle would call os.system (built from raw opcodes)."""
    cmd = f"touch {marker}".encode()
    payload = (b"\x80\x02cos\nsystem\nq\x00X" + len(cmd).to_bytes(4, "little") + cmd
               + b"q\x01\x85q\x02Rq\x03.")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("pytorch_model/data.pkl", payload)
        zf.writestr("pytorch_model/byteorder", "little")


def test_hostile_pickle_is_refused_and_never_runs(tmp_path, uio2_kit):
    marker = tmp_path / "pwned"
    _hostile_zip(tmp_path / "pytorch_model.bin", marker)
    with pytest.raises(RefusedGlobal, match=r"os\.system"):
        read_torch_zip(tmp_path / "pytorch_model.bin")
    shutil.copy(uio2_kit / "model" / "config.json", tmp_path / "config.json")
    with pytest.raises(CheckpointError, match=r"refused to load global os\.system"):
        load_checkpoint(tmp_path)
    assert not marker.exists()
    # the same payload does run under an unrestricted unpickler, so the test is not vacuous
    with zipfile.ZipFile(tmp_path / "pytorch_model.bin") as zf:
        pickle.loads(zf.read("pytorch_model/data.pkl"))
    assert marker.exists()


def _kit_copy(uio2_kit: Path, tmp_path: Path, edit_config=None, edit_tensors=None) -> Path:
    folder = tmp_path / "ck"
    folder.mkdir()
    cfg = json.loads((uio2_kit / "model" / "config.json").read_text())
    if edit_config:
        edit_config(cfg)
    (folder / "config.json").write_text(json.dumps(cfg))
    tensors = dict(read_safetensors(uio2_kit / "model" / "model.safetensors"))
    if edit_tensors:
        edit_tensors(tensors)
    write_safetensors(tensors, folder / "model.safetensors")
    return folder


def test_config_weight_mismatch_names_the_first_tensor(uio2_kit, tmp_path):
    def more_layers(cfg):
        cfg["t5_config"]["num_encoder_layers"] += 1
    folder = _kit_copy(uio2_kit, tmp_path, edit_config=more_layers)
    with pytest.raises(CheckpointError, match=r"encoder\.layers_2\.\S+ is missing"):
        load_checkpoint(folder)


def test_wrong_shape_and_unknown_tensor_are_reported(uio2_kit, tmp_path):
    def bad_shape(t):
        t["decoder.decoder_norm.scale"] = np.zeros((7,), np.float32)
    with pytest.raises(CheckpointError, match=r"decoder\.decoder_norm\.scale has shape \[7\]"):
        load_checkpoint(_kit_copy(uio2_kit, tmp_path, edit_tensors=bad_shape))

    def extra(t):
        t["mystery.weight"] = np.zeros((2,), np.float32)
    shutil.rmtree(tmp_path / "ck")
    with pytest.raises(CheckpointError, match=r"unexpected tensor mystery\.weight"):
        load_checkpoint(_kit_copy(uio2_kit, tmp_path, edit_tensors=extra))


def test_missing_or_wrong_format_folders(tmp_path, uio2_kit):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope")
    shutil.copy(uio2_kit / "model" / "config.json", tmp_path / "config.json")
    with pytest.raises(CheckpointError, match="no model.safetensors"):
        load_checkpoint(tmp_path)
    (tmp_path / "pytorch_model.bin").write_bytes(b"not a zip at all")
    with pytest.raises(CheckpointError, match="not a torch zip checkpoint"):
        load_checkpoint(tmp_path)
    (tmp_path / "config.json").write_text("{ nope")
    with pytest.raises(CheckpointError, match="not a JSON config"):
        load_checkpoint(tmp_path)


def test_torch_tensors_are_memory_mapped_views(uio2_kit):
    tensors = read_torch_zip(uio2_kit / "release" / "fp32" / "pytorch_model.bin")
    arr = tensors["text_token_embedder.weight"]
    assert not arr.flags.writeable and not arr.flags.owndata
