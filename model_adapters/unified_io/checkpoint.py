"""Load and save checkpoints in the released format (jax-free).

Format (UNIFIED_IO.md section 5, parity README "Checkpoint"): what
``flax.serialization.to_bytes(params)`` writes for the bare param dict: one msgpack map nested
like the parameter paths, each leaf a msgpack ExtType with code 1 whose payload is itself a
msgpack array ``(shape, dtype name, C-order bytes)``.

Memory: loading streams the file through ``msgpack.Unpacker``; each leaf is converted to its
numpy array inside the ``ext_hook`` while the raw payload bytes are dropped right after, so the
peak host memory is about the size of the loaded params (in the target dtype) plus roughly
three times the largest leaf (the reader buffer, the payload and its decoded bytes; 405 MB for
XL's float32 embedding), never two copies of the whole 11.7 GB XL file. Measured on a
591 MB small-size file: peak RSS grows by 805 MB loading float32 and 612 MB loading bfloat16
(the bf16 params are 296 MB). Flax's chunked format for single arrays over 1 GiB is not
handled (no released leaf is that large: XL's largest is 405 MB); such a file fails with a
clear tree mismatch.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Iterator, Mapping

import ml_dtypes
import msgpack
import numpy as np

from model_adapters.unified_io.config import UnifiedIOConfig
from model_adapters.unified_io.param_tree import parameter_shapes

_EXT_NDARRAY = 1  # flax.serialization's ExtType code for numpy arrays
_READ_SIZE = 16 * 2**20
_DTYPES = {"float32": np.float32, "bfloat16": ml_dtypes.bfloat16, "float16": np.float16}

Params = dict[str, Any]


class CheckpointError(ValueError):
    """A checkpoint file that does not match the expected format, tree or shapes."""


def _target_dtype(dtype: str) -> Any:
    try:
        return _DTYPES[dtype]
    except KeyError:
        raise ValueError(f"unsupported dtype {dtype!r}; expected one of {sorted(_DTYPES)}") from None


def load_checkpoint(path: str | os.PathLike, config: UnifiedIOConfig, dtype: str = "float32") -> Params:
    """Reads a released-format checkpoint and checks it against ``config``.

    Args:
        path: the ``.bin`` file (e.g. ``small_1000k.bin``).
        config: the model configuration whose tree the file must match exactly.
        dtype: ``float32`` (as stored) or ``bfloat16``/``float16``; every leaf is cast while
            streaming, so a bf16 load never holds the float32 tree.

    Returns:
        The nested param dict (numpy arrays), top-level keys ``token_embedder``, ``encoder``,
        ``decoder``, ``discrete_vae``.

    Raises:
        CheckpointError: naming the file and the first missing/unexpected path or wrong shape,
            a truncated file, or a file that is not a Flax msgpack checkpoint.
    """
    path = Path(path)
    target = _target_dtype(dtype)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    size = path.stat().st_size

    def ext_hook(code: int, data: bytes) -> Any:
        if code != _EXT_NDARRAY:
            raise CheckpointError(f"unsupported msgpack ext type {code} (only ndarrays, code 1)")
        shape, dtype_name, buf = msgpack.unpackb(data, raw=False)
        arr = np.frombuffer(buf, dtype=np.dtype(dtype_name)).reshape(shape)
        # astype copies, so the payload bytes are released when the hook returns.
        return arr.astype(target) if arr.dtype != target else arr

    with open(path, "rb") as f:
        unpacker = msgpack.Unpacker(
            f, ext_hook=ext_hook, raw=False, read_size=min(_READ_SIZE, max(size, 1)),
            max_buffer_size=max(size, 1))
        try:
            tree = unpacker.unpack()
        except msgpack.OutOfData:
            raise CheckpointError(
                f"checkpoint {path} is truncated ({size} bytes): the msgpack stream ends early"
            ) from None
        except CheckpointError as e:
            raise CheckpointError(f"checkpoint {path}: {e}") from None
        except (ValueError, TypeError, msgpack.UnpackException) as e:
            raise CheckpointError(
                f"checkpoint {path} is not a Flax msgpack param file ({type(e).__name__}: {e})"
            ) from None
        try:
            unpacker.unpack()
        except msgpack.OutOfData:
            pass
        else:
            raise CheckpointError(f"checkpoint {path} has trailing data after the param tree")
    if not isinstance(tree, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(tree).__name__}, not a param dict")
    if set(tree) == {"params"}:
        raise CheckpointError(
            f"checkpoint {path} has a {{'params': ...}} wrapper; the released format is the bare "
            "param dict (unwrap it before saving)"
        )
    check_tree(tree, config, source=str(path))
    return tree


def flatten(tree: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yields ``(path, leaf)`` of a nested dict with ``/``-joined paths, sorted by key."""
    for key in sorted(tree):
        value = tree[key]
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from flatten(value, path + "/")
        else:
            yield path, value


def unflatten(flat: Mapping[str, Any]) -> Params:
    """Inverse of :func:`flatten`."""
    tree: Params = {}
    for path, value in flat.items():
        node = tree
        *parents, leaf = path.split("/")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return tree


def check_tree(tree: Mapping[str, Any], config: UnifiedIOConfig, source: str = "params") -> None:
    """Raises CheckpointError naming the first path that is missing, unexpected or misshaped."""
    expected = parameter_shapes(config)
    got = {p: tuple(np.shape(v)) for p, v in flatten(tree)}
    missing = sorted(set(expected) - set(got))
    unexpected = sorted(set(got) - set(expected))
    wrong = [p for p in expected if p in got and got[p] != expected[p]]
    problems = []
    if missing:
        problems.append(f"missing path {missing[0]!r} (expected shape {expected[missing[0]]})")
    if unexpected:
        problems.append(f"unexpected path {unexpected[0]!r} (shape {got[unexpected[0]]})")
    if wrong:
        p = wrong[0]
        problems.append(f"wrong shape at {p!r}: got {got[p]}, expected {expected[p]}")
    if problems:
        counts = f"{len(missing)} missing, {len(unexpected)} unexpected, {len(wrong)} misshaped"
        raise CheckpointError(
            f"{source} does not match the config (emb_dim={config.emb_dim}, "
            f"heads={config.num_heads}, layers={config.num_encoder_layers}/"
            f"{config.num_decoder_layers}): first mismatch: {problems[0]} [{counts}]"
        )


def save_checkpoint(params: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Writes ``params`` in the released format, leaf by leaf, via a temp file + rename."""
    path = Path(path)
    packer = msgpack.Packer(use_bin_type=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            _write_node(f, packer, params)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _write_node(f: Any, packer: msgpack.Packer, node: Any) -> None:
    if isinstance(node, Mapping):
        f.write(packer.pack_map_header(len(node)))
        for key in sorted(node):
            f.write(packer.pack(str(key)))
            _write_node(f, packer, node[key])
        return
    arr = np.ascontiguousarray(np.asarray(node))
    payload = msgpack.packb(
        (list(arr.shape), arr.dtype.name, arr.tobytes("C")), use_bin_type=True
    )
    f.write(packer.pack(msgpack.ExtType(_EXT_NDARRAY, payload)))


def cast_params(params: Mapping[str, Any], dtype: str) -> Params:
    """Returns a copy of ``params`` with every leaf cast to ``dtype`` (numpy)."""
    target = _target_dtype(dtype)
    return unflatten({p: np.asarray(v).astype(target) for p, v in flatten(params)})


def random_params(config: UnifiedIOConfig, seed: int = 0, dtype: str = "float32") -> Params:
    """Random weights with the checkpoint's tree, for tests and ``model.checkpoint=random``.

    Kernels ~ N(0, 1/fan_in), embeddings ~ N(0, 1), relative-position tables ~ N(0, 0.1);
    1-D norm scales ~ 1 + 0.2 N(0, 1) and biases ~ 0.2 N(0, 1) (non-constant on purpose, like
    the parity set, so a missing scale or bias changes outputs).
    """
    target = _target_dtype(dtype)
    rng = np.random.default_rng(seed)
    flat = {}
    for path, shape in parameter_shapes(config).items():
        x = scale_random_leaf(path, shape, rng.standard_normal(shape, dtype=np.float32))
        flat[path] = x.astype(target, copy=False)
    return unflatten(flat)


def scale_random_leaf(path: str, shape: tuple[int, ...], x):
    """Turn standard-normal draws ``x`` (numpy or jax) into the random init of leaf ``path``."""
    leaf = path.rsplit("/", 1)[-1]
    if leaf == "scale":
        return 1.0 + 0.2 * x
    if leaf == "bias":
        return 0.2 * x
    if "relpos_bias" in path:
        return 0.1 * x
    if leaf == "kernel":
        return x / np.float32(np.sqrt(np.prod(shape[:-1])))
    return x
