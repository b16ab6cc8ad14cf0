"""Heatmap metrics of seed 000: Heatmap Coverage (HC) and Attention Shift (AS), and the box masks HC needs.

- HC, per image j: sum(H_j * M_j) / sum(H_j), M_j the union of the boxes of the chosen classes; averaged
  over the images whose mask is non-empty (Quantus' "Relevance Mass Accuracy"). r-HC uses the bicycle,
  motorcycle and vehicle boxes, h-HC the human boxes.
- AS: mean over images of the population standard deviation (ddof=0) over pixels of
  H_j / sum(H_j) - R_j / sum(R_j), R the Original model's heatmaps.

A heatmap that is all zero, negative somewhere or not finite makes both metrics undefined: it raises a
ValueError naming the image (its index, plus its id when ``ids`` is given), never a silent NaN.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

BOX_COLUMNS = ("row", "cls", "x_tl", "y_tl", "x_br", "y_br")


def _image_name(j: int, ids: Sequence | None) -> str:
    return f"image {j}" if ids is None else f"image {j} ({ids[j]})"


def _check_maps(maps, name: str, ids: Sequence | None = None) -> np.ndarray:
    """(n, H, W) float64 heatmaps, each finite, non-negative and with a positive sum."""
    h = np.asarray(maps, dtype=np.float64)
    if h.ndim != 3:
        raise ValueError(f"{name}: expected shape (n, H, W), got {h.shape}")
    if h.shape[0] == 0 or h.size == 0:
        raise ValueError(f"{name}: empty array of shape {h.shape}")
    if ids is not None and len(ids) != h.shape[0]:
        raise ValueError(f"ids has {len(ids)} entries but {name} has {h.shape[0]} images")
    flat = h.reshape(len(h), -1)
    for j in np.flatnonzero(~np.isfinite(flat).all(axis=1)):
        raise ValueError(f"{name}: {_image_name(j, ids)} has NaN or infinite values")
    for j in np.flatnonzero((flat < 0).any(axis=1)):
        raise ValueError(f"{name}: {_image_name(j, ids)} has negative values (min {flat[j].min():g})")
    for j in np.flatnonzero(flat.sum(axis=1) <= 0):
        raise ValueError(f"{name}: {_image_name(j, ids)} is all zero")
    return h


def valid_maps(maps) -> np.ndarray:
    """Bool per image: the heatmap is finite, non-negative and has a positive sum (HC and AS are defined)."""
    flat = np.asarray(maps, dtype=np.float64).reshape(len(maps), -1)
    return np.isfinite(flat).all(axis=1) & (flat >= 0).all(axis=1) & (flat.sum(axis=1) > 0)


def box_masks(boxes: pd.DataFrame, n_images: int, height: int, width: int, classes: Iterable[str]) -> np.ndarray:
    """Boolean masks (n_images, height, width): the union of the boxes of ``classes`` per image.

    ``boxes`` has columns row (image index), cls, x_tl, y_tl, x_br, y_br in pixels (floats allowed, e.g.
    after rescaling to the model input). Box pixels [floor(y_tl):ceil(y_br), floor(x_tl):ceil(x_br)] are set,
    clipped to the image, so a box always covers every pixel it touches. An image without such a box gets an
    all-False mask.
    """
    classes = [classes] if isinstance(classes, str) else list(classes)
    if not classes:
        raise ValueError("classes: empty list")
    if n_images < 0 or height < 1 or width < 1:
        raise ValueError(f"bad mask shape (n_images={n_images}, height={height}, width={width})")
    missing = [c for c in BOX_COLUMNS if c not in boxes.columns]
    if missing:
        raise ValueError(f"boxes: missing column(s) {missing}; expected {list(BOX_COLUMNS)}")
    masks = np.zeros((n_images, height, width), dtype=bool)
    sel = boxes[boxes["cls"].isin(classes)]
    coords = sel[["x_tl", "y_tl", "x_br", "y_br"]].to_numpy(dtype=np.float64)
    rows = sel["row"].to_numpy()
    for label, r, (x0, y0, x1, y1) in zip(sel.index, rows, coords):
        where = f"boxes (index {label})"
        if not np.all(np.isfinite([x0, y0, x1, y1])):
            raise ValueError(f"{where}: non-finite coordinate")
        if x1 < x0 or y1 < y0:
            raise ValueError(f"{where}: bottom-right ({x1}, {y1}) is above/left of top-left ({x0}, {y0})")
        if not (float(r).is_integer() and 0 <= r < n_images):
            raise ValueError(f"{where}: row = {r} is not an image index in [0, {n_images})")
        xa, ya = max(int(np.floor(x0)), 0), max(int(np.floor(y0)), 0)
        xb, yb = min(int(np.ceil(x1)), width), min(int(np.ceil(y1)), height)
        masks[int(r), ya:yb, xa:xb] = True  # empty slice when the box lies outside the image
    return masks


def heatmap_coverage_per_image(heatmaps, masks, ids: Sequence | None = None) -> np.ndarray:
    """HC of every image; NaN marks (explicitly) the images whose mask is empty, which HC excludes."""
    h = _check_maps(heatmaps, "heatmaps", ids)
    m = np.asarray(masks)
    if m.shape != h.shape:
        raise ValueError(f"masks has shape {m.shape} but heatmaps has shape {h.shape}")
    m = m.astype(bool)
    hc = (h * m).sum(axis=(1, 2)) / h.sum(axis=(1, 2))
    hc[~m.any(axis=(1, 2))] = np.nan
    return hc


def heatmap_coverage(heatmaps, masks, ids: Sequence | None = None) -> float:
    """Mean HC over the images whose mask is non-empty. ValueError if no mask has any pixel."""
    hc = heatmap_coverage_per_image(heatmaps, masks, ids)
    keep = ~np.isnan(hc)
    if not keep.any():
        raise ValueError(f"heatmap_coverage: none of the {len(hc)} masks has a pixel (no object of the chosen classes)")
    return float(hc[keep].mean())


def attention_shift_per_image(heatmaps, reference, ids: Sequence | None = None) -> np.ndarray:
    """Per image: population std over pixels of H/sum(H) - R/sum(R)."""
    h = _check_maps(heatmaps, "heatmaps", ids)
    r = _check_maps(reference, "reference", ids)
    if h.shape != r.shape:
        raise ValueError(f"heatmaps has shape {h.shape} but reference has shape {r.shape}")
    d = h / h.sum(axis=(1, 2), keepdims=True) - r / r.sum(axis=(1, 2), keepdims=True)
    return d.reshape(len(d), -1).std(axis=1, ddof=0)


def attention_shift(heatmaps, reference, ids: Sequence | None = None) -> float:
    """AS: mean over images of the per-image shift (see :func:`attention_shift_per_image`)."""
    return float(attention_shift_per_image(heatmaps, reference, ids).mean())
