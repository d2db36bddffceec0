"""Reading a ``torch.save`` zip checkpoint (``pytorch_model.bin``) without torch.

The pickle is untrusted: a restricted unpickler admits exactly the globals a released state dict
names (``collections.OrderedDict``, ``torch._utils._rebuild_tensor_v2`` and the Float, BFloat16
and Half storage types) and refuses anything else with one line naming it, so a hostile file can
never run code. Storages are persistent ids ``('storage', type, key, location, numel)`` resolved
to the stored (uncompressed) zip member ``<name>/data/<key>``; each tensor is a strided view of a
read-only memory map of that member, so a 27 GB file never needs a second copy in host memory.
"""
from __future__ import annotations

import collections
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np

from model_adapters.unified_io_2.checkpoint_safetensors import FormatError

_STORAGES = {"FloatStorage": np.float32, "BFloat16Storage": ml_dtypes.bfloat16,
             "HalfStorage": np.float16}


class RefusedGlobal(pickle.UnpicklingError):
    """The pickle names a global outside the allow-list."""


class _Storage:
    def __init__(self, dtype: Any, key: str, numel: int):
        self.dtype, self.key, self.numel = np.dtype(dtype), key, numel


class _StorageType:
    def __init__(self, name: str):
        self.name = name


def _member_array(zf: zipfile.ZipFile, path: Path, name: str, dtype: np.dtype) -> np.ndarray:
    """Memory map of one stored zip member, found through its local header."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise FormatError(f"{path}: storage member {name} is missing") from None
    if info.compress_type != zipfile.ZIP_STORED:
        raise FormatError(f"{path}: storage member {name} is compressed (torch stores them raw)")
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        local = f.read(30)
    if local[:4] != b"PK\x03\x04":
        raise FormatError(f"{path}: bad local header for {name}")
    n_name, n_extra = struct.unpack("<HH", local[26:30])
    start = info.header_offset + 30 + n_name + n_extra
    if info.file_size % dtype.itemsize:
        raise FormatError(f"{path}: storage {name} size is not a multiple of {dtype}")
    if info.file_size == 0:
        return np.zeros((0,), dtype)
    return np.memmap(path, dtype=dtype, mode="r", offset=start, shape=(info.file_size // dtype.itemsize,))


def read_torch_zip(path: str | Path) -> dict[str, np.ndarray]:
    path = Path(path)
    if not zipfile.is_zipfile(path):
        raise FormatError(f"{path}: not a torch zip checkpoint (legacy or unknown format)")
    with zipfile.ZipFile(path) as zf:
        pkls = [n for n in zf.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pkls) != 1:
            raise FormatError(f"{path}: not a torch zip checkpoint (no single */data.pkl)")
        prefix = pkls[0][: -len("data.pkl")]
        order = zf.read(prefix + "byteorder").decode() if prefix + "byteorder" in zf.namelist() else "little"
        if order.strip() != "little":
            raise FormatError(f"{path}: big-endian storages are not supported")
        maps: dict[str, np.ndarray] = {}

        def storage_array(st: _Storage) -> np.ndarray:
            if st.key not in maps:
                maps[st.key] = _member_array(zf, path, f"{prefix}data/{st.key}", st.dtype)
            arr = maps[st.key]
            if arr.dtype != st.dtype:
                raise FormatError(f"{path}: storage {st.key} is used with two dtypes")
            return arr

        def rebuild(storage: Any, offset: int, size: tuple, stride: tuple, *_rest: Any) -> np.ndarray:
            if not isinstance(storage, _Storage):
                raise FormatError(f"{path}: tensor rebuilt from something that is not a storage")
            flat = storage_array(storage)
            size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
            if len(size) != len(stride) or any(s < 0 for s in stride):
                raise FormatError(f"{path}: tensor with bad size/stride {size}/{stride}")
            last = int(offset) + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else int(offset)
            if int(offset) < 0 or (all(size) and last >= flat.shape[0]):
                raise FormatError(f"{path}: tensor runs past the end of storage {storage.key}")
            item = flat.dtype.itemsize
            return np.lib.stride_tricks.as_strided(
                flat[int(offset):], shape=size, strides=[s * item for s in stride], writeable=False)

        class Restricted(pickle.Unpickler):
            def find_class(self, module: str, name: str) -> Any:
                if (module, name) == ("collections", "OrderedDict"):
                    return collections.OrderedDict
                if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                    return rebuild
                if module == "torch" and name in _STORAGES:
                    return _StorageType(name)
                raise RefusedGlobal(f"{path}: refused to load global {module}.{name} "
                                    "(not a plain state dict; it could run code)")

            def persistent_load(self, pid: Any) -> Any:
                if (not isinstance(pid, tuple) or len(pid) != 5 or pid[0] != "storage"
                        or not isinstance(pid[1], _StorageType)):
                    raise FormatError(f"{path}: unsupported persistent id {str(pid)[:80]}")
                return _Storage(_STORAGES[pid[1].name], str(pid[2]), int(pid[4]))

        with zf.open(pkls[0]) as f:
            try:
                state = Restricted(f).load()
            except RefusedGlobal:
                raise
            except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError) as e:
                if isinstance(e, FormatError):
                    raise
                raise FormatError(f"{path}: unreadable pickle ({e})") from None
    if not isinstance(state, dict) or not all(isinstance(v, np.ndarray) for v in state.values()):
        raise FormatError(f"{path}: the pickle does not hold a flat dict of tensors")
    return dict(state)


def _pickle_int(n: int) -> bytes:
    if 0 <= n < 2**31:
        return b"J" + struct.pack("<i", n)
    raw = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw


def _pickle_str(s: str) -> bytes:
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def write_torch_zip(tensors: dict[str, np.ndarray], path: str | Path, archive: str = "pytorch_model") -> None:
    """Write a state dict in torch.save's zip layout (what the model hub serves), without torch:
    one raw little-endian storage per tensor and a pickle naming only the allow-listed globals.
    For tests and benchmarks of the loader; written to a temp name, then renamed."""
    kinds = {np.dtype(v): k for k, v in _STORAGES.items()}
    odict = b"ccollections\nOrderedDict\n)R"
    body = [b"\x80\x02" + odict + b"("]
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
        for i, (name, arr) in enumerate(tensors.items()):
            arr = np.require(arr, requirements="C")
            kind = kinds[arr.dtype]
            strides = [s // arr.dtype.itemsize for s in arr.strides] if arr.ndim else []
            pid = (b"(" + _pickle_str("storage") + f"ctorch\n{kind}\n".encode() + _pickle_str(str(i))
                   + _pickle_str("cpu") + _pickle_int(arr.size) + b"tQ")
            body.append(_pickle_str(name) + b"ctorch._utils\n_rebuild_tensor_v2\n(" + pid + _pickle_int(0)
                        + b"(" + b"".join(_pickle_int(d) for d in arr.shape) + b"t"
                        + b"(" + b"".join(_pickle_int(d) for d in strides) + b"t"
                        + b"\x89" + odict + b"tR")
            zf.writestr(f"{archive}/data/{i}", arr.tobytes())
        zf.writestr(f"{archive}/data.pkl", b"".join(body) + b"u.")
        zf.writestr(f"{archive}/byteorder", "little")
        zf.writestr(f"{archive}/version", "3\n")
    tmp.replace(path)
