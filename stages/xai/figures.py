"""Heatmap figures (seed 000, Fig. 4 and Fig. 5).

- :func:`heatmap_grid`: one row per image; the input (with its boxes for LTD), then each model's SIDU
  heatmap overlaid on it, jet colormap from least (blue) to most (red) important, each heatmap min-max
  scaled for display.
- :func:`diff_grid`: one row per image; the input, then each unlearned model's heatmap minus the
  reference (Original) heatmap, both normalised to sum 1 first; diverging colormap with symmetric limits
  per row: green = more attention than Original, red = less, white = no change (drawn at alpha 0.8 over
  the grey input so the scene stays visible).
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

BOX_COLORS = {"human": "lime", "bicycle": "red", "vehicle": "blue", "motorcycle": "cyan"}  # seed 000 Fig. 3
DIFF_CMAP = LinearSegmentedColormap.from_list("red_white_green", ["#b2182b", "white", "#1b7837"])
CELL = 2.2  # inches per image column


def _display(img: np.ndarray) -> dict:
    """uint8 (C, H, W) -> imshow arguments (grey for one channel, RGB for three)."""
    if img.shape[0] == 1:
        return {"X": img[0], "cmap": "gray", "vmin": 0, "vmax": 255}
    return {"X": np.moveaxis(img[:3], 0, -1)}


def to_unit(h: np.ndarray) -> np.ndarray:
    """Min-max scale to [0, 1] (a constant map becomes 0)."""
    lo, hi = float(h.min()), float(h.max())
    return (h - lo) / (hi - lo) if hi > lo else np.zeros_like(h)


def to_sum1(h: np.ndarray) -> np.ndarray:
    """Normalise to sum 1 (an all-zero map stays 0), as in the AS metric."""
    s = float(h.sum())
    return h / s if s > 0 else np.zeros_like(h)


def _boxes(ax, boxes: pd.DataFrame | None, row: int) -> None:
    if boxes is None:
        return
    for b in boxes[boxes["row"] == row].itertuples():
        # box pixels are [y_tl:y_br, x_tl:x_br]; imshow puts pixel centres on integers
        ax.add_patch(Rectangle((b.x_tl - 0.5, b.y_tl - 0.5), b.x_br - b.x_tl, b.y_br - b.y_tl, fill=False,
                               lw=1, edgecolor=BOX_COLORS.get(b.cls, "yellow")))


def _grid(n_rows: int, n_cols: int, aspect: float):
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(CELL * n_cols + 1, CELL / aspect * n_rows + 0.5),
                             squeeze=False, layout="constrained", dpi=120)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    return fig, axes


def _inputs(axes, images, boxes, labels):
    for i, img in enumerate(images):
        axes[i, 0].imshow(**_display(img))
        _boxes(axes[i, 0], boxes, i)
        if labels is not None:
            axes[i, 0].set_ylabel(labels[i], fontsize=8)
    axes[0, 0].set_title("input", fontsize=9)


def heatmap_grid(images: np.ndarray, heatmaps: dict[str, np.ndarray], boxes: pd.DataFrame | None = None,
                 labels: list[str] | None = None, alpha: float = 0.5):
    """Fig. 4: input then one overlay per model; ``images`` uint8 (n, C, H, W), heatmaps (n, H, W) each."""
    n, _, H, W = images.shape
    fig, axes = _grid(n, 1 + len(heatmaps), W / H)
    _inputs(axes, images, boxes, labels)
    for j, (name, hm) in enumerate(heatmaps.items(), start=1):
        axes[0, j].set_title(name, fontsize=9)
        for i in range(n):
            axes[i, j].imshow(images[i].mean(0), cmap="gray", vmin=0, vmax=255)  # grey under the colours
            im = axes[i, j].imshow(to_unit(hm[i]), cmap="jet", alpha=alpha, vmin=0, vmax=1)
    fig.colorbar(im, ax=axes[:, -1].tolist(), shrink=0.6, label="importance (scaled per map)")
    return fig


def diff_grid(images: np.ndarray, heatmaps: dict[str, np.ndarray], reference: str = "original",
              boxes: pd.DataFrame | None = None, labels: list[str] | None = None):
    """Fig. 5: input then (model - reference) for every other model, heatmaps normalised to sum 1."""
    n, _, H, W = images.shape
    others = [m for m in heatmaps if m != reference]
    fig, axes = _grid(n, 1 + len(others), W / H)
    _inputs(axes, images, boxes, labels)
    for i in range(n):
        ref = to_sum1(heatmaps[reference][i])
        diffs = [to_sum1(heatmaps[m][i]) - ref for m in others]
        v = max(float(np.abs(d).max()) for d in diffs) or 1.0  # symmetric limits, shared along the row
        for j, (m, d) in enumerate(zip(others, diffs), start=1):
            axes[i, j].imshow(images[i].mean(0), cmap="gray", vmin=0, vmax=255)  # faint scene under the map
            im = axes[i, j].imshow(d, cmap=DIFF_CMAP, vmin=-v, vmax=v, alpha=0.8)
            if i == 0:
                axes[i, j].set_title(f"{m} - {reference}", fontsize=9)
        fig.colorbar(im, ax=axes[i, -1], shrink=0.8, format="%.0e")
    return fig
