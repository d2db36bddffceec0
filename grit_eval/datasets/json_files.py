"""Loading native JSON annotation files with errors that name the file and the record."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Mapping

from grit_eval.errors import DataError


def load_json(path: str | Path) -> Any:
    """Parses a JSON file; a missing or malformed file is a ``DataError`` naming it."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            return json.load(f)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: not valid JSON ({err})") from None


def record_error(path: str | Path, record_id: Any, problem: str) -> DataError:
    """The house message shape: ``<file>: <id>: <problem>``."""
    return DataError(f"{path}: {record_id}: {problem}")


def require_keys(record: Any, keys: Iterable[str], path: str | Path, record_id: Any) -> None:
    """Raises a ``DataError`` when ``record`` is not a dict holding every key."""
    if not isinstance(record, Mapping):
        raise record_error(path, record_id, f"expected an object, got {type(record).__name__}")
    missing = [k for k in keys if k not in record]
    if missing:
        raise record_error(path, record_id, f"missing key(s) {', '.join(map(repr, missing))}")


def require_list(data: Any, key: str | None, path: str | Path) -> list:
    """``data[key]`` (or ``data`` itself when key is None) as a list, else a ``DataError``."""
    if key is not None:
        if not isinstance(data, Mapping) or key not in data:
            raise DataError(f"{path}: expected a JSON object with a {key!r} list")
        data = data[key]
    if not isinstance(data, list):
        where = f"{key!r}" if key else "the top level"
        raise DataError(f"{path}: {where} must be a JSON list, got {type(data).__name__}")
    return data
