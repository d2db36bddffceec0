"""Released checkpoint format: load, strict tree/shape checks, truncation, bf16, save."""
from __future__ import annotations

import hashlib

import ml_dtypes
import msgpack
import numpy as np
import pytest

from model_adapters.unified_io.checkpoint import (
    CheckpointError, cast_params, flatten, load_checkpoint, random_params, save_checkpoint,
    unflatten)
from model_adapters.unified_io.config import PRESETS

TINY = PRESETS["tiny"]


@pytest.fixture(scope="module")
def tiny_bin(golden_dir):
    return golden_dir / "unified_io" / "parity_public" / "tiny_checkpoint.bin"


@pytest.fixture(scope="module")
def tiny_params(tiny_bin):
    return load_checkpoint(tiny_bin, TINY)


def test_loads_the_reference_file(tiny_params):
    assert sorted(tiny_params) == ["decoder", "discrete_vae", "encoder", "token_embedder"]
    emb = tiny_params["token_embedder"]["embedding"]
    assert emb.shape == (49536, 48) and emb.dtype == np.float32
    # 1-D leaves were perturbed away from 1/0 in the parity set (README "Perturbation").
    assert not np.allclose(tiny_params["encoder"]["encoder_norm"]["scale"], 1.0)


def test_save_reproduces_the_reference_bytes(tiny_bin, tiny_params, tmp_path):
    # Same bytes as flax.serialization.to_bytes wrote (sha256 in cases.json "files").
    out = tmp_path / "copy.bin"
    save_checkpoint(tiny_params, out)
    assert hashlib.sha256(out.read_bytes()).hexdigest() == hashlib.sha256(tiny_bin.read_bytes()).hexdigest()


def test_random_round_trip(tmp_path):
    params = random_params(TINY, seed=3)
    path = tmp_path / "r.bin"
    save_checkpoint(params, path)
    back = load_checkpoint(path, TINY)
    for (p1, a), (p2, b) in zip(flatten(params), flatten(back), strict=True):
        assert p1 == p2
        np.testing.assert_array_equal(a, b)
    assert not list(tmp_path.glob("*.tmp"))  # the temp file was renamed


def test_bf16_cast_on_load(tiny_bin, tiny_params):
    half = load_checkpoint(tiny_bin, TINY, dtype="bfloat16")
    leaf = half["encoder"]["layers_0"]["mlp"]["wo"]["kernel"]
    assert leaf.dtype == ml_dtypes.bfloat16
    ref = tiny_params["encoder"]["layers_0"]["mlp"]["wo"]["kernel"]
    np.testing.assert_allclose(leaf.astype(np.float32), ref, rtol=2 ** -8)
    assert cast_params(tiny_params, "bfloat16")["token_embedder"]["embedding"].dtype == ml_dtypes.bfloat16


def _mutated(params, path, value=None, delete=False):
    flat = dict(flatten(params))
    if delete:
        del flat[path]
    else:
        flat[path] = value
    return unflatten(flat)


@pytest.mark.parametrize("change, message", [
    (lambda p: _mutated(p, "decoder/layers_1/mlp/wo/kernel", delete=True),
     r"first mismatch: missing path 'decoder/layers_1/mlp/wo/kernel' \(expected shape \(96, 48\)\)"),
    (lambda p: _mutated(p, "encoder/extra/kernel", np.zeros((2, 2), np.float32)),
     r"first mismatch: unexpected path 'encoder/extra/kernel' \(shape \(2, 2\)\)"),
    (lambda p: _mutated(p, "encoder/layers_0/attention/query/kernel", np.zeros((48, 48), np.float32)),
     r"wrong shape at 'encoder/layers_0/attention/query/kernel': got \(48, 48\), expected \(48, 32\)"),
])
def test_mismatch_is_one_clear_error(tiny_params, tmp_path, change, message):
    path = tmp_path / "bad.bin"
    save_checkpoint(change(tiny_params), path)
    with pytest.raises(CheckpointError, match=message) as info:
        load_checkpoint(path, TINY)
    assert str(path) in str(info.value)


def test_wrong_config_names_first_mismatch(tiny_bin):
    with pytest.raises(CheckpointError, match=r"does not match the config \(emb_dim=512.*first mismatch"):
        load_checkpoint(tiny_bin, PRESETS["small"])


def test_truncated_file_is_detected(tiny_bin, tmp_path):
    data = tiny_bin.read_bytes()
    for cut in (len(data) - 1, len(data) // 2, 10):
        path = tmp_path / f"cut{cut}.bin"
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="truncated"):
            load_checkpoint(path, TINY)


def test_trailing_data_and_foreign_files(tiny_bin, tmp_path):
    path = tmp_path / "trail.bin"
    path.write_bytes(tiny_bin.read_bytes() + b"\x00")
    with pytest.raises(CheckpointError, match="trailing data"):
        load_checkpoint(path, TINY)
    path = tmp_path / "wrapped.bin"
    path.write_bytes(msgpack.packb({"params": {"a": 1}}))
    with pytest.raises(CheckpointError, match="wrapper"):
        load_checkpoint(path, TINY)
    path = tmp_path / "zip.bin"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)  # e.g. a PyTorch zip
    with pytest.raises(CheckpointError, match=str(path.name)):
        load_checkpoint(path, TINY)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.bin", TINY)
    with pytest.raises(ValueError, match="unsupported dtype 'int8'"):
        load_checkpoint(tiny_bin, TINY, dtype="int8")


def test_random_params_are_not_constant():
    p = random_params(TINY, seed=0)
    q = random_params(TINY, seed=1)
    scale = p["decoder"]["pre_ln"]["scale"]
    assert scale.std() > 0.05 and abs(scale.mean() - 1) < 0.2
    assert not np.array_equal(p["token_embedder"]["embedding"], q["token_embedder"]["embedding"])
