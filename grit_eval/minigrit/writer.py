"""Writes a mini-GRIT root to disk, with a manifest, and keeps an atomic on-disk cache.

A root is complete only when MANIFEST.json exists, is written last, and every file it lists
has its recorded sha256. The cache generates into a temporary folder beside the target and
renames it into place, so a concurrent or interrupted generation never leaves a folder that
looks complete.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from grit_eval.minigrit.builder import assemble, dump_json
from grit_eval.minigrit.vocabulary import GENERATOR_VERSION

MANIFEST = "MANIFEST.json"
DEFAULT_SUBSETS: tuple[str, ...] = ("train", "ablation")
CACHE_ENV = "GRIT_EVAL_CACHE"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def generate(root: Path, seed: int = 0, subsets: tuple[str, ...] = DEFAULT_SUBSETS) -> Path:
    """Generates the mini-GRIT set into ``root`` (created; must be absent or empty).

    Args:
        root: destination folder.
        seed: generator seed; the same seed gives the same bytes.
        subsets: subset names, e.g. ("train", "ablation").

    Returns:
        ``root``.
    """
    root = Path(root)
    if isinstance(subsets, str):
        raise TypeError(f"subsets must be a sequence of names, got the string {subsets!r}")
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise FileExistsError(f"mini-GRIT destination {root} exists and is not an empty folder")
    files, summary = assemble(int(seed), tuple(subsets))
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    manifest = {
        "name": "mini_grit",
        "generator": "grit_eval.minigrit",
        "generator_version": GENERATOR_VERSION,
        "seed": int(seed),
        "subsets": list(subsets),
        **summary,
        "files": {rel: _sha256(files[rel]) for rel in sorted(files)},
    }
    # Written last: its presence marks the root complete.
    tmp = root / (MANIFEST + ".tmp")
    tmp.write_bytes(dump_json(manifest))
    os.replace(tmp, root / MANIFEST)
    return root


def read_manifest(root: Path) -> dict[str, Any] | None:
    """The manifest of ``root``, or None when absent or unreadable."""
    try:
        return json.loads((Path(root) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_complete(root: Path, seed: int | None = None, subsets: tuple[str, ...] | None = None) -> bool:
    """True when ``root`` has a manifest of this generator version (and seed/subsets, if
    given) and every listed file exists with its recorded sha256."""
    manifest = read_manifest(root)
    if not isinstance(manifest, dict) or manifest.get("generator_version") != GENERATOR_VERSION:
        return False
    if seed is not None and manifest.get("seed") != seed:
        return False
    if subsets is not None and manifest.get("subsets") != list(subsets):
        return False
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        return False
    for rel, digest in files.items():
        try:
            if _sha256((Path(root) / rel).read_bytes()) != digest:
                return False
        except OSError:
            return False
    return True


def default_cache_dir() -> Path:
    """``$GRIT_EVAL_CACHE`` if set, else ``~/.cache/grit-eval``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "grit-eval"


def ensure_minigrit(cache_dir: Path | None = None, seed: int = 0) -> Path:
    """The root of a complete mini-GRIT set (train + ablation), generated on first use.

    Args:
        cache_dir: parent folder of the cache (default: ``default_cache_dir()``).
        seed: generator seed.

    Returns:
        ``<cache_dir>/mini_grit-v<version>-s<seed>``.
    """
    base = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    target = base / f"mini_grit-v{GENERATOR_VERSION}-s{seed}"
    if is_complete(target, seed, DEFAULT_SUBSETS):
        return target
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=base))
    try:
        generate(tmp, seed, DEFAULT_SUBSETS)
        for _ in range(3):
            try:
                os.rename(tmp, target)
                return target
            except OSError:
                # Something is already there: a concurrent generator that won (complete:
                # use it) or a corrupt leftover (move it aside, then take its place).
                if is_complete(target, seed, DEFAULT_SUBSETS):
                    return target
                stale = base / f".{target.name}.stale-{uuid.uuid4().hex}"
                try:
                    os.rename(target, stale)
                except FileNotFoundError:
                    pass
                shutil.rmtree(stale, ignore_errors=True)
        raise RuntimeError(f"could not move the generated mini-GRIT set into {target}")
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
