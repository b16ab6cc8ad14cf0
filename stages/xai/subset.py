"""The fixed explanation subset of a test split.

The subset is drawn deterministically from the global seed and interleaves the kinds of images the
heatmaps must be compared on, so that any prefix (e.g. the first ``explain.n_figure`` images shown in the
figures) is already mixed:

- LTD: frames with both humans and other objects, with humans only, with other objects only (bicycle,
  motorcycle, vehicle), in turn; empty frames only fill up when those run out.
- UTKFace: one image of every forget group (``group`` column) in turn, so every age group is covered.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

LTD_CLASSES = ("human", "bicycle", "motorcycle", "vehicle")
LTD_KINDS = ("both", "human", "other")  # round-robin order; "empty" is the filler


def require(table: pd.DataFrame, columns, where: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{where}: missing column(s) {', '.join(missing)} (has: {', '.join(table.columns)})")


def ltd_kind(table: pd.DataFrame, where: str = "table") -> pd.Series:
    """Per frame: ``both``, ``human`` (humans only), ``other`` (other objects only) or ``empty``."""
    require(table, LTD_CLASSES, where)
    human = table["human"].to_numpy() > 0
    other = table[list(LTD_CLASSES[1:])].to_numpy().sum(1) > 0
    kind = np.select([human & other, human, other], ["both", "human", "other"], "empty")
    return pd.Series(kind, index=table.index)


def round_robin(groups: list[np.ndarray], n: int, filler: np.ndarray | None = None) -> np.ndarray:
    """Take one item of each group in turn until ``n`` are taken; then fill up from ``filler``."""
    out, pos = [], 0
    while len(out) < n and any(pos < len(g) for g in groups):
        out += [g[pos] for g in groups if pos < len(g)]
        pos += 1
    out = out[:n]
    if filler is not None:
        out += list(filler[: n - len(out)])
    return np.asarray(out, dtype=np.int64)


def select_ltd(table: pd.DataFrame, n: int, seed: int, where: str = "table") -> np.ndarray:
    """Row indices (into ``table``) of the LTD subset: both / human-only / other-only frames in turn."""
    kind = ltd_kind(table, where).to_numpy()
    rng = np.random.default_rng(seed)
    groups = [rng.permutation(np.flatnonzero(kind == k)) for k in LTD_KINDS]
    return round_robin(groups, n, filler=rng.permutation(np.flatnonzero(kind == "empty")))


def select_utk(table: pd.DataFrame, n: int, seed: int, where: str = "table") -> np.ndarray:
    """Row indices of the UTKFace subset: every forget group (column ``group``) in turn."""
    require(table, ("group", "age"), where)
    rng = np.random.default_rng(seed)
    group = table["group"].to_numpy()
    return round_robin([rng.permutation(np.flatnonzero(group == g)) for g in np.unique(group)], n)


SELECT = {"ltd": select_ltd, "utk": select_utk}


def subset_table(table: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """The chosen rows, with their index in the test split as the first column ``test_row``."""
    out = table.iloc[rows].reset_index(drop=True)
    out.insert(0, "test_row", rows)
    return out


def subset_boxes(boxes: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """Boxes of the chosen frames with ``row`` re-indexed into the subset (coordinates unchanged: the
    heatmaps have the input resolution, so the boxes stay in input pixels)."""
    new = pd.Series(np.arange(len(rows)), index=rows)
    out = boxes[boxes["row"].isin(rows)].copy()
    out["row"] = new.loc[out["row"]].to_numpy()
    return out.sort_values(["row"], kind="stable").reset_index(drop=True)
