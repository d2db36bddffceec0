"""The public Unified-IO 2 parity kit, shared by these tests."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def uio2_kit(golden_dir) -> Path:
    kit = golden_dir / "unified_io_2" / "parity_public"
    if not kit.is_dir():
        pytest.skip(f"Unified-IO 2 kit not found at {kit}")
    return kit
