"""One process per run directory: a lock file holding the owner's pid and host."""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from grit_eval.errors import StoreError


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """Context manager: refuse a second live owner; take over a stale lock (dead pid)."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / ".lock"

    def __enter__(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = {"pid": os.getpid(), "host": socket.gethostname()}
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    owner = json.loads(self.path.read_text() or "{}")
                except (OSError, ValueError):
                    owner = {}
                same_host = owner.get("host") == me["host"]
                if same_host and isinstance(owner.get("pid"), int) and not _alive(owner["pid"]):
                    self.path.unlink(missing_ok=True)  # stale: its owner died
                    continue
                raise StoreError(
                    f"{self.path.parent}: run directory is in use by pid {owner.get('pid')} on "
                    f"{owner.get('host')}; wait for it, or delete {self.path} if that process is gone")
            with os.fdopen(fd, "w") as handle:
                json.dump(me, handle)
            return self
        raise StoreError(f"{self.path}: could not take the run lock")

    def __exit__(self, *exc: object) -> None:
        self.path.unlink(missing_ok=True)
