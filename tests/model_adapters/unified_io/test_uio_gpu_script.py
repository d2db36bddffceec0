"""The prepared GPU benchmark script runs end to end on CPU with the tiny config (smoke)."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_gpu_decode_script_smoke_on_cpu():
    result = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu_decode.sh"), "--size", "tiny", "--batches", "2"],
        capture_output=True, text=True, timeout=300, env=os.environ | {"JAX_PLATFORMS": "cpu"})
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "size tiny, bfloat16" in out
    floor = re.search(r"floor (\d+\.\d+) ms/step", out)
    assert floor and float(floor.group(1)) > 0
    row = re.search(r"^\s+2\s+(\d+\.\d+)\s", out, re.MULTILINE)
    assert row and float(row.group(1)) > 0, out


def test_gpu_decode_script_rejects_unknown_flags():
    result = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_decode.sh"), "--sise", "xl"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "unknown argument: --sise" in result.stderr
