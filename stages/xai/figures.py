"""Heatmap figures (seed 000, Fig. 4 and Fig. 5).

- :func:`heatmap_grid`: per image, the input (with its boxes for LTD), then each model's heatmap overlaid on it
  (model name on every panel), jet colormap from least (blue) to most (red) important; by default every map
  normalised to sum 1 on one colour scale shared by the image's models, so models can be compared.
- :func:`diff_grid`: per image, the input, then each model's heatmap minus the reference (Original) heatmap, both
  normalised to sum 1 first; diverging colormap with symmetric limits shared by the image's panels: green =
  more attention than Original, red = less, white = no change (drawn at alpha 0.8 over the grey input).

An image's panels wrap at ``PAGE_COLS`` per row, so a figure fits a page width whatever the number of models.
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


PAGE_COLS = 5  # panels per row: a figure fits a page width (5 x CELL inches); an image's panels wrap


def _grid(n_images: int, n_panels: int, aspect: float, cols: int = PAGE_COLS):
    """Figure with one block of rows per image, ``n_panels`` panels per image wrapped at ``cols`` per row.
    Returns (figure, per image the list of its panel axes)."""
    cols = min(cols, n_panels)
    rows_per = -(-n_panels // cols)
    fig, axes = plt.subplots(n_images * rows_per, cols, figsize=(CELL * cols + 1, (CELL / aspect + 0.3) * n_images * rows_per),
                             squeeze=False, layout="constrained", dpi=110)
    blocks = []
    for i in range(n_images):
        flat = axes[i * rows_per:(i + 1) * rows_per].ravel().tolist()
        for ax in flat[n_panels:]:
            ax.axis("off")
        blocks.append(flat[:n_panels])
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    return fig, blocks


def _input(ax, img, boxes, i, label):
    ax.imshow(**_display(img))
    _boxes(ax, boxes, i)
    ax.set_title(f"input {label}" if label else "input", fontsize=7)


def heatmap_grid(images: np.ndarray, heatmaps: dict[str, np.ndarray], boxes: pd.DataFrame | None = None,
                 labels: list[str] | None = None, alpha: float = 0.5, shared_scale: bool = True):
    """Fig. 4: per image its input, then one overlay per model (name on every panel), wrapped to page width.

    ``shared_scale``: each map is normalised to sum 1 and all models of an image share one colour scale (0 to the
    largest value among them), so a hotter panel means more attention there than in the other models' maps;
    otherwise each map is min-max scaled on its own (the paper's display)."""
    n, _, H, W = images.shape
    fig, blocks = _grid(n, 1 + len(heatmaps), W / H)
    for i, axes in enumerate(blocks):
        _input(axes[0], images[i], boxes, i, labels[i] if labels is not None else None)
        maps = {m: (to_sum1(h[i]) if shared_scale else to_unit(h[i])) for m, h in heatmaps.items()}
        vmax = max(float(m.max()) for m in maps.values()) if shared_scale else 1.0
        for ax, (name, hm) in zip(axes[1:], maps.items()):
            ax.imshow(images[i].mean(0), cmap="gray", vmin=0, vmax=255)  # grey under the colours
            im = ax.imshow(hm, cmap="jet", alpha=alpha, vmin=0, vmax=vmax or 1.0)
            _boxes(ax, boxes, i)
            ax.set_title(name, fontsize=7)
        fig.colorbar(im, ax=axes, shrink=0.8, pad=0.01, format="%.1e" if shared_scale else "%.1f",
                     label="share of the map" if shared_scale else "scaled per map")
    return fig


def diff_grid(images: np.ndarray, heatmaps: dict[str, np.ndarray], reference: str = "original",
              boxes: pd.DataFrame | None = None, labels: list[str] | None = None):
    """Fig. 5: per image its input, then (model - reference) for every other model, heatmaps normalised to sum 1,
    on one symmetric scale per image (white = no change; green = more attention than the reference, red = less)."""
    n, _, H, W = images.shape
    others = [m for m in heatmaps if m != reference]
    fig, blocks = _grid(n, 1 + len(others), W / H)
    for i, axes in enumerate(blocks):
        _input(axes[0], images[i], boxes, i, labels[i] if labels is not None else None)
        ref = to_sum1(heatmaps[reference][i])
        diffs = [to_sum1(heatmaps[m][i]) - ref for m in others]
        v = max(float(np.abs(d).max()) for d in diffs) or 1.0  # symmetric limits, shared by the image's panels
        for ax, m, d in zip(axes[1:], others, diffs):
            ax.imshow(images[i].mean(0), cmap="gray", vmin=0, vmax=255)  # faint scene under the map
            im = ax.imshow(d, cmap=DIFF_CMAP, vmin=-v, vmax=v, alpha=0.8)
            _boxes(ax, boxes, i)
            ax.set_title(f"{m} - {reference}", fontsize=7)
        fig.colorbar(im, ax=axes, shrink=0.8, pad=0.01, format="%.1e")
    return fig
