"""Issue 13 item 4: a Unified-IO run on mini-GRIT writes the same bytes on 1 and 4 devices.

Two ``grit-eval`` subprocesses (tiny random weights) differ only in XLA's forced host device
count; with one row per device and call, the 4-device run spreads each batch over all devices
while the 1-device run makes one call per row, so any dependence on the device layout would
show in categorization confidences, sampled segmentation/normal codes and normal-map PNGs.
"""
from __future__ import annotations

import os
import subprocess
import sys

from model_adapters.unified_io.adapter import UnifiedIOAdapter


def _run(tmp_path, devices: int):
    run = tmp_path / f"run{devices}"
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
               JAX_PLATFORMS="cpu")
    cmd = [sys.executable, "-m", "grit_eval.cli", "model=unified_io_tiny", "model.batch_size=4",
           "+model.options.per_device_batch=1", f"data.root={tmp_path / 'cache'}",
           "data.limit=2", f"run.dir={run}", "run.progress=false"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    folder = run / "submission" / "ablation"
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_one_and_four_devices_write_byte_identical_submissions(tmp_path):
    one, four = _run(tmp_path, 1), _run(tmp_path, 4)
    assert "categorization.json" in one and any(k.startswith("normals/") for k in one)
    assert sorted(four) == sorted(one)
    differ = [name for name in one if one[name] != four[name]]
    assert not differ, f"files differ between 1 and 4 devices: {differ}"


def test_the_adapter_says_batch_size_changes_outputs():
    assert UnifiedIOAdapter.batch_invariant is False
