"""The plots page (`dvc plots show`) in reading order: the root dvc.yaml's top-level `plots:` declares every plot once,
the data first, then each task of tasks: in its order (its metric bars, its figures, its heatmaps, its curves, its
per-model loss histograms); no stage declares plots of its own (they would show twice, in DVC's order); every line
plot colours its series apart (template `series`) and names columns the committed files hold."""
from __future__ import annotations

import json

import pandas as pd
import yaml

from stages import tasks
from stages.core import config
from tests.conftest import ROOT

PER_TASK = ("figures/metric_bars.png", "figures", "heatmaps", "curves", "loss_hist")


def _plots() -> list[tuple[str, dict]]:
    doc = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    return [(e, {}) if isinstance(e, str) else next(iter(e.items())) for e in doc["plots"]]


def test_every_task_has_its_plots_in_the_order_of_tasks():
    ids = [i for i, _ in _plots()]
    names = tasks.all_names(config.read_params(str(ROOT / "params.yaml")))
    first = []
    for name in names:
        for part in PER_TASK:
            assert f"reports/{name}/{part}" in ids, f"dvc.yaml plots: add reports/{name}/{part} (task {name})"
        block = [k for k, i in enumerate(ids) if i.startswith(f"reports/{name}/")]
        assert block == list(range(block[0], block[-1] + 1)), f"task {name}: its plots are not together"
        assert ids[block[0]] == f"reports/{name}/figures/metric_bars.png"  # the summary first
        first.append(block[0])
    assert first == sorted(first)                                  # tasks in the order of tasks:
    data = [k for k, i in enumerate(ids) if i.startswith("reports/data/")]
    assert data and max(data) < min(first)                         # the data before any task


def test_no_stage_declares_plots_of_its_own():
    for f in [ROOT / "dvc.yaml", *sorted((ROOT / "pipelines").glob("*/dvc.yaml"))]:
        for name, stage in yaml.safe_load(f.read_text())["stages"].items():
            body = stage.get("do", stage)
            assert "plots" not in body, f"{f.relative_to(ROOT)}: stage {name} declares plots (move them to dvc.yaml)"


def test_line_plots_colour_series_apart_and_read_existing_columns():
    template = json.loads((ROOT / ".dvc" / "plots" / "series.json").read_text())
    assert template["encoding"]["color"]["field"] == "field"     # one colour per series (DVC's column name)
    assert template["encoding"]["strokeDash"]["field"] == "rev"  # one dash per revision
    for pid, props in _plots():
        if pid.endswith((".png", "/figures", "/heatmaps")):  # images
            continue
        assert props.get("template") == "series", pid
        path = ROOT / pid
        files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
        assert files, f"{pid}: no committed file to check"
        ys = props["y"] if isinstance(props["y"], list) else [props["y"]]
        for f in files:
            cols = set(pd.read_csv(f, nrows=1).columns)
            assert {props["x"], *ys} <= cols, f"{f.relative_to(ROOT)}: missing {set([props['x'], *ys]) - cols}"
