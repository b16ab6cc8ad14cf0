"""python -m stages.check_reports: values outside the old interval and disjoint intervals, from folders or git refs."""
import json
import subprocess

import pytest

from stages import check_reports


def write(root, task, summary, intervals):
    d = root / "reports" / task
    d.mkdir(parents=True)
    (d / "summary.json").write_text(json.dumps(summary))
    (d / "intervals.json").write_text(json.dumps(intervals))


OLD_S = {"retrain": {"MAE": 0.50, "MIA": 0.52}, "finetune": {"MAE": 0.60, "MIA": 0.55}}
OLD_I = {"retrain": {"MAE": {"lo": 0.45, "hi": 0.55}, "MIA": {"lo": 0.40, "hi": 0.64}},
         "finetune": {"MAE": {"lo": 0.55, "hi": 0.65}, "MIA": {"lo": 0.45, "hi": 0.65}}}


def test_hand_made_cases(tmp_path, capsys):
    old, new = tmp_path / "old", tmp_path / "new"
    write(old, "ltd", OLD_S, OLD_I)
    # retrain.MAE moves inside its interval; finetune.MAE lands outside but overlapping; finetune.MIA disjoint
    write(new, "ltd", {"retrain": {"MAE": 0.52, "MIA": 0.52}, "finetune": {"MAE": 0.66, "MIA": 0.80}},
          {"retrain": {"MAE": {"lo": 0.47, "hi": 0.57}, "MIA": {"lo": 0.40, "hi": 0.64}},
           "finetune": {"MAE": {"lo": 0.61, "hi": 0.71}, "MIA": {"lo": 0.70, "hi": 0.90}}})
    r = check_reports.compare(check_reports.load(str(old)), check_reports.load(str(new)))["ltd"]
    assert r["compared"] == 4
    assert [x.split(":")[0] for x in r["outside"]] == ["finetune.MAE", "finetune.MIA"]
    assert [x.split(":")[0] for x in r["disjoint"]] == ["finetune.MIA"]
    assert check_reports.main([str(old), str(new)]) == 1
    assert "ltd: 4 metrics, 2 new values outside the old interval, 1 disjoint intervals" in capsys.readouterr().out
    assert check_reports.main([str(old), str(old / "reports")]) == 0  # a repository root or its reports folder


def test_git_refs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    git = lambda *a: subprocess.run(["git", *a], check=True, capture_output=True)  # noqa: E731
    git("init", "-q")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    write(tmp_path, "utk", OLD_S, OLD_I)
    git("add", "-A")
    git("commit", "-q", "-m", "reports")
    (tmp_path / "reports/utk/summary.json").write_text(json.dumps({**OLD_S, "retrain": {"MAE": 0.9, "MIA": 0.52}}))
    (tmp_path / "reports/utk/intervals.json").write_text(json.dumps(
        {**OLD_I, "retrain": {"MAE": {"lo": 0.85, "hi": 0.95}, "MIA": {"lo": 0.40, "hi": 0.64}}}))
    assert check_reports.main(["HEAD", "HEAD"]) == 0
    assert check_reports.main(["HEAD", "."]) == 1
    with pytest.raises(SystemExit, match="neither a folder nor a git ref"):
        check_reports.load("no-such-ref")
