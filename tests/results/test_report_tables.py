"""Collection of run directories and the report's tables, on hand-made run directories."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from results.collect import FAILED, FINISHED, INCOMPLETE, collect_runs, find_run_dirs
from results.leaderboard_import import read_test_scores
from results.prompt_study import prompt_study, studied_tasks
from results.report_tables import (calibration_table, concept_group_table, leaderboard_table,
                                   robustness_table)
from results.table_formats import latex, markdown



def make_run(path: Path, *, model: str = "prior", tasks=("vqa",), metrics: dict | None = None,
             status: str = "finished", subset: str = "ablation", prompts: dict | None = None,
             records: list[dict] | None = None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    config = {"model": {"name": model, "prompts": prompts or {}, "batch_size": 8},
              "data": {"name": "mini_grit", "subset": subset, "root": str(path / "cache")},
              "tasks": list(tasks), "run": {"dir": str(path), "progress": False}}
    manifest = {"config": config, "status": status,
                "split": {"name": f"mini_grit/{subset}", "ground_truth": True}}
    (path / "manifest.json").write_text(json.dumps(manifest))
    if metrics is not None:
        (path / "metrics.json").write_text(json.dumps(metrics))
    if records is not None:
        (path / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def agg(short: str, mean: float, lower: float, upper: float, measure: str = "acc",
        partition: str = "agg", group: str = "any") -> dict:
    base = f"{measure}.{group}.{partition}.{short}"
    return {f"{base}.mean": mean, f"{base}.lower": lower, f"{base}.upper": upper}


@pytest.fixture()
def sweep(tmp_path):
    root = tmp_path / "sweep"
    good = {**agg("vqa", 20.0, 4.0, 36.0), **agg("all", 2.8571, 0.571, 5.1433), "params": 7,
            **agg("vqa", 9.0, 1.0, 17.0, measure="conf"), **agg("vqa", 5.0, -1.0, 11.0, partition="deldist"),
            **agg("vqa", 50.0, 40.0, 60.0, group="animals")}
    make_run(root / "0_model=prior", model="prior", tasks=("vqa", "refexp"), metrics=good)
    make_run(root / "10_model=oracle", model="oracle", tasks=("vqa",), metrics=None, status="running")
    make_run(root / "2_model=replay", model="replay", tasks=("vqa",), metrics={})
    (root / "2_model=replay" / "job_error.txt").write_text("ValueError: boom | bad\n")
    (root / "3_model=x" / ".hydra").mkdir(parents=True)  # died before its manifest
    (root / "0_model=prior" / "predictions" / "x").mkdir(parents=True)  # never searched
    return root


def test_every_run_is_found_in_job_order_with_its_status(sweep):
    runs = collect_runs([sweep])
    assert [p.split("/")[-1] for p in runs["path"]] == ["0_model=prior", "2_model=replay",
                                                         "3_model=x", "10_model=oracle"]
    assert list(runs["status"]) == [FINISHED, FAILED, FAILED, INCOMPLETE]
    assert runs.loc[1, "error"] == "ValueError: boom | bad"
    assert "no manifest" in runs.loc[2, "error"]
    # labels: the config values that differ (run.* and data.root never do)
    assert runs.loc[0, "run"] == "model.name=prior tasks=vqa,refexp"
    assert runs.loc[3, "run"] == "model.name=oracle tasks=vqa"
    with pytest.raises(FileNotFoundError, match="not a directory"):
        find_run_dirs([sweep / "nope"])
    (sweep.parent / "empty").mkdir()
    with pytest.raises(ValueError, match="no run directory"):
        find_run_dirs([sweep.parent / "empty"])


def test_leaderboard_cells_and_markers(sweep, tmp_path):
    csv = tmp_path / "test.csv"
    csv.write_text('run,vqa,vqa.lower,vqa.upper,all\n"model.name=prior tasks=vqa,refexp",61.5,60,63,-\n'
                   'Unified-IO XL,74.5,,,64.3\n')
    table = leaderboard_table(collect_runs([sweep]), read_test_scores(csv))
    cells = table.cells.set_index("run")
    prior = cells.loc["model.name=prior tasks=vqa,refexp"]
    assert prior["vqa ablation"] == "20.0 [4.0, 36.0]" and prior["all ablation"] == "2.9 [0.6, 5.1]"
    assert prior["ref ablation"] == "missing"  # in the config, no key
    assert prior["cat ablation"] == "not run" and prior["cat test"] == ""
    assert prior["vqa test"] == "61.5 [60.0, 63.0]" and prior["all test"] == ""
    assert prior["missing tasks"] == "cat,loc,seg,kp,sn"
    failed = cells.iloc[1]
    assert failed["status"] == FAILED and failed["vqa ablation"] == "FAILED"
    assert cells.iloc[3]["all ablation"] == "INCOMPLETE"
    imported = cells.loc["Unified-IO XL"]
    assert imported["vqa test"] == "74.5" and imported["all test"] == "64.3" and imported["vqa ablation"] == ""
    numbers = table.numbers.set_index("run").loc["model.name=prior tasks=vqa,refexp"]
    assert (numbers["vqa.ablation.mean"], numbers["vqa.ablation.upper"], numbers["params"]) == (20.0, 36.0, 7)
    assert math.isnan(numbers["ref.ablation.mean"]) and numbers["vqa.test.lower"] == 60.0
    text = markdown(table.cells)
    assert text.count("\n") == 2 + 5 and r"boom \| bad" not in text  # errors live in runs.csv


def test_task_tables_keep_failed_runs(sweep):
    runs = collect_runs([sweep])
    cal = calibration_table(runs).cells
    row = cal[(cal["task"] == "vqa")].iloc[0]
    assert row["conf"] == "9.0 [1.0, 17.0]" and row["acc"] == "20.0 [4.0, 36.0]" and row["rmse"] == "missing"
    assert list(cal["status"]).count(FAILED) == 2 and (cal["acc"] == "FAILED").sum() == 2
    rob = robustness_table(runs).cells
    assert rob.iloc[0]["deldist"] == "5.0 [-1.0, 11.0]" and rob.iloc[0]["undist"] == "missing"
    groups = concept_group_table(runs).cells
    assert groups.iloc[0][["group", "vqa", "ref"]].tolist() == ["animals", "50.0 [40.0, 60.0]", "missing"]
    assert len(groups) == 4  # one row per failed / incomplete run as well


def test_prompt_study_summary_and_rank_correlation(tmp_path):
    scores = {"m1": [70.0, 50.0, 10.0], "m2": [60.0, 40.0, 20.0]}
    templates = ['A " {} " ?', "B {}", "C {}"]
    for model, values in scores.items():
        for k, (template, value) in enumerate(zip(templates, values)):
            make_run(tmp_path / f"{model}_{k}", model=model, tasks=("refexp",),
                     prompts={"refexp": template}, metrics=agg("ref", value, value - 5, value + 5))
    make_run(tmp_path / "m2_3", model="m2", tasks=("refexp",), prompts={"refexp": "D {}"},
             metrics=None, status="running")
    runs = collect_runs([tmp_path])
    assert studied_tasks(runs) == ["refexp"]
    study = prompt_study(runs, "refexp", names={"B {}": "b"})
    cells = study.table.cells.set_index("template")
    assert list(cells.columns) == ["model.name=m1", "model.name=m2"]
    assert cells.loc['A " {} " ?', "model.name=m1"] == "70.0 [65.0, 75.0]"
    assert cells.loc["b: B {}", "model.name=m2"] == "40.0 [35.0, 45.0]"
    assert cells.loc["D {}", "model.name=m2"] == "INCOMPLETE" and cells.loc["D {}", "model.name=m1"] == "not run"
    assert cells.loc["mean across templates", "model.name=m1"] == "43.3"
    # m1: deviations 26.67, 6.67, -33.33 -> var = 1866.67 / 2 -> std 30.55
    assert cells.loc["std across templates", "model.name=m1"] == "30.6"
    assert cells.loc["worst-best gap", "model.name=m1"] == "60.0"
    # templates A and B rank m1 first, C ranks m2 first: rhos +1, -1, -1
    assert study.rank_correlation == pytest.approx(-1 / 3)
    assert "-0.333" in study.table.note


def test_formats_escape_cells():
    import pandas as pd

    frame = pd.DataFrame({"run": ["a|b", "x_y {z} 50%"], "v": [1.5, float("nan")]})
    assert "a\\|b" in markdown(frame)
    tex = latex(frame, caption="t_1")
    assert r"x\_y \{z\} 50\%" in tex and r"\caption{t\_1}" in tex and "1.5 \\\\" in tex


def test_test_scores_csv_errors_name_the_cell(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("run,cat\nA,12x\n")
    with pytest.raises(ValueError, match=r"bad.csv:2: column 'cat' is not a number: '12x'"):
        read_test_scores(bad)
    bad.write_text("name,cat\nA,1\n")
    with pytest.raises(ValueError, match="needs a 'run' column"):
        read_test_scores(bad)


def _records(score: float, n: int = 6) -> list[dict]:
    return [{"example_id": f"v{i}", "task": "vqa", "src": "sameSrc" if i % 2 else "newSrc",
             "dist": "undist", "score": score, "confidence": 0.5, "acc": 100 * score,
             "groups": []} for i in range(n)]


def test_report_cli_writes_everything_and_compares(sweep, tmp_path, capsys):
    from results.report_cli import main

    make_run(sweep / "4_model=oracle", model="oracle", tasks=("vqa",), records=_records(1.0),
             metrics={**agg("vqa", 100.0, 100.0, 100.0), **agg("vqa", 100.0, 100.0, 100.0, partition="undist"),
                      **agg("vqa", 90.0, 80.0, 100.0, partition="dist")})
    (sweep / "0_model=prior" / "records.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in _records(0.0)))
    out = tmp_path / "report"
    assert main([str(sweep), "--out", str(out), "--compare", str(sweep / "4_model=oracle"),
                 str(sweep / "0_model=prior"), "--bootstrap", "200"]) == 0
    names = {p.name for p in out.iterdir()}
    for stem in ("leaderboard", "per_dataset", "calibration", "robustness", "concept_groups", "paired"):
        assert {f"{stem}.md", f"{stem}.csv", f"{stem}.tex"} <= names, stem
    for png in ("reliability.png", "concept_groups.png", "dist_vs_undist.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
    paired = (out / "paired.md").read_text()
    assert "| vqa | 6 | 100.0 | 0.0 | 100.0 [100.0, 100.0] | 6/0/0 | 0.0312 |" in paired
    report = (out / "report.md").read_text()
    assert "5 runs" in report and "ValueError: boom | bad" in report and "INCOMPLETE" in report
    captured = capsys.readouterr()
    assert "5 runs (2 finished, 2 failed, 1 incomplete)" in captured.out
    assert "failed: 3_model=x" in captured.err


def test_report_cli_bad_input_is_one_line(tmp_path, capsys):
    from results.report_cli import main

    assert main([str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "grit-eval-report: error: not a directory" in capsys.readouterr().err
    make_run(tmp_path / "r", metrics=agg("vqa", 1.0, 0.0, 2.0))
    assert main([str(tmp_path / "r"), "--out", str(tmp_path / "o"), "--compare", "a", "b"]) == 2
    assert "--compare 'a' matches 0 runs" in capsys.readouterr().err
    assert main([str(tmp_path / "r"), "--out", str(tmp_path / "o"), "--formats", "md,docx"]) == 2
    assert "unknown table format" in capsys.readouterr().err


def test_report_cli_usage_errors_and_os_errors_are_one_line(tmp_path, capsys):
    from results.report_cli import main

    with pytest.raises(SystemExit) as exited:
        main([str(tmp_path), "--bootstrap", "many", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("grit-eval-report: error: argument --bootstrap")
    make_run(tmp_path / "r", metrics=agg("vqa", 1.0, 0.0, 2.0))
    (tmp_path / "taken").write_text("a file where the output folder should go")
    assert main([str(tmp_path / "r"), "--out", str(tmp_path / "taken" / "o")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("grit-eval-report: error: ")
    assert "taken" in err
