"""Shared test fixtures: where the golden vectors live.

CI checks out the project with `shared/` beside it (`../shared`), so golden files are read
from there; the installed package never reads them.
"""
from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__import__("os").environ.get("GRIT_EVAL_SHARED", REPO_ROOT.parent / "shared"))
GOLDEN = SHARED / "golden"


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    if not GOLDEN.is_dir():
        pytest.skip(f"golden vectors not found at {GOLDEN} (set GRIT_EVAL_SHARED)")
    return GOLDEN
