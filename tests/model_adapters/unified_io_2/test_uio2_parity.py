"""The parity command on the public kit, and on a copy of it with one weight perturbed (which
must fail: the comparison is not vacuous)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from model_adapters.unified_io_2 import parity
from model_adapters.unified_io_2.checkpoint_safetensors import read_safetensors, write_safetensors

@pytest.fixture(scope="module")
def public_report(uio2_kit, tmp_path_factory):
    out = tmp_path_factory.mktemp("parity") / "report.json"
    status = parity.main([str(uio2_kit), "--json", str(out)])
    return status, json.loads(out.read_text())


def test_every_public_case_is_reported(public_report, uio2_kit):
    _, report = public_report
    names = [c["name"] for c in json.loads((uio2_kit / "cases.json").read_text())["cases"]]
    assert sorted(report["cases"]) == sorted(names)
    for name, res in report["cases"].items():
        assert set(res) == {"ok", "max_abs_diff", "n_compared"}, name


def test_public_cases_pass(public_report):
    status, report = public_report
    failing = {n for n, r in report["cases"].items() if not r["ok"]}
    assert not failing, failing
    assert status == 0
    for name, res in report["cases"].items():
        assert res["n_compared"] > 0, name


def _perturbed_kit(kit: Path, dest: Path) -> Path:
    dest.mkdir()
    for item in kit.iterdir():
        if item.name != "model":
            (dest / item.name).symlink_to(item)
    (dest / "model").mkdir()
    for item in (kit / "model").iterdir():
        if item.name != "model.safetensors":
            (dest / "model" / item.name).symlink_to(item)
    tensors = {k: np.array(v) for k, v in read_safetensors(kit / "model" / "model.safetensors").items()}
    tensors["encoder.layers_0.mlp.wo.weight"][0, 0] += 0.05
    write_safetensors(tensors, dest / "model" / "model.safetensors")
    return dest


def test_perturbed_weight_fails_the_command(uio2_kit, tmp_path):
    kit = _perturbed_kit(uio2_kit, tmp_path / "kit")
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "model_adapters.unified_io_2.parity", str(kit),
                           "--json", str(out), "--only", "forward_text_target"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    res = json.loads(out.read_text())["cases"]["forward_text_target"]
    assert not res["ok"] and res["max_abs_diff"] > 1e-4
    assert "FAIL forward_text_target" in proc.stdout


def test_not_a_kit_is_one_line_and_exit_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "model_adapters.unified_io_2.parity", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "error:" in proc.stderr
