"""Heatmap figures (seed 000, Fig. 4 and Fig. 5).

- :func:`heatmap_grid`: per image, the input (with its boxes for LTD), then each model's heatmap overlaid on it
  (model name on every panel), jet colormap from least (blue) to most (red) important; by default every map
  normalised to sum 1 on one colour scale shared by the image's models, so models can be compared.
- :func:`diff_grid`: per image, the input, then each model's heatmap minus the reference (Original) heatmap, both
  normalised to sum 1 first; diverging colormap with symmetric limits shared by the image's panels: green =
  more attention than Original, red = less, white = no change (drawn at alpha 0.8 over the grey input).

An image's panels wrap at ``PAGE_COLS`` per row, so a figure fits a page width whatever the number of models; every
row of an image starts with its input, so each map has the image it explains beside it (a small digit is hard to
make out under a colour overlay). Both figures carry a title (the caller names the task) and, when boxes are drawn,
a legend of the box colours.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

BOX_COLORS = {"human": "lime", "bicycle": "red", "vehicle": "blue", "motorcycle": "cyan"}  # seed 000 Fig. 3
OTHER_BOX = "yellow"  # a class without a colour of its own
DIFF_CMAP = LinearSegmentedColormap.from_list("red_white_green", ["#b2182b", "white", "#1b7837"])
CELL = 2.2  # inches per image column
PAGE_COLS = 6  # panels per row, the input included: a figure fits a page width (6 x CELL inches)


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
                               lw=1, edgecolor=BOX_COLORS.get(b.cls, OTHER_BOX)))


def box_legend(boxes: pd.DataFrame | None, rows: int, names: dict[str, str] | None = None) -> list:
    """Legend handles, one per box class drawn on the first ``rows`` images (none without boxes); ``names``: a
    class's legend text (default "<class> box")."""
    if boxes is None or not len(boxes):
        return []
    shown = sorted(set(boxes.loc[boxes["row"] < rows, "cls"].astype(str)))
    names = names or {}
    return [Patch(fill=False, edgecolor=BOX_COLORS.get(c, OTHER_BOX), lw=1.5, label=names.get(c, f"{c} box"))
            for c in shown]


def _grid(n_images: int, n_maps: int, aspect: float, cols: int = PAGE_COLS):
    """Figure with one block of rows per image: each row the image's input, then up to ``cols - 1`` of its
    ``n_maps`` maps. Returns (figure, per image a list of (input axes, [map axes]) per row)."""
    per_row = max(1, min(cols - 1, n_maps))
    rows_per = -(-n_maps // per_row)
    fig, axes = plt.subplots(n_images * rows_per, 1 + per_row,
                             figsize=(CELL * (1 + per_row) + 1, (CELL / aspect + 0.3) * n_images * rows_per + 0.8),
                             squeeze=False, layout="constrained", dpi=110)
    blocks = []
    for i in range(n_images):
        rows, left = [], n_maps
        for r in range(rows_per):
            line = axes[i * rows_per + r]
            k = min(per_row, left)
            for ax in line[1 + k:]:
                ax.axis("off")
            rows.append((line[0], list(line[1:1 + k])))
            left -= k
        blocks.append(rows)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    return fig, blocks


def outline(ax, img: np.ndarray, color: str = "white") -> None:
    """The input's outline on a map panel: one contour at half its brightness range (mean over channels), so the
    shape explained (a digit, a face) shows through the colours. Drawn where no boxes mark the objects; nothing
    for a flat image."""
    g = img.mean(0)
    lo, hi = float(g.min()), float(g.max())
    if hi > lo:
        ax.contour(g, levels=[(lo + hi) / 2], colors=color, linewidths=0.9)


def _input(ax, img, boxes, i, label):
    ax.imshow(**_display(img))
    _boxes(ax, boxes, i)
    ax.set_title(f"input {label}" if label else "input", fontsize=7)


def _finish(fig, title: str, boxes: pd.DataFrame | None, n: int, note: str, box_names: dict | None) -> None:
    """Title (the caller names the task), a line saying how to read the panels, the box legend."""
    fig.suptitle(f"{title}\n{note}" if title else note, fontsize=9)
    handles = box_legend(boxes, n, box_names)
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8, frameon=False)


def heatmap_grid(images: np.ndarray, heatmaps: dict[str, np.ndarray], boxes: pd.DataFrame | None = None,
                 labels: list[str] | None = None, alpha: float = 0.5, shared_scale: bool = True, title: str = "",
                 box_names: dict[str, str] | None = None):
    """Fig. 4: per image its input, then one overlay per model (name on every panel), wrapped to page width with the
    input at the start of every row.

    ``shared_scale``: each map is normalised to sum 1 and all models of an image share one colour scale (0 to the
    largest value among them), so a hotter panel means more attention there than in the other models' maps;
    otherwise each map is min-max scaled on its own (the paper's display). ``title`` heads the figure (the caller
    names the task and the explainer); ``box_names``: a box class's legend text."""
    n, _, H, W = images.shape
    fig, blocks = _grid(n, len(heatmaps), W / H)
    for i, rows in enumerate(blocks):
        label = labels[i] if labels is not None else None
        maps = {m: (to_sum1(h[i]) if shared_scale else to_unit(h[i])) for m, h in heatmaps.items()}
        vmax = max(float(m.max()) for m in maps.values()) if shared_scale else 1.0
        panels = iter(maps.items())
        for in_ax, map_axes in rows:
            _input(in_ax, images[i], boxes, i, label)
            for ax, (name, hm) in zip(map_axes, panels):
                ax.imshow(images[i].mean(0), cmap="gray", vmin=0, vmax=255)  # grey under the colours
                im = ax.imshow(hm, cmap="jet", alpha=alpha, vmin=0, vmax=vmax or 1.0)
                _boxes(ax, boxes, i)
                if boxes is None:
                    outline(ax, images[i])
                ax.set_title(name, fontsize=7)
        fig.colorbar(im, ax=[a for in_ax, m in rows for a in (in_ax, *m)], shrink=0.8, pad=0.01,
                     format="%.1e" if shared_scale else "%.1f",
                     label="share of the map" if shared_scale else "scaled per map")
    note = ("each model's heatmap over the grey input: red = where the output depends most, blue = least"
            + ("; maps sum to 1, one colour scale per image" if shared_scale else "; each map scaled on its own")
            + ("" if boxes is not None else "; white line: the input's outline"))
    _finish(fig, title, boxes, n, note, box_names)
    return fig


def diff_grid(images: np.ndarray, heatmaps: dict[str, np.ndarray], reference: str = "original",
              boxes: pd.DataFrame | None = None, labels: list[str] | None = None, title: str = "",
              box_names: dict[str, str] | None = None):
    """Fig. 5: per image its input, then (model - reference) for every other model, heatmaps normalised to sum 1,
    on one symmetric scale per image (white = no change; green = more attention than the reference, red = less)."""
    n, _, H, W = images.shape
    others = [m for m in heatmaps if m != reference]
    fig, blocks = _grid(n, len(others), W / H)
    for i, rows in enumerate(blocks):
        label = labels[i] if labels is not None else None
        ref = to_sum1(heatmaps[reference][i])
        diffs = [to_sum1(heatmaps[m][i]) - ref for m in others]
        v = max(float(np.abs(d).max()) for d in diffs) or 1.0  # symmetric limits, shared by the image's panels
        panels = iter(zip(others, diffs))
        for in_ax, map_axes in rows:
            _input(in_ax, images[i], boxes, i, label)
            for ax, (m, d) in zip(map_axes, panels):
                ax.imshow(images[i].mean(0), cmap="gray", vmin=0, vmax=255)  # faint scene under the map
                im = ax.imshow(d, cmap=DIFF_CMAP, vmin=-v, vmax=v, alpha=0.8)
                _boxes(ax, boxes, i)
                if boxes is None:
                    outline(ax, images[i], "black")  # white is "no change" on this scale
                ax.set_title(f"{m} - {reference}", fontsize=7)
        fig.colorbar(im, ax=[a for in_ax, m in rows for a in (in_ax, *m)], shrink=0.8, pad=0.01, format="%.1e",
                     label=f"heatmap share minus {reference}'s")
    note = (f"each model's heatmap minus {reference}'s (both summed to 1): green = more attention than {reference}, "
            "red = less, white = unchanged" + ("" if boxes is not None else "; black line: the input's outline"))
    _finish(fig, title, boxes, n, note, box_names)
    return fig
