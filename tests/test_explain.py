"""The explanation subset (stage task), stages explain and explain_report on tiny fake prepared data and checkpoints."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

import logging

from stages import explain, explain_report, tasks
from stages.core import config
from stages.task import write_subset
from stages.models.resnet import build, save_checkpoint
from stages.xai.figures import diff_grid, to_sum1
from stages.tasks.base import kind, select_by_group, select_mixed, subset_boxes
from tests.tolerance import rel_tol, sum_tol

SIG6 = 5e-6  # the report rounds every number to 6 significant digits: within half a unit of the 6th, relative

OTHERS = ["bicycle", "motorcycle", "vehicle"]

LTD_HW, UTK_HW = (32, 64), (32, 32)
# (human, bicycle, motorcycle, vehicle) per test frame: 3 both, 3 human-only, 3 other-only, 3 empty
COUNTS = [(1, 1, 0, 0), (2, 0, 0, 1), (1, 0, 1, 1), (1, 0, 0, 0), (3, 0, 0, 0), (2, 0, 0, 0),
          (0, 1, 0, 0), (0, 0, 0, 2), (0, 0, 1, 0), (0, 0, 0, 0), (0, 0, 0, 0), (0, 0, 0, 0)]


def _images(n, c, hw, seed):
    g = np.random.default_rng(seed)
    return g.integers(0, 256, size=(n, c, *hw), dtype=np.uint8)


def _write_meta(d, c):
    (d / "meta.json").write_text(json.dumps({"channels": c, "mean": [0.5] * c, "std": [0.25] * c}))


def make_ltd(root):
    d = root / "data" / "prepared" / "ltd"
    d.mkdir(parents=True)
    np.save(d / "test.npy", _images(len(COUNTS), 1, LTD_HW, 0))
    table = pd.DataFrame(COUNTS, columns=["human", "bicycle", "motorcycle", "vehicle"])
    table["count"] = table.sum(axis=1)
    table.to_csv(d / "test.csv", index=False)
    boxes = []
    for row, counts in enumerate(COUNTS):
        for cls, k in zip(["human", "bicycle", "motorcycle", "vehicle"], counts):
            for t in range(k):
                x, y = 5 + 20 * t, 2 + row
                boxes.append((row, len(boxes), cls, x, y, x + 10, y + 10, 0))
    pd.DataFrame(boxes, columns=["row", "track_id", "cls", "x_tl", "y_tl", "x_br", "y_br", "flag"]).to_csv(
        d / "test_boxes.csv", index=False)
    _write_meta(d, 1)
    spec = {"arch": "resnet10", "in_channels": 1, "head": "linear", "target_max": 1.0}
    for i, name in enumerate(["original", "retrain", "finetune"]):
        torch.manual_seed(i)
        save_checkpoint(root / "models" / "ltd" / f"{name}.pt", spec, [[build(spec)], [build(spec)]], {})


def make_utk(root):
    d = root / "data" / "prepared" / "utk"
    d.mkdir(parents=True)
    ages = np.array([22, 25, 30, 33, 38, 41, 45, 50, 55, 60, 21, 59])
    np.save(d / "test.npy", _images(len(ages), 3, UTK_HW, 1))
    pd.DataFrame({"age": ages, "group": np.minimum((ages - 20) // 8, 4)}).to_csv(d / "test.csv", index=False)
    _write_meta(d, 3)
    spec = {"arch": "resnet10", "in_channels": 3, "head": "sigmoid", "target_max": 60.0}
    for i, name in enumerate(["original", "retrain", "finetune"]):
        torch.manual_seed(10 + i)
        save_checkpoint(root / "models" / "utk" / f"{name}.pt", spec, [[build(spec), build(spec)]] * 2, {})


def explain_subset(name: str, root) -> None:
    params = config.read_params()
    task = tasks.get(name, params, str(root))
    write_subset(task, params["explain"]["n_images"][name], params["seed"], logging.getLogger("test"))


@pytest.fixture
def root(tmp_path, monkeypatch):
    params = config.read_params(Path(__file__).parents[1] / "params.yaml")
    params["explain"].update(n_images={"ltd": 6, "utk": 6}, n_figure=3, batch_size=64, repeats=2)
    params["explain"]["sidu"].update(layer={"ltd": "layer4", "utk": "layer4"}, sigma={"ltd": 0.5, "utk": 4.0},
                                     threshold={"ltd": 0.15, "utk": 0.15})
    params["unlearn"]["methods"] = {"finetune": {}}
    params["device"] = "cpu"
    params["repeats"] = 2
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.setattr(config, "PARAMS_FILE", str(tmp_path / "params.yaml"))
    return tmp_path


def test_ltd_stages(root):
    make_ltd(root)
    explain_subset("ltd", root)
    xai = root / "data" / "xai" / "ltd"
    sub, table = np.load(xai / "subset.npy"), pd.read_csv(xai / "subset.csv")
    test = np.load(root / "data/prepared/ltd/test.npy")
    assert sub.shape == (6, 1, *LTD_HW) and sub.dtype == np.uint8
    assert np.array_equal(sub, test[table["test_row"]])
    assert list(kind(table, ["human"], OTHERS)) == ["both", "forget", "other"] * 2  # interleaved mix, no empty frame
    boxes, all_boxes = pd.read_csv(xai / "subset_boxes.csv"), pd.read_csv(root / "data/prepared/ltd/test_boxes.csv")
    for i, r in enumerate(table["test_row"]):
        mine = boxes[boxes["row"] == i].drop(columns="row").reset_index(drop=True)
        theirs = all_boxes[all_boxes["row"] == r].drop(columns="row").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, theirs)

    for m in ("original", "retrain", "finetune"):
        explain.main(["--task", "ltd", "--model", m, "--explainer", "sidu", "--root", str(root)])
    heat = np.load(xai / "sidu" / "finetune.npy")
    assert heat.shape == (2, 6, *LTD_HW) and heat.dtype == np.float32  # (repeats, images, H, W)
    assert not np.array_equal(heat[0], heat[1])  # each repeat's own model
    assert np.isfinite(heat).all() and heat.min() >= 0 and heat.max() > 0
    info = json.loads((xai / "sidu" / "finetune.json").read_text())
    assert info["n_masks"] == 512 and info["members"] == 1 and info["device"] == "cpu" and info["sigma"] == 0.5
    assert not np.array_equal(heat, np.load(xai / "sidu" / "original.npy"))
    explain.main(["--task", "ltd", "--model", "finetune", "--explainer", "sidu", "--root", str(root)])
    assert np.array_equal(heat, np.load(xai / "sidu" / "finetune.npy"))  # deterministic

    explain_report.main(["--task", "ltd", "--root", str(root)])
    for f in ("sidu_grid.png", "sidu_diff.png"):
        assert (root / "reports/ltd/heatmaps" / f).stat().st_size > 1000
    m = json.loads((root / "reports/ltd/xai/sidu.json").read_text())["models"]
    assert list(m) == ["original", "retrain", "finetune", "uniform"] and m["original"]["AS"]["value"] == 0
    u = m["uniform"]  # the no-preference baseline: HC = the share of the frame the boxes cover, lift exactly 1
    # (pixel counts over the frame size: HC and the share are the same float64 division, their ratio exactly 1)
    assert u["h-HC_lift"]["value"] == pytest.approx(1, rel=SIG6)
    assert u["r-HC_lift"]["value"] == pytest.approx(1, rel=SIG6)
    boxes_h = pd.read_csv(xai / "subset_boxes.csv")
    from stages.metrics.coverage import box_masks
    share = box_masks(boxes_h, 6, *LTD_HW, ["human"]).mean(axis=(1, 2))
    # a mean over the 6 images and one over the 2 runs of positive float64 values, then the report's rounding
    assert u["h-HC"]["value"] == pytest.approx(share[share > 0].mean(), rel=SIG6 + rel_tol(6 + 2 + 2, np.float64))
    f = m["finetune"]
    assert 0 < f["h-HC"]["value"] < 1 and 0 < f["r-HC"]["value"] < 1 and f["AS"]["value"] > 0
    for k in ("h-HC", "r-HC", "AS"):  # every number with its interval, and its paired distance to Retrain's
        assert f[k]["lo"] <= f[k]["value"] <= f[k]["hi"] and len(f[k]["runs"]) == 2
        # value: the rounded mean of the runs; runs: each rounded (all >= 0): two roundings to 6 digits apart
        assert f[k]["value"] == pytest.approx(np.mean(f[k]["runs"]), rel=2 * SIG6 + rel_tol(3, np.float64))
        # the gap is |difference| of the unrounded values, rounded once; the rounded values (6 digits each) differ
        # from it by at most half a unit of the 6th digit of each, and of the gap
        v, r = f[k]["value"], m["retrain"][k]["value"]
        assert f[k]["gap"] == pytest.approx(abs(v - r), rel=0, abs=SIG6 * (abs(v) + abs(r) + abs(v - r)))
        assert f[k]["diff_lo"] <= f[k]["diff"] <= f[k]["diff_hi"] and f[k]["gap"] == abs(f[k]["diff"])
        # the gap's interval is |d| over the difference's interval: [0, max] when it spans 0, else the nearer end
        # first (sign flips and max/abs of 6-digit values are exact)
        lo, hi = f[k]["diff_lo"], f[k]["diff_hi"]
        assert (f[k]["gap_lo"], f[k]["gap_hi"]) == (max(lo, -hi, 0.0), max(abs(lo), abs(hi)))


def test_utk_stages_cover_groups_and_ensemble(root):
    make_utk(root)
    explain_subset("utk", root)
    xai = root / "data" / "xai" / "utk"
    table = pd.read_csv(xai / "subset.csv")
    assert list(table["group"][:5]) == [0, 1, 2, 3, 4] and len(table) == 6
    assert pd.read_csv(xai / "subset_boxes.csv").empty  # same outputs for every task, no boxes
    for m in ("original", "retrain", "finetune"):
        explain.main(["--task", "utk", "--model", m, "--explainer", "sidu", "--root", str(root)])
    info = json.loads((xai / "sidu" / "original.json").read_text())
    assert info["members"] == 2 and info["sigma"] == 4.0 and info["shape"] == [2, 6, *UTK_HW]
    explain_report.main(["--task", "utk", "--root", str(root)])
    assert (root / "reports/utk/heatmaps/sidu_diff.png").exists()
    m = json.loads((root / "reports/utk/xai/sidu.json").read_text())["models"]
    assert set(m["finetune"]) == {"heatmaps", "degenerate_heatmaps", "AS"}  # no boxes: no coverage metric
    assert m["finetune"]["heatmaps"] == 2 * 6  # 2 repeats x the 6 explanation images
    assert m["original"]["AS"]["value"] == 0  # AS is against the Original's own maps
    # one map per repeat and image for the 2-member ensemble (not one per member); make_utk saves the same ensemble
    # as both repeats, so the deterministic explainer gives both repeats the same maps, bitwise
    heat = np.load(xai / "sidu" / "finetune.npy")
    assert heat.shape == (2, 6, *UTK_HW) and np.isfinite(heat).all() and np.array_equal(heat[0], heat[1])


def test_report_needs_every_model(root):
    make_ltd(root)
    explain_subset("ltd", root)
    explain.main(["--task", "ltd", "--model", "original", "--explainer", "sidu", "--root", str(root)])
    with pytest.raises(FileNotFoundError, match="retrain.npy"):
        explain_report.main(["--task", "ltd", "--root", str(root)])


def test_bad_layer_and_missing_column(root):
    make_ltd(root)
    pd.read_csv(root / "data/prepared/ltd/test.csv").drop(columns="vehicle").to_csv(
        root / "data/prepared/ltd/test.csv", index=False)
    with pytest.raises(ValueError, match=r"test\.csv: missing column\(s\) vehicle"):
        explain_subset("ltd", root)
    xai = root / "data" / "xai" / "ltd"
    xai.mkdir(parents=True)
    np.save(xai / "subset.npy", np.load(root / "data/prepared/ltd/test.npy")[:2])
    pd.read_csv(root / "data/prepared/ltd/test.csv").iloc[:2].to_csv(xai / "subset.csv", index=False)
    params = yaml.safe_load(open(config.PARAMS_FILE))
    params["explain"]["sidu"]["layer"]["ltd"] = "layer9"
    open(config.PARAMS_FILE, "w").write(yaml.safe_dump(params))
    with pytest.raises(config.ParamError, match=r"explain\.sidu\.layer\.ltd = 'layer9'"):
        explain.main(["--task", "ltd", "--model", "original", "--explainer", "sidu", "--root", str(root)])


def test_selection_rules():
    table = pd.DataFrame(COUNTS, columns=["human", "bicycle", "motorcycle", "vehicle"])
    select_ltd = lambda t, n, seed: select_mixed(t, n, seed, ["human"], OTHERS)  # noqa: E731
    a, b = select_ltd(table, 12, seed=0), select_ltd(table, 12, seed=0)
    assert np.array_equal(a, b) and sorted(a) == list(range(12))  # deterministic; empty frames fill up last
    assert set(a[-3:]) == {9, 10, 11}
    assert any(not np.array_equal(select_ltd(table, 6, seed=s), a[:6]) for s in range(1, 5))  # seed matters
    utk = pd.DataFrame({"age": [20, 21, 22, 30, 60], "group": [0, 0, 0, 1, 4]})
    assert sorted(utk["group"][select_by_group(utk["group"].to_numpy(), 3, seed=0)]) == [0, 1, 4]
    assert len(select_by_group(utk["group"].to_numpy(), 50, seed=0)) == 5
    boxes = pd.DataFrame({"row": [0, 2, 2, 5], "cls": ["human"] * 4})
    assert subset_boxes(boxes, np.array([5, 2]))["row"].tolist() == [0, 1, 1]


def test_diff_is_normalised_difference():
    imgs = np.zeros((1, 1, 4, 4), np.uint8)
    h = {"original": np.ones((1, 4, 4)), "finetune": np.arange(16.0).reshape(1, 4, 4)}
    fig = diff_grid(imgs, h)
    shown = fig.axes[1].images[1].get_array()
    # the same division and subtraction as the figure's (terms up to 2/16 and 1/16), in the precision the image
    # stores: 2 roundings
    dtype = np.asarray(shown).dtype
    assert np.allclose(shown, to_sum1(h["finetune"][0]) - 1 / 16, rtol=0, atol=sum_tol(2, 3 / 16, dtype))
    lo, hi = fig.axes[1].images[1].get_clim()
    assert lo == -hi and hi == pytest.approx(np.abs(shown).max(), rel=rel_tol(1, dtype))


def test_grid_shares_one_scale_per_image_and_wraps():
    from stages.xai.figures import PAGE_COLS, heatmap_grid

    imgs = np.zeros((2, 1, 4, 6), np.uint8)
    rng = np.random.default_rng(0)
    maps = {m: rng.random((2, 4, 6)) * (k + 1) for k, m in enumerate(["original", "retrain", "a", "b", "c", "d"])}
    fig = heatmap_grid(imgs, maps, shared_scale=True)
    overlays = [ax for ax in fig.axes if len(ax.images) == 2 and ax.get_title() in maps]
    assert len(overlays) == 2 * len(maps)                      # every model on every image, named
    for i in range(2):
        block = overlays[i * len(maps):(i + 1) * len(maps)]
        shown = [ax.images[1].get_array() for ax in block]
        # each map normalised to sum 1: h / sum(h) and the sum of its 24 positive values round 25 times
        stored = np.asarray(shown[0]).dtype  # tolerances in the precision the images store
        sum1 = rel_tol(24 + 1, stored)
        assert all(np.isclose(np.asarray(s).sum(), 1.0, rtol=0, atol=sum1) for s in shown)
        assert len({ax.images[1].get_clim() for ax in block}) == 1  # one colour scale per image
        vmax = block[0].images[1].get_clim()[1]
        assert vmax == pytest.approx(max(float(np.asarray(s).max()) for s in shown), rel=rel_tol(1, stored))
    cols = {round(ax.get_position().x0, 3) for ax in fig.axes if ax.get_title() in maps or ax.get_title().startswith("input")}
    assert len(cols) <= PAGE_COLS                              # wrapped to page width
