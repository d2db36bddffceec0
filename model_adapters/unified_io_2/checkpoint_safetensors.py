"""Reading safetensors files with numpy alone (the format of the parity kits).

Layout: 8-byte little-endian header length n, n bytes of JSON {name: {dtype, shape,
data_offsets: [begin, end]}, "__metadata__": ...}, then the raw buffer. Tensors are views of one
read-only memory map, so nothing is copied until the model asks for it.
"""
from __future__ import annotations

import json
import struct
from pathlib import Path

import ml_dtypes
import numpy as np

_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": ml_dtypes.bfloat16, "F64": np.float64,
           "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8,
           "BOOL": np.bool_}


class FormatError(ValueError):
    """A checkpoint file is not in the format its name says."""


def read_safetensors(path: str | Path) -> dict[str, np.ndarray]:
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise FormatError(f"{path}: not a safetensors file (shorter than 8 bytes)")
        (n,) = struct.unpack("<Q", head)
        if n > size - 8 or n > 100_000_000:
            raise FormatError(f"{path}: not a safetensors file (header length {n} out of range)")
        try:
            header = json.loads(f.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise FormatError(f"{path}: not a safetensors file (header is not JSON)") from None
    if not isinstance(header, dict):
        raise FormatError(f"{path}: not a safetensors file (header is not an object)")
    buf = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n) if size > 8 + n else None
    out = {}
    for name, info in header.items():
        if name == "__metadata__" or not isinstance(info, dict):
            continue
        try:
            dtype = np.dtype(_DTYPES[info["dtype"]])
            shape = tuple(int(d) for d in info["shape"])
            begin, end = (int(x) for x in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise FormatError(f"{path}: tensor {name!r} has a malformed header entry") from None
        count = int(np.prod(shape, dtype=np.int64))
        if end - begin != count * dtype.itemsize or begin < 0 or end > size - 8 - n:
            raise FormatError(f"{path}: tensor {name!r} data offsets do not match its shape")
        if count == 0 or buf is None:
            out[name] = np.zeros(shape, dtype)
        else:
            out[name] = buf[begin:end].view(dtype).reshape(shape)
    return out


def read_safetensors_folder(folder: Path) -> dict[str, np.ndarray]:
    """``model.safetensors``, or the shards listed in ``model.safetensors.index.json``."""
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text())["weight_map"]
        except (KeyError, TypeError, json.JSONDecodeError):
            raise FormatError(f"{index}: no weight_map in the shard index") from None
        out: dict[str, np.ndarray] = {}
        for shard in sorted(set(weight_map.values())):
            if not isinstance(shard, str) or Path(shard).name != shard:
                raise FormatError(f"{index}: shard name {shard!r} is not a file in the folder")
            part = read_safetensors(folder / shard)
            for name, arr in part.items():
                if weight_map.get(name) == shard:
                    out[name] = arr
        missing = sorted(set(weight_map) - set(out))
        if missing:
            raise FormatError(f"{index}: tensor {missing[0]!r} is not in its shard")
        return out
    return read_safetensors(folder / "model.safetensors")


def write_safetensors(tensors: dict[str, np.ndarray], path: str | Path) -> None:
    """Write a safetensors file (temp file, then rename: a partial file never looks complete)."""
    names = {np.dtype(v): k for k, v in _DTYPES.items()}
    header, offset = {}, 0
    arrays = {k: np.require(v, requirements="C") for k, v in tensors.items()}
    for name, arr in arrays.items():
        header[name] = {"dtype": names[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    blob = json.dumps(header).encode()
    blob += b" " * (-len(blob) % 8)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(blob)) + blob)
        for arr in arrays.values():
            f.write(arr.tobytes())
    tmp.replace(path)
