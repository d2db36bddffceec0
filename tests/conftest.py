"""Shared test fixtures: where the golden vectors live.

CI checks out the project with `shared/` beside it (`../shared`), so golden files are read
from there; the installed package never reads them.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

# No per-example deadline (CI machines are small and shared, so timings vary) and the same
# examples on every run, so a red CI is reproducible.
settings.register_profile("grit-eval", deadline=None, derandomize=True)
settings.load_profile("grit-eval")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__import__("os").environ.get("GRIT_EVAL_SHARED", REPO_ROOT.parent / "shared"))
GOLDEN = SHARED / "golden"


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    if not GOLDEN.is_dir():
        pytest.skip(f"golden vectors not found at {GOLDEN} (set GRIT_EVAL_SHARED)")
    return GOLDEN
