"""End-to-end sweeps on mini-GRIT: `grit-eval -m` with the sweep callback, prompt studies, and
`grit-eval-report`, every table cell checked against the runs' own metrics files."""
from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from results.report_cli import main as report_main

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("GRIT_EVAL_SHARED", REPO.parent / "shared"))
SHORTS = ("cat", "loc", "vqa", "ref", "seg", "kp", "sn")


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    from grit_eval.minigrit import ensure_minigrit

    root = tmp_path_factory.mktemp("cache")
    ensure_minigrit(cache_dir=root)
    return root


def prompts_override(name: str) -> str:
    return f"prompts={name}"


def sweep(cache: Path, sweep_dir: Path, *overrides: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "grit_eval.cli", "-m", "run.progress=false",
           f"hydra.sweep.dir={sweep_dir}", *overrides]
    # The cache comes through the environment (data.root: null): a data.root=<path> override
    # would put the path's slashes into the job directory names.
    env = {**os.environ, "GRIT_EVAL_CACHE": str(cache)}
    result = subprocess.run(cmd, cwd=sweep_dir.parent, capture_output=True, text=True, env=env)
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def fmt(metrics: dict, base: str) -> str:
    """The table's documented cell format: mean [lower, upper], one decimal."""
    m, lo, hi = (metrics[f"{base}.{s}"] for s in ("mean", "lower", "upper"))
    return f"{m + 0.0:.1f} [{lo + 0.0:.1f}, {hi + 0.0:.1f}]"


def md_rows(path: Path) -> list[dict]:
    lines = [l for l in path.read_text().splitlines() if l.startswith("|")]
    split = lambda l: [c.strip() for c in re.split(r"(?<!\\)\|", l)[1:-1]]
    header = split(lines[0])
    return [dict(zip(header, split(l))) for l in lines[2:]]


def job_files(report_dir: Path) -> dict[str, tuple[dict, dict]]:
    """Run label -> (manifest, metrics) read from each run directory listed in runs.csv."""
    with open(report_dir / "runs.csv") as handle:
        listed = list(csv.DictReader(handle))
    return {r["run"]: (json.loads(Path(r["path"], "manifest.json").read_text()),
                       json.loads(Path(r["path"], "metrics.json").read_text())) for r in listed}


@pytest.fixture(scope="module")
def two_by_two(cache, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sweep")
    sweep(cache, root / "s", "model=prior,oracle", "tasks=vqa,refexp")
    return root / "s"


def test_callback_tables_match_every_runs_metrics(two_by_two):
    report = two_by_two / "report"
    files = job_files(report)
    assert len(files) == 4 and len({p.name for p in two_by_two.iterdir() if p.name[0].isdigit()}) == 4
    md = {row["run"]: row for row in md_rows(report / "leaderboard.md")}
    with open(report / "leaderboard.csv") as handle:
        numbers = {row["run"]: row for row in csv.DictReader(handle)}
    assert set(md) == set(numbers) == set(files)
    checked = 0
    for label, (manifest, metrics) in files.items():
        tasks = manifest["config"]["tasks"]
        for short in (*SHORTS, "all"):
            base = f"acc.any.agg.{short}"
            assert md[label][f"{short} test"] == "" and numbers[label][f"{short}.test.mean"] == ""
            if f"{base}.mean" in metrics:
                assert md[label][f"{short} ablation"] == fmt(metrics, base)
                for stat in ("mean", "lower", "upper"):
                    assert float(numbers[label][f"{short}.ablation.{stat}"]) == metrics[f"{base}.{stat}"]
                checked += 1
            else:
                assert short not in [{"vqa": "vqa", "refexp": "ref"}[t] for t in tasks]
                assert md[label][f"{short} ablation"] == "not run"
    assert checked == 8  # 4 runs x (their task + all)
    oracle = [m for lab, (man, m) in files.items() if man["config"]["model"]["name"] == "oracle"]
    assert all(m["acc.any.agg.all.mean"] == pytest.approx(100 / 7, abs=1e-3) for m in oracle)
    # calibration and robustness cells come from the same files
    for row in md_rows(report / "calibration.md") + md_rows(report / "robustness.md"):
        metrics = files[row["run"]][1]
        for column, value in row.items():
            if column in ("acc", "conf", "inf", "misinf", "rmse", "sa"):
                assert value == fmt(metrics, f"{column}.any.agg.{row['task']}")
            elif column in ("undist", "dist", "deldist"):
                assert value == fmt(metrics, f"acc.any.{column}.{row['task']}")


def test_offline_report_reproduces_the_callback_and_compares_runs(two_by_two, tmp_path):
    jobs = {json.loads((p / "manifest.json").read_text())["config"]["model"]["name"]
            + "/" + json.loads((p / "manifest.json").read_text())["config"]["tasks"][0]: p
            for p in two_by_two.iterdir() if (p / "manifest.json").exists()}
    out = tmp_path / "offline"
    assert report_main([str(two_by_two), "--out", str(out), "--compare", str(jobs["oracle/vqa"]),
                        str(jobs["prior/vqa"]), "--bootstrap", "500"]) == 0
    for name in ("leaderboard.csv", "calibration.csv", "robustness.csv", "concept_groups.csv"):
        assert (out / name).read_text() == (two_by_two / "report" / name).read_text(), name
    oracle = json.loads((jobs["oracle/vqa"] / "metrics.json").read_text())
    prior = json.loads((jobs["prior/vqa"] / "metrics.json").read_text())
    with open(out / "paired.csv") as handle:
        vqa = next(r for r in csv.DictReader(handle) if r["task"] == "vqa")
    # the paired point estimate is the difference of the official agg scores (rounded to 4 dp)
    assert float(vqa["diff"]) == pytest.approx(oracle["acc.any.agg.vqa.mean"] - prior["acc.any.agg.vqa.mean"], abs=1e-3)
    assert float(vqa["lower"]) <= float(vqa["diff"]) <= float(vqa["upper"])
    assert float(vqa["p_sign"]) < 0.05 and int(vqa["losses"]) == 0


def test_prompts_with_an_adapter_that_has_none_are_refused(cache, tmp_path):
    result = sweep(cache, tmp_path / "refused", prompts_override("refexp_paraphrases"), "tasks=refexp",
                   "model=prior", check=False)
    assert result.returncode != 0
    assert "model=prior has no prompts to replace: model.prompts.refexp" in result.stderr


def test_prompt_study_over_the_paper_refexp_templates(cache, tmp_path, monkeypatch):
    expected = paper_refexp_templates()
    # The example adapter (examples/colour_rules), by import string: its answers depend on the prompt.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO / "examples/colour_rules"),
                                                      os.environ.get("PYTHONPATH", "")]))
    sweep(cache, tmp_path / "study", prompts_override("refexp_paraphrases"), "tasks=refexp",
          "model=grit_eval_colour_rules:ColourRulesAdapter", "data.limit=6")
    report = tmp_path / "study" / "report"
    rows = md_rows(report / "prompt_study_refexp.md")
    assert [r["template"] for r in rows[:8]] == expected
    assert [r["template"] for r in rows[8:]] == ["mean across templates", "std across templates", "worst-best gap"]
    by_template = {man["config"]["model"]["prompts"]["refexp"]: m for man, m in job_files(report).values()}
    assert sorted(by_template) == sorted(expected)
    (model,) = [c for c in rows[0] if c != "template"]
    for row in rows[:8]:
        assert row[model] == fmt(by_template[row["template"]], "acc.any.agg.ref")
    # the example reads 6 words: templates that put the expression late lose the colour word
    values = {float(by_template[t]["acc.any.agg.ref.mean"]) for t in expected}
    assert len(values) > 1 and float(rows[10][model]) > 0
    assert (report / "prompt_sensitivity_refexp.png").read_bytes()[:4] == b"\x89PNG"
    # per-sample robustness, recomputed here from each run's records.jsonl
    with open(report / "runs.csv") as handle:
        paths = [r["path"] for r in csv.DictReader(handle)]
    per_run = {}
    for path in paths:
        template = json.loads(Path(path, "manifest.json").read_text())["config"]["model"]["prompts"]["refexp"]
        lines = [json.loads(l) for l in Path(path, "records.jsonl").read_text().splitlines()]
        per_run[template] = {r["example_id"]: r["score"] for r in lines if r["dist"] == "undist"}
    ids = sorted(per_run[expected[0]])
    flips = sum(len({per_run[t][i] for t in expected}) > 1 for i in ids)
    accs = [100 * sum(per_run[t][i] for i in ids) / len(ids) for t in expected]
    robust = {r["template"]: r for r in md_rows(report / "prompt_robustness_refexp.md")}
    assert robust["flip rate (%)"][model] == f"{100 * flips / len(ids):.1f}" and flips > 0
    assert robust["worst template"][model] == f"{min(accs):.1f}"
    assert robust["best-worst gap"][model] == f"{max(accs) - min(accs):.1f}"
    assert robust[expected[0]][model].startswith(f"{accs[0]:.1f} [")
    assert (report / "prompt_robustness_refexp_0.png").read_bytes()[:4] == b"\x89PNG"


def test_a_failing_job_is_reported_not_dropped(cache, tmp_path):
    result = sweep(cache, tmp_path / "bad", "model.name=prior,oracel", "tasks=vqa", check=False)
    assert result.returncode != 0 and "unknown adapter 'oracel'" in result.stderr
    out = tmp_path / "report"
    assert report_main([str(tmp_path / "bad"), "--out", str(out), "--no-plots"]) == 0
    rows = {r["run"]: r for r in md_rows(out / "leaderboard.md")}
    # The bad job was refused before it wrote anything (no manifest): it is labelled by its
    # job folder, and the only configured run by its model and split.
    assert rows["prior@mini_grit/ablation"]["status"] == "finished"
    failed = rows["1_model.name=oracel,run.progress=False,tasks=vqa"]
    assert failed["status"] == "failed" and failed["vqa ablation"] == "FAILED"


def paper_refexp_templates() -> list[str]:
    """The eight prompts of UNIFIED_IO.md "Prompt sensitivity", REFEXP -> the `{}` slot."""
    doc = SHARED / "docs" / "UNIFIED_IO.md"
    if not doc.is_file():
        pytest.skip(f"{doc} not found (set GRIT_EVAL_SHARED)")
    section = doc.read_text().split("### Prompt sensitivity", 1)[1].split("\n## ", 1)[0]
    found = re.findall(r"^\| `(.+)` \| [\d.]+ \|$", section, re.M)
    assert len(found) == 8
    return [t.replace("REFEXP", "{}") for t in found]


def test_every_prompt_set_composes_to_valid_templates():
    import grit_eval.cli  # noqa: F401  (registers the config schema)
    from hydra import compose, initialize_config_module
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from model_adapters.unified_io.prompts import PromptSet

    parser = OverridesParser.create()
    sets = sorted(p.stem for p in (REPO / "conf/prompts").glob("*_paraphrases.yaml"))
    assert len(sets) == 7
    with initialize_config_module(config_module="conf", version_base="1.3"):
        for name in sets:
            cfg = compose("config", overrides=[prompts_override(name)], return_hydra_config=True)
            ((key, value),) = cfg.hydra.sweeper.params.items()
            task = key.rsplit(".", 1)[1]
            assert name == f"{task}_paraphrases" and key in cfg.hydra.job.config.override_dirname.exclude_keys
            items = parser.parse_overrides([f"{key}={value}"])[0].sweep_string_iterator()
            templates = [parser.parse_overrides([f"{key}={item}"])[0].value() for item in items]
            assert cfg.model.prompts[task] == templates[0] and len(set(templates)) == len(templates) >= 4
            for template in templates:
                PromptSet(templates={task: template})  # raises on a template without its slot
            if task == "refexp":
                assert templates == paper_refexp_templates()
        # launcher presets are only composed when chosen: the default config has none
        assert "joblib" not in str(compose("config", return_hydra_config=True).hydra.launcher)
    for name in ("joblib", "submitit_slurm", "ray"):
        text = (REPO / f"conf/launcher/{name}.yaml").read_text()
        assert f"override /hydra/launcher: {name}" in text and "XLA_PYTHON_CLIENT_MEM_FRACTION" in text
