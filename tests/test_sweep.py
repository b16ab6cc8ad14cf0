"""python -m stages.sweep (README "Experiments and sweeps"): every sweep's keys in params.yaml, the CLI, the queue
commands (applied by DVC's own -S code to a copy of params.yaml), parsing a recorded `dvc exp show --json`, the table
and CSV built from it, the reading judged on intervals, and one real queue run in a toy git + DVC repository."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess

import pytest
import yaml

from stages import sweep as cli
from stages.sweeps import catalog, collect, dvc_cli, queue, reading, render
from stages.core import config
from tests.conftest import ROOT

# `dvc exp show --json` of DVC 3.67.1 on the toy repository of test_queue_run_collect (sweep "toy": evaluate.x and
# unlearn.methods.finetune.epochs.toy set to 1, 2, 99, then 7 queued and not run; x = 99 fails on purpose), trimmed:
# the keys deps/outs/meta and the params seed/tasks dropped. A failed experiment keeps its baseline's metrics.
SHOW = json.loads("""[
{"rev": "workspace", "name": null, "error": null, "experiments": null,
 "data": {"rev": "workspace", "timestamp": null,
          "params": {"params.yaml": {"data": {"unlearn": {"methods": {"finetune": {}}}, "evaluate": {"x": 1}}}},
          "metrics": {"reports/toy/summary.json": {"data": {"original": {"F": 0.1, "MAE": 2.0},
                                                             "finetune": {"F": 0.2, "MAE": 1.0}}}}}},
{"rev": "4daf56b17822bc38644bd99edd76075fe82ea9af", "name": "master", "error": null,
 "data": {"rev": "4daf56b17822bc38644bd99edd76075fe82ea9af", "timestamp": "2026-12-01T22:56:33",
          "params": {"params.yaml": {"data": {"unlearn": {"methods": {"finetune": {}}}, "evaluate": {"x": 1}}}},
          "metrics": {"reports/toy/summary.json": {"data": {"original": {"F": 0.1, "MAE": 2.0},
                                                             "finetune": {"F": 0.2, "MAE": 1.0}}}}},
 "experiments": [
  {"name": "toy-2", "executor": {"state": "success", "name": "dvc-task", "local": {"returncode": 0}},
   "revs": [{"rev": "4cf2b6a591f3732277526c25d6d74b380330b171", "name": "toy-2", "error": null, "experiments": null,
     "data": {"rev": "4cf2b6a591f3732277526c25d6d74b380330b171", "timestamp": "2026-12-01T22:56:52",
       "params": {"params.yaml": {"data": {"unlearn": {"methods": {"finetune": {"epochs": {"toy": 2}}}},
                                           "evaluate": {"x": 2}}}},
       "metrics": {"reports/toy/summary.json": {"data": {"original": {"F": 0.2, "MAE": 2.0},
                                                          "finetune": {"F": 2.4, "MAE": 1.0}}}}}}]},
  {"name": "toy-1", "executor": {"state": "success", "name": "dvc-task", "local": {"returncode": 0}},
   "revs": [{"rev": "178908faa3a2dd9e09b6ed021927d722525519cc", "name": "toy-1", "error": null, "experiments": null,
     "data": {"rev": "178908faa3a2dd9e09b6ed021927d722525519cc", "timestamp": "2026-12-01T22:56:49",
       "params": {"params.yaml": {"data": {"unlearn": {"methods": {"finetune": {"epochs": {"toy": 1}}}},
                                           "evaluate": {"x": 1}}}},
       "metrics": {"reports/toy/summary.json": {"data": {"original": {"F": 0.1, "MAE": 2.0},
                                                          "finetune": {"F": 1.2, "MAE": 1.0}}}}}}]},
  {"name": "toy-7", "executor": {"state": "queued", "name": "dvc-task", "local": {"returncode": null}},
   "revs": [{"rev": "a0373babad446e235fb41d3b8131d883236715cb", "name": "toy-7", "error": null, "experiments": null,
     "data": {"rev": "a0373babad446e235fb41d3b8131d883236715cb", "timestamp": "2026-12-01T22:57:15",
       "params": {"params.yaml": {"data": {"unlearn": {"methods": {"finetune": {"epochs": {"toy": 7}}}},
                                           "evaluate": {"x": 7}}}},
       "metrics": {}}}]},
  {"name": "toy-99", "executor": {"state": "failed", "name": null, "local": {"returncode": 255}},
   "revs": [{"rev": "ff20b2730d19064da248f3b39dca969782cafdbf", "name": "toy-99", "experiments": null,
     "error": {"msg": "Experiment run failed", "type": ""},
     "data": {"rev": "ff20b2730d19064da248f3b39dca969782cafdbf", "timestamp": "2026-12-01T22:56:41",
       "params": {"params.yaml": {"data": {"unlearn": {"methods": {"finetune": {"epochs": {"toy": 99}}}},
                                           "evaluate": {"x": 99}}}},
       "metrics": {"reports/toy/summary.json": {"data": {"original": {"F": 0.1, "MAE": 2.0},
                                                          "finetune": {"F": 0.2, "MAE": 1.0}}}}}}]}]}
]""")

# `dvc queue status` of DVC 3.67.1 (toy repository, one experiment failed, one running)
QUEUE_STATUS = """\
Task     Name    Created    Status
81b6a7d  q-fail  10:51 PM   Failed
8a5a9f5  q-a     10:51 PM   Success
2cfa284  q-b     10:51 PM   Running
33fd504          10:51 PM   Queued

Worker status: 1 active, 0 idle
"""


def toy_sweep(values=(1, 2, 7, 99), metrics=("F", "MAE")) -> catalog.Sweep:
    return catalog.sweep("a toy sweep", "toy", ["evaluate.x", "unlearn.methods.finetune.epochs.toy"], values,
                   ["original", "finetune"], list(metrics), lambda v: {"finetune": {"F": 0.5}} if v == 2 else {},
                   claim=("F", ["finetune", "original"]))


INTERVALS = {"toy-1": {"original": {"F": {"lo": 0.05, "hi": 0.15}}, "finetune": {"F": {"lo": 1.15, "hi": 1.25}}},
             "toy-2": {"original": {"F": {"lo": 0.15, "hi": 0.25}, "MAE": {"lo": 1.5, "hi": 2.5}},
                       "finetune": {"F": {"lo": 2.35, "hi": 2.45}}}}


@pytest.fixture
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # params.yaml of the project


def test_every_sweep_key_is_in_params_yaml():
    params = config.read_params(str(ROOT / "params.yaml"))
    for name, sw in catalog.SWEEPS.items():
        catalog.check_keys(sw, params)  # raises naming a missing key
        for key in sw.settings[0]:
            assert catalog.key_state(key, params) == ("optional" if ".epochs." in key else "set"), (name, key)
        assert len(sw.values) == len(sw.settings) == len({catalog.exp_name(name, v) for v in sw.values})
    bad = catalog.sweep("typo", "utk", ["evaluate.alphaa", "unlearn.methods.nosuch.epochs.utk"], [1], ["original"], ["F"])
    with pytest.raises(SystemExit, match=r"evaluate\.alphaa, unlearn\.methods\.nosuch\.epochs\.utk: missing"):
        catalog.check_keys(bad, params)


def test_cli_accepts_every_sweep_and_only_those(in_root, capsys):
    """Each name of SWEEPS is a valid first argument: its dry run prints one queue command per value, named
    <sweep>-<value>; any other name stops with argparse's usage error (exit 2)."""
    for name, sw in catalog.SWEEPS.items():
        assert cli.main([name, "--dry-run"]) == 0
        names = [line.split()[5] for line in capsys.readouterr().out.splitlines()]
        assert names == [catalog.exp_name(name, v) for v in sw.values], name
    with pytest.raises(SystemExit) as e:
        cli.main(["no_such_sweep", "--dry-run"])
    assert e.value.code == 2


def test_dry_run_alpha_prints_one_queue_command_per_value(in_root, capsys):
    assert cli.main(["alpha", "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    values = [2, 5, 10, 15, 20, 25, 30, 35]
    assert len(lines) == len(values)
    for line, v in zip(lines, values):
        assert line.startswith("dvc exp run --queue -n ") and f" -S evaluate.alpha={v} " in line
        assert line.endswith(" report@utk")
    names = [line.split()[5] for line in lines]
    assert names == [f"alpha-{v}" for v in values]


def test_queue_overrides_set_every_key_in_params_yaml(tmp_path):
    """Each command's -S list applied by DVC's own code (dvc.utils.hydra) to a copy of params.yaml: the keys get
    the sweep's values, including keys absent from params.yaml (+key=value into `finetune: {}`)."""
    from dvc.utils.hydra import apply_overrides

    params = config.read_params(str(ROOT / "params.yaml"))
    f = tmp_path / "params.yaml"
    for name, sw in catalog.SWEEPS.items():
        for cmd, setting in zip(queue.queue_commands(name, sw, params), sw.settings):
            shutil.copy(ROOT / "params.yaml", f)
            apply_overrides(f, [cmd[i + 1] for i, c in enumerate(cmd) if c == "-S"])
            new = yaml.safe_load(f.read_text())
            assert {k: config.get(new, k) for k in setting} == setting, (name, cmd)
    assert config.get(new, "unlearn.methods.finetune") == {}  # untouched by the last (confuse) command


def test_parse_exp_show_and_build_table_and_csv(tmp_path):
    exps = dvc_cli.experiments(SHOW)
    assert {n: e["state"] for n, e in exps.items()} == {"toy-2": "success", "toy-1": "success", "toy-7": "queued",
                                                        "toy-99": "failed"}
    assert exps["toy-2"]["rev"] == "4cf2b6a591f3732277526c25d6d74b380330b171"
    sw = toy_sweep()
    rows, problems = collect.collect_rows("toy", sw, exps, INTERVALS)
    assert problems == {"toy-7": "queued", "toy-99": "failed: see `dvc queue logs toy-99`"}
    assert len(rows) == 2 * 2 * 2  # values 1, 2 x models x metrics
    r = next(r for r in rows if (r["setting"], r["model"], r["metric"]) == (2, "finetune", "F"))
    assert r == {"sweep": "toy", "setting": 2, "model": "finetune", "metric": "F", "value": 2.4, "lo": 2.35,
                 "hi": 2.45, "published": 0.5, "experiment": "toy-2"}

    render.write_reports("toy", sw, rows, problems, tmp_path / "toy")
    md = (tmp_path / "toy" / "table.md").read_text()
    assert "| x | original | finetune | published |" in md  # F: finetune has a published value
    assert "| 2 | 0.200 [0.150, 0.250] | 2.40 [2.35, 2.45] | 0.500 |" in md
    assert "| 1 | 0.100 [0.0500, 0.150] | 1.20 [1.15, 1.25] | - |" in md
    assert "| 7 | - | - | - |" in md
    assert "| 2 | 2.00 [1.50, 2.50] | 1.00 |" in md  # MAE: no interval for finetune, no published column
    assert "- x 2: F finetune 2.40 > original 0.200" in md and "holds at 2 of 2 values" in md
    assert "- `toy-99`: failed: see `dvc queue logs toy-99`" in md
    with open(tmp_path / "toy" / "results.csv") as fh:
        got = list(csv.DictReader(fh))
    assert list(got[0]) == ["sweep", "setting", "model", "metric", "value", "lo", "hi", "published", "experiment"]
    assert [(g["setting"], g["model"], g["metric"], g["value"], g["lo"], g["published"]) for g in got[4:6]] == [
        ("2", "original", "F", "0.2", "0.15", ""), ("2", "original", "MAE", "2.0", "1.5", "")]
    assert (tmp_path / "toy" / "figure.png").stat().st_size > 10_000

    wrong = {**exps, "toy-1": {**exps["toy-1"], "params": exps["toy-2"]["params"]}}  # ran with other params
    assert "ran with" in collect.collect_rows("toy", sw, wrong, INTERVALS)[1]["toy-1"]


def test_reading_names_an_order_only_where_intervals_separate():
    sw = toy_sweep(values=(1, 2, 3), metrics=("F",))

    def row(v, model, value, lo, hi):
        return {"setting": v, "model": model, "metric": "F", "value": value, "lo": lo, "hi": hi}

    rows = [row(1, "original", 0.5, 0.4, 0.6), row(1, "finetune", 0.9, 0.8, 1.0),   # separated, as the paper
            row(2, "original", 0.5, 0.4, 0.6), row(2, "finetune", 0.55, 0.45, 0.7),  # overlap
            row(3, "original", 0.9, 0.8, 1.0), row(3, "finetune", 0.5, 0.4, 0.6)]    # separated, reversed
    text = "\n".join(reading.reading(sw, rows))
    assert "- x 1: F finetune 0.900 > original 0.500\n" in text
    assert "- x 2: F finetune 0.550 ≈ original 0.500; not told apart: finetune vs original\n" in text
    assert "- x 3: F original 0.900 > finetune 0.500; contradicts the paper: original > finetune\n" in text
    assert "holds at 1 of 3 values; contradicted at 3; unresolved at 2." in text


def test_queue_status_parse_and_gpu_workers(monkeypatch):
    calls = []

    def fake_sh(*cmd, env=None):
        calls.append((cmd, (env or {}).get("CUDA_VISIBLE_DEVICES")))
        return QUEUE_STATUS if cmd[:3] == ("dvc", "queue", "status") else ""

    monkeypatch.setattr(dvc_cli, "sh", fake_sh)
    states, workers = dvc_cli.queue_status()
    assert states == {"q-fail": {"Failed"}, "q-a": {"Success"}, "q-b": {"Running"}} and workers == 1
    monkeypatch.setattr(dvc_cli, "queue_status", lambda: ({}, sum(c[0][:3] == ("dvc", "queue", "start") for c in calls)))
    queue.start_workers(1, ["2", "5"])  # worker k from `dvc queue start -j k`, in its own CUDA_VISIBLE_DEVICES
    assert [c for c in calls if c[0][1] == "queue" and c[0][2] == "start"] == [
        (("dvc", "queue", "start", "-j", "1"), "2"), (("dvc", "queue", "start", "-j", "2"), "5")]


def test_wait_restarts_a_worker_that_stopped_with_experiments_queued(monkeypatch, capsys):
    """DVC's worker may exit while an experiment is still queued: the wait starts it again (once the queue has been
    idle for restart_after seconds) instead of giving up, and ends when every experiment has finished."""
    clock = [0.0]
    monkeypatch.setattr(queue.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(queue.time, "sleep", lambda s: clock.__setitem__(0, clock[0] + s))
    restarted = []
    # a finished, b still queued and no worker; after the restart b runs, then succeeds
    def status():
        if not restarted:
            return {"a": {"Success"}, "b": {"Queued"}}, 0
        return ({"a": {"Success"}, "b": {"Running"}}, 1) if clock[0] < 100 else ({"a": {"Success"}, "b": {"Success"}}, 0)
    monkeypatch.setattr(dvc_cli, "queue_status", status)
    queue.wait("s", ["a", "b"], poll=5, grace=1000, restart=lambda: restarted.append(clock[0]), restart_after=20)
    assert len(restarted) == 1 and 20 < restarted[0] <= 30
    assert "starting it again" in capsys.readouterr().err
    # without a restart the same queue ends the wait after the grace period, saying how to collect later
    restarted.clear(), clock.__setitem__(0, 0.0)
    monkeypatch.setattr(dvc_cli, "queue_status", lambda: ({"a": {"Success"}, "b": {"Queued"}}, 0))
    queue.wait("s", ["a", "b"], poll=5, grace=60)
    assert 60 < clock[0] <= 70 and "--collect" in capsys.readouterr().err


def test_existing_experiments_are_not_queued_again(in_root, monkeypatch, capsys):
    queued, waited = [], []
    done = {"rev": "0" * 40, "state": "success", "timestamp": "", "params": {}, "metrics": {}}
    monkeypatch.setattr(dvc_cli, "exp_show", lambda all_commits=False: {"alpha-2": done, "alpha-5": {**done,
                                                                                              "state": "running"}})
    monkeypatch.setattr(dvc_cli, "sh", lambda *cmd, env=None: queued.append(cmd[cmd.index("-n") + 1]) or "")
    monkeypatch.setattr(queue, "start_workers", lambda jobs, gpus: None)
    monkeypatch.setattr(queue, "wait", lambda name, names, poll, **kw: waited.extend(names))
    monkeypatch.setattr(collect, "collect", lambda name, sw, out: 0)
    assert cli.main(["alpha"]) == 0
    assert queued == [f"alpha-{v}" for v in (10, 15, 20, 25, 30, 35)]
    assert waited == ["alpha-5", *queued]
    assert "alpha-2: exists (success), reused" in capsys.readouterr().out


MAKE = """\
import json, os, yaml
p = yaml.safe_load(open("params.yaml"))
x = p["evaluate"]["x"]
assert x != 99, "x = 99 fails on purpose"
e = p["unlearn"]["methods"]["finetune"].get("epochs", {}).get("toy", 0)
gpu = float(os.environ.get("CUDA_VISIBLE_DEVICES", "-1"))
summary = {"original": {"F": 0.1 * x, "gpu": gpu}, "finetune": {"F": 0.2 * x + e, "gpu": gpu}}
os.makedirs("reports/toy", exist_ok=True)
json.dump(summary, open("reports/toy/summary.json", "w"))
json.dump({m: {k: {"lo": v - 0.05, "hi": v + 0.05} for k, v in r.items()} for m, r in summary.items()},
          open("reports/toy/intervals.json", "w"))
"""
DVC_YAML = """\
stages:
  report:
    foreach: [toy]
    do:
      cmd: python make.py
      deps: [make.py]
      params: [evaluate.x, unlearn.methods.finetune]
      metrics:
        - reports/${item}/summary.json: {cache: false}
      outs:
        - reports/${item}/intervals.json: {cache: false}
"""


@pytest.mark.skipif(shutil.which("dvc") is None, reason="needs the dvc command")
def test_queue_run_collect(tmp_path, monkeypatch, capsys):
    """Queue 2 experiments (one fails), one worker pinned with --gpus 7, wait, collect: the table holds the good
    one's values, names the failed one and the command exits 1; the stage saw CUDA_VISIBLE_DEVICES=7."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "params.yaml").write_text("tasks:\n  toy: {}\ntracks:\n  per_model:\n    toy: toy\n"
                                      "unlearn:\n  methods:\n    finetune: {}\nevaluate: {x: 1}\n")
    (repo / "make.py").write_text(MAKE)
    (repo / "dvc.yaml").write_text(DVC_YAML)
    monkeypatch.chdir(repo)
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    for cmd in (["git", "init", "-q"], ["git", "config", "user.email", "t@t"], ["git", "config", "user.name", "t"],
                ["dvc", "init", "-q"], ["dvc", "repro", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "toy"]):
        subprocess.run(cmd, check=True, capture_output=True)
    monkeypatch.setattr(cli, "SWEEPS", {"toy": toy_sweep(values=(2, 99), metrics=("F", "gpu"))})
    # the wait for a queue worker: a hang guard only (the whole run takes well under a minute), far above the
    # stage's default grace, so a slow worker start on a loaded machine cannot end the wait early
    wait = queue.wait
    monkeypatch.setattr(queue, "wait", lambda name, names, poll, **kw: wait(name, names, poll, **{**kw, "grace": 900}))
    assert cli.main(["toy", "--gpus", "7", "--poll", "0.5"]) == 1
    out = capsys.readouterr()
    assert "toy-2: queued" in out.out and "toy-99: failed: see `dvc queue logs toy-99`" in out.err
    md = (repo / "reports/sweeps/toy/table.md").read_text()
    assert "| 2 | 0.200 [0.150, 0.250] | 2.40 [2.35, 2.45] | 0.500 |" in md  # finetune: 0.2 x + epochs 2
    assert "| 99 | - | - | - |" in md and "- `toy-99`: failed" in md
    with open(repo / "reports/sweeps/toy/results.csv") as fh:
        got = {(r["model"], r["metric"]): float(r["value"]) for r in csv.DictReader(fh)}
    assert got == {("original", "F"): 0.2, ("finetune", "F"): 2.4, ("original", "gpu"): 7, ("finetune", "gpu"): 7}
