"""Error metrics of the regression tasks (object counts, ages) and the per-sample losses behind the MIA.

All functions take numpy arrays (anything ``np.asarray`` accepts) of raw, unrounded predictions.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

LOSS_KINDS = ("abs", "squared")


def as_vector(x, name: str) -> np.ndarray:
    """``x`` as a non-empty, finite, 1-D float64 array; ValueError naming ``name`` otherwise."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name}: empty array")
    bad = np.flatnonzero(~np.isfinite(a))
    if bad.size:
        raise ValueError(f"{name}: {bad.size} non-finite value(s), first at index {bad[0]} ({a[bad[0]]})")
    return a


def as_pair(a, b, name_a: str, name_b: str) -> tuple[np.ndarray, np.ndarray]:
    """Two vectors of the same length (see :func:`as_vector`)."""
    a, b = as_vector(a, name_a), as_vector(b, name_b)
    if a.shape != b.shape:
        raise ValueError(f"{name_a} has shape {a.shape} but {name_b} has shape {b.shape}")
    return a, b


def per_sample_loss(pred, target, kind: str = "abs") -> np.ndarray:
    """|pred - target| (``kind="abs"``) or (pred - target)^2 (``kind="squared"``), one value per sample."""
    if kind not in LOSS_KINDS:
        raise ValueError(f"kind = {kind!r}: expected one of {LOSS_KINDS}")
    p, t = as_pair(pred, target, "pred", "target")
    d = p - t
    return np.abs(d) if kind == "abs" else d * d


def mae(pred, target) -> float:
    """Mean absolute error."""
    return float(per_sample_loss(pred, target, "abs").mean())


def rmse(pred, target) -> float:
    """Root mean squared error."""
    return float(np.sqrt(per_sample_loss(pred, target, "squared").mean()))


def loss_histograms(forget_losses, test_losses, bins: int | np.ndarray = 30) -> pd.DataFrame:
    """Density histograms of forget-set and test-set losses over shared bin edges (seed 004 overlap plots).

    ``bins`` is a number of equal-width bins spanning both samples, or an increasing array of edges.
    Each density integrates to 1 over the edges (values outside explicit edges are dropped, as in
    ``np.histogram``). Returns columns ``bin_center``, ``forget``, ``test``.
    """
    f, t = as_vector(forget_losses, "forget_losses"), as_vector(test_losses, "test_losses")
    if np.ndim(bins) == 0:
        if isinstance(bins, bool) or int(bins) != bins or bins < 1:
            raise ValueError(f"bins = {bins!r}: expected a positive integer or an array of edges")
        edges = np.histogram_bin_edges(np.concatenate([f, t]), bins=int(bins))
    else:
        edges = as_vector(bins, "bins")
        if edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError("bins: edges must be strictly increasing, at least 2 of them")
    for name, x in (("forget_losses", f), ("test_losses", t)):
        if not np.any((x >= edges[0]) & (x <= edges[-1])):
            raise ValueError(f"{name}: no value inside the bin edges [{edges[0]}, {edges[-1]}]")
    df, _ = np.histogram(f, bins=edges, density=True)
    dt, _ = np.histogram(t, bins=edges, density=True)
    return pd.DataFrame({"bin_center": (edges[:-1] + edges[1:]) / 2, "forget": df, "test": dt})
