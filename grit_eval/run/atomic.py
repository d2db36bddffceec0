"""Write files so that a partial file never looks complete: temp file, fsync, rename."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as err:  # e.g. ENOSPC: say which file could not be written
        Path(tmp).unlink(missing_ok=True)
        raise OSError(err.errno, err.strerror, err.filename or str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, obj: Any, indent: int | None = 2) -> None:
    # sort_keys keeps files byte-identical however the dict was built (resume vs fresh run).
    write_text_atomic(path, json.dumps(obj, indent=indent, sort_keys=True) + "\n")


def _json_value(value: Any) -> Any:
    """NaN -> null (never a string), tuples -> lists, numpy scalars -> Python numbers."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "item"):
        return value.item()
    return value


def write_jsonl_atomic(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    """One JSON object per line, keys sorted, written atomically (``records.jsonl``)."""
    lines = [json.dumps({k: _json_value(v) for k, v in row.items()}, sort_keys=True) for row in rows]
    write_text_atomic(path, "".join(line + "\n" for line in lines))
