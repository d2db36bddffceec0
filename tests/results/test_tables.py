from results.tables import MISSING, leaderboard_frame, leaderboard_markdown


def test_cells_come_from_the_official_keys_and_missing_tasks_show():
    metrics = {"acc.any.agg.cat.mean": 50.0, "acc.any.agg.cat.lower": 40.25, "acc.any.agg.cat.upper": 59.75,
               "acc.any.agg.all.mean": 7.14, "acc.any.agg.all.lower": 5.0, "acc.any.agg.all.upper": 9.0,
               "params": 12}
    frame = leaderboard_frame([("runA", metrics)])
    row = frame.iloc[0]
    assert row["categorization"] == "50.0 [40.2, 59.8]"
    assert row["localization"] == MISSING
    assert row["all"] == "7.1 [5.0, 9.0]"
    assert row["params (M)"] == 12
    text = leaderboard_markdown([("runA", metrics), ("runB", {})])
    lines = [l for l in text.splitlines() if l.startswith("|")]
    assert len(lines) == 4  # header, rule, two runs
    assert lines[3].count(MISSING) == 9  # 8 task columns + params


def test_sample_means_table_counts_and_averages_per_task():
    import pandas as pd

    from results.tables import sample_means_markdown

    records = pd.DataFrame({"task": ["vqa", "vqa", "refexp"], "acc": [100.0, 0.0, 99.99999]})
    rows = [l for l in sample_means_markdown(records).splitlines() if l.startswith("| ")][1:]
    assert rows == ["| vqa | 2 | 50.0 |", "| refexp | 1 | 100.0 |"]
