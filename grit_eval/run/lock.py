"""One process per run directory: a ``.lock`` file naming its owner.

The lock is created with its content in one step (a temp file hard-linked to ``.lock``), so a
kill never leaves an empty lock behind this code's back. A lock is taken over only when it is
provably stale:

* its pid is dead on this host;
* it is empty or unreadable and older than ``EMPTY_LOCK_GRACE_S`` (an older writer killed
  between create and write, or a hand-made file);
* it names the same SLURM job as this process, on any host (a requeued job: the old attempt
  was killed, possibly on another node).

Anything else is refused with a message naming the owner and the explicit override. The lock
is removed on exit, including on Ctrl-C and SIGTERM (the CLIs turn SIGTERM into an exception),
and only when it is still this process's own.
"""
from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from grit_eval.errors import StoreError

LOCK_NAME = ".lock"
EMPTY_LOCK_GRACE_S = 5.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def slurm_job() -> str | None:
    """This process's SLURM job (array jobs: ``<array job>_<task>``), or None outside SLURM."""
    array, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    if array and task:
        return f"{array}_{task}"
    return os.environ.get("SLURM_JOB_ID") or None


def _owner(path: Path) -> dict | None:
    """The lock's content, or None when it is empty or unreadable."""
    try:
        owner = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) else None


def stale_reason(path: Path, owner: dict | None, me: dict) -> str | None:
    """Why the lock at ``path`` may be taken over, or None when its owner may be alive."""
    if owner is None:
        try:
            age = time.time() - path.stat().st_mtime
        except OSError:
            return "it vanished"
        return f"it is empty or unreadable and {age:.0f} s old" if age > EMPTY_LOCK_GRACE_S else None
    if owner.get("slurm_job") and owner.get("slurm_job") == me.get("slurm_job"):
        return f"it belongs to an earlier attempt of SLURM job {owner['slurm_job']}"
    pid = owner.get("pid")
    if owner.get("host") == me["host"] and isinstance(pid, int) and not _alive(pid):
        return f"its process {pid} is gone"
    return None


class RunLock:
    """Context manager holding ``<run_dir>/.lock`` (see the module docstring).

    Args:
        run_dir: the run directory.
        force: take the lock over whoever holds it (the user's explicit override).
        override: how the user asks for ``force`` (named in the refusal message).
    """

    def __init__(self, run_dir: Path, force: bool = False, override: str = "run.break_lock=true"):
        self.path = Path(run_dir) / LOCK_NAME
        self.force = force
        self.override = override
        self.me = {"pid": os.getpid(), "host": socket.gethostname(), "slurm_job": slurm_job()}

    def _create(self) -> bool:
        """Create the lock with its content in one step; False when one exists."""
        tmp = self.path.with_name(f".lock.{self.me['pid']}.tmp")
        tmp.write_text(json.dumps(self.me))
        try:
            os.link(tmp, self.path)
            return True
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: exclusive create, then write
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return False
            with os.fdopen(fd, "w") as handle:
                handle.write(json.dumps(self.me))
            return True
        finally:
            tmp.unlink(missing_ok=True)

    def __enter__(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            if self._create():
                return self
            owner = _owner(self.path)
            if self.force or stale_reason(self.path, owner, self.me):
                self.path.unlink(missing_ok=True)
                continue
            who = (f"pid {owner.get('pid')} on {owner.get('host')}" if owner
                   else "a process that has not finished writing the lock")
            raise StoreError(f"{self.path.parent}: run directory is in use by {who}; wait for it "
                             f"to finish, or, if it is gone, rerun with {self.override}")
        raise StoreError(f"{self.path}: could not take the run lock (another process keeps "
                         f"taking it); rerun with {self.override}")

    def __exit__(self, *exc: object) -> None:
        if _owner(self.path) == self.me:
            self.path.unlink(missing_ok=True)
