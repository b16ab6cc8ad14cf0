"""Figures a reader understands alone: a title naming the task, labelled axes, a legend for every colour, band and
box, the explained image beside every row of maps, and legends clear of the panels' ticks."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stages import report
from stages.xai.figures import PAGE_COLS, diff_grid, heatmap_grid

MODELS = ["original", "retrain", "a", "b", "c", "d", "e", "f"]  # 8 maps: two rows per image at PAGE_COLS 6


def _maps(n, h, w):
    rng = np.random.default_rng(0)
    return {m: rng.random((n, h, w)) for m in MODELS}


def _digits(n=2):
    img = np.zeros((n, 1, 8, 8), np.uint8)
    img[:, :, 2:6, 3:5] = 255  # a bar: its outline is a closed contour
    return img


def _legend_texts(fig):
    return [t.get_text() for leg in fig.legends for t in leg.get_texts()]


@pytest.mark.parametrize("draw", [heatmap_grid, diff_grid])
def test_every_row_of_maps_starts_with_its_input_and_the_title_names_the_task(draw):
    fig = draw(_digits(), _maps(2, 8, 8), title="Digits, forget class '3'")
    assert fig._suptitle.get_text().startswith("Digits, forget class '3'")
    n_maps = len(MODELS) - (draw is diff_grid)
    per_row = PAGE_COLS - 1
    rows = 2 * -(-n_maps // per_row)
    inputs = [ax for ax in fig.axes if ax.get_title().startswith("input")]
    assert len(inputs) == rows                                   # one input per row of maps, not per image
    x0 = {round(ax.get_position().x0, 3) for ax in inputs}
    assert len(x0) == 1 and x0 == {min(round(ax.get_position().x0, 3) for ax in fig.axes)}  # first column


@pytest.mark.parametrize("draw", [heatmap_grid, diff_grid])
def test_outline_without_boxes_legend_with_boxes(draw):
    fig = draw(_digits(1), _maps(1, 8, 8))
    maps = [ax for ax in fig.axes if len(ax.images) == 2]
    assert maps and all(len(ax.collections) == 1 for ax in maps)  # the input's outline on every map panel
    frames = np.zeros((1, 1, 6, 8), np.uint8)
    boxes = pd.DataFrame({"row": [0, 0], "cls": ["human", "vehicle"], "x_tl": [1, 4], "y_tl": [1, 2],
                          "x_br": [2, 7], "y_br": [4, 5]})
    fig = draw(frames, _maps(1, 6, 8), boxes=boxes, box_names={"human": "human box (in h-HC)"})
    assert all(not ax.collections for ax in fig.axes if len(ax.images) == 2)  # boxes mark the objects instead
    assert sorted(_legend_texts(fig)) == ["human box (in h-HC)", "vehicle box"]  # every box colour explained


def _records():
    rec = {}
    for k, m in enumerate(["original", "retrain", "finetune"]):
        rec[m] = {"TA": {"value": 0.8 + 0.05 * k, "lo": 0.75 + 0.05 * k, "hi": 0.85 + 0.05 * k}}
    return rec


def test_metric_bars_explain_colours_interval_and_band():
    fig = report.bar_figure(_records(), ["TA"], "Digits, forget class '3'")
    assert fig._suptitle.get_text().startswith("Digits, forget class '3'")
    texts = " | ".join(_legend_texts(fig))
    for what in ("Original", "Retrain", "unlearning method", "95 % interval", "band"):
        assert what in texts
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel() == "TA"
    band = [p for p in ax.patches if p.get_alpha() == 0.15]      # Retrain's interval, shaded across the panel
    assert len(band) == 1
    ys = band[0].get_path().transformed(band[0].get_patch_transform()).vertices[:, 1]
    assert min(ys) == pytest.approx(0.80) and max(ys) == pytest.approx(0.90)


class _Task:
    name, EVALUATION = "t", "classification"

    @staticmethod
    def title():
        return "Digits, forget class '3'"


def test_loss_histograms_labelled_and_legend_clear_of_the_panels(tmp_path, monkeypatch):
    monkeypatch.setattr(report.paths, "loss_hist", lambda task, m, root: tmp_path / f"{m}.csv")
    for m in ("original", "retrain", "finetune"):
        pd.DataFrame({"bin_center": [0.5, 1.5], "forget": [0.6, 0.4], "test": [0.3, 0.7]}).to_csv(
            tmp_path / f"{m}.csv", index=False)
    fig = report.hist_figure(_Task, ["original", "retrain", "finetune"])
    assert fig._suptitle.get_text().startswith("Digits, forget class '3'")
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    assert len(panels) == 3 and all(ax.get_xlabel() and ax.get_ylabel() for ax in panels)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend = fig.legends[0].get_window_extent(renderer)
    for ax in panels:                                            # neither the panel nor its tick labels
        assert not legend.overlaps(ax.get_tightbbox(renderer))
