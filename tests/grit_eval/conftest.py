"""Fixtures shared by the run-level tests: one mini-GRIT cache per session."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def minigrit_cache(tmp_path_factory) -> Path:
    """A mini-GRIT cache generated once per test session (also used as $GRIT_EVAL_CACHE)."""
    from grit_eval.minigrit import ensure_minigrit

    root = tmp_path_factory.mktemp("minigrit_cache")
    ensure_minigrit(cache_dir=root)
    return root
