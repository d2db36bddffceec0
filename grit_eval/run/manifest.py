"""The run manifest: resolved config, versions, git commit, seeds and timings."""
from __future__ import annotations

import dataclasses
import platform
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from grit_eval.run.atomic import write_json_atomic
from grit_eval.scoring.environment import numeric_environment

_PACKAGES = ("grit-eval", "numpy", "scipy", "pandas", "pycocotools", "pillow", "hydra-core",
             "jax", "jaxlib", "flax", "sentencepiece")


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_commit() -> str | None:
    """The commit of the harness source (None when not run from a git checkout)."""
    source = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return out + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_manifest(run_dir: Path, settings: Any, extra: dict[str, Any]) -> None:
    manifest = {
        "config": dataclasses.asdict(settings),
        "seeds": {"model": settings.model.seed, "data": settings.data.seed},
        "versions": package_versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "git_commit": git_commit(),
        # The BLAS kernel can move a normal-map score (README: reproducing bit for bit).
        "numeric_environment": numeric_environment(),
        "command": sys.argv,
        **extra,
    }
    write_json_atomic(Path(run_dir) / "manifest.json", manifest)
