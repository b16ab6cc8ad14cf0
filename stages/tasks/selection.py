"""Selection rules of the fixed explanation subset of a test split (used by the task plugins).

The subset is drawn deterministically from the global seed and interleaves the kinds of images the heatmaps
must be compared on, so that any prefix (e.g. the first ``explain.n_figure`` images shown in the figures) is
already mixed:

- :func:`select_mixed` (counting): frames with both forget-class and other objects, with the forget class
  only, with other objects only, in turn; empty frames only fill up when those run out.
- :func:`select_by_group`: one image of every group (e.g. age group) in turn, so every group is covered.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

KINDS = ("both", "forget", "other")  # round-robin order; "empty" is the filler
BOX_COLUMNS = ("row", "cls", "x_tl", "y_tl", "x_br", "y_br")


def require(table: pd.DataFrame, columns, where: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{where}: missing column(s) {', '.join(missing)} (has: {', '.join(table.columns)})")


def kind(table: pd.DataFrame, forget_cols, other_cols, where: str = "table") -> pd.Series:
    """Per frame: ``both``, ``forget`` (forget class only), ``other`` (other objects only) or ``empty``."""
    require(table, [*forget_cols, *other_cols], where)
    f = table[list(forget_cols)].to_numpy().sum(1) > 0
    o = table[list(other_cols)].to_numpy().sum(1) > 0
    return pd.Series(np.select([f & o, f, o], ["both", "forget", "other"], "empty"), index=table.index)


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


def select_mixed(table: pd.DataFrame, n: int, seed: int, forget_cols, other_cols, where: str = "table") -> np.ndarray:
    """Row indices (into ``table``) of a counting subset: both / forget-only / other-only frames in turn."""
    k = kind(table, forget_cols, other_cols, where).to_numpy()
    rng = np.random.default_rng(seed)
    groups = [rng.permutation(np.flatnonzero(k == name)) for name in KINDS]
    return round_robin(groups, n, filler=rng.permutation(np.flatnonzero(k == "empty")))


def select_by_group(group: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Row indices of a subset taking every group (value of ``group``) in turn."""
    rng = np.random.default_rng(seed)
    return round_robin([rng.permutation(np.flatnonzero(group == g)) for g in np.unique(group)], n)


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
