"""95 % intervals: a seeded two-level bootstrap over training repeats and evaluation samples, paired across models.

A model of the pipeline is R independent training runs (``repeats``); a metric is computed per run on a set of
evaluation samples (one or more *populations*: the test split, the forget set, ...). One bootstrap replicate
draws R runs with replacement and, for every population, as many samples as it holds with replacement, and
averages the metric over the drawn runs. The interval is the 2.5 and 97.5 percentiles of B replicates; the
reported value is the plain mean over the R runs on all samples.

Paired: every model of a task is evaluated on the same draws (the same replicate picks the same repeat index and
the same samples for Original, Retrain and every method; repeat r of a method started from repeat r of the
Original), so the interval of a difference between two models, e.g. |metric - Retrain's|, comes from the per-
replicate differences and is not inflated by variation the two models share.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from stages.core.config import Int
from stages.core.tables import fmt, fmt_interval  # noqa: F401  (re-exported: the reports' number format)

LEVEL = 0.95
REPLICATES = Int(min=20)  # the schema of evaluate.bootstrap, the replicate count every interval uses


@dataclass
class Draws:
    reps: np.ndarray               # (B, R) repeat indices, drawn with replacement
    idx: dict[str, np.ndarray]     # population -> (B, n) sample indices, drawn with replacement

    @property
    def n(self) -> int:
        return len(self.reps)

    def replicate(self, b: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        return self.reps[b], {k: v[b] for k, v in self.idx.items()}


def draw(sizes: dict[str, int], repeats: int, n: int, seed: int) -> Draws:
    """``n`` replicates for populations of the given sizes and ``repeats`` training runs (deterministic in seed)."""
    if repeats < 1 or n < 1:
        raise ValueError(f"draw: repeats = {repeats}, n = {n}: both must be >= 1")
    rng = np.random.default_rng(seed)
    reps = rng.integers(0, repeats, (n, repeats))
    idx = {}
    for k in sorted(sizes):
        if sizes[k] < 1:
            raise ValueError(f"population {k!r} is empty: nothing to bootstrap")
        idx[k] = rng.integers(0, sizes[k], (n, sizes[k]))
    return Draws(reps, idx)


def mean_dicts(rows: list[dict[str, float]], weights=None) -> dict[str, float]:
    """Weighted mean of the keys every row has (a metric that is None or missing in one row is dropped)."""
    keys = [k for k in rows[0] if all(r.get(k) is not None for r in rows)]
    w = np.ones(len(rows)) if weights is None else np.asarray(weights, float)
    return {k: float(np.dot(w, [r[k] for r in rows]) / w.sum()) for k in keys}


def point(stat: Callable[[int, dict | None], dict], repeats: int) -> tuple[dict[str, float], dict[str, list]]:
    """The reported values: ``stat(r, None)`` (all samples) averaged over the runs; also the per-run values."""
    runs = [stat(r, None) for r in range(repeats)]
    return mean_dicts(runs), {k: [r.get(k) for r in runs] for k in runs[0]}


def replicate(stat: Callable[[int, dict | None], dict], reps: np.ndarray, idx: dict[str, np.ndarray]) -> dict[str, float]:
    """One replicate: ``stat(r, idx)`` (the metrics of run ``r`` on the samples ``idx``, population -> indices)
    averaged over the drawn runs ``reps``; a run drawn twice is computed once and counted twice."""
    runs, counts = np.unique(reps, return_counts=True)
    return mean_dicts([stat(int(r), idx) for r in runs], counts)


def replicates(stat: Callable[[int, dict | None], dict], draws: Draws) -> dict[str, np.ndarray]:
    """Per metric, the (B,) values of :func:`replicate` over every replicate of ``draws``."""
    out: dict[str, list] = {}
    for b in range(draws.n):
        for k, v in replicate(stat, *draws.replicate(b)).items():
            out.setdefault(k, []).append(v)
    return {k: np.asarray(v) for k, v in out.items()}


def interval(values, level: float = LEVEL) -> tuple[float, float]:
    """Percentile interval of bootstrap replicate values (finite ones)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan")
    a = (1 - level) / 2 * 100
    lo, hi = np.percentile(v, [a, 100 - a])
    return float(lo), float(hi)


def gap_interval(diffs) -> tuple[float, float]:
    """Interval of |a - b| from the replicates of the signed difference a - b: [0, max |end|] when the signed
    interval holds 0, else [min |end|, max |end|]. (Percentiles of |a - b| itself would exclude 0 even when the
    two models cannot be told apart, and could exclude the observed distance.)"""
    lo, hi = interval(diffs)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return lo, hi
    ends = sorted((abs(lo), abs(hi)))
    return (0.0, ends[1]) if lo <= 0 <= hi else (ends[0], ends[1])


def separated(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """True when two intervals do not overlap."""
    return a[1] < b[0] or b[1] < a[0]


def _round(v, digits: int = 6):
    return None if v is None or not np.isfinite(v) else float(f"{float(v):.{digits}g}")


def records(values: dict, runs: dict, reps: dict, reference: str = "retrain", skip=()) -> dict:
    """Per model and metric ``{value, lo, hi, runs}`` and, for every model not in ``skip``, the distance to the
    reference model ``gap`` = |value - reference's| with its paired interval ``gap_lo``/``gap_hi`` (from the
    per-replicate differences). ``values``/``runs``/``reps``: model -> metric -> value / per-run list /
    replicate array (the same replicates for every model)."""
    out = {}
    for m, vals in values.items():
        out[m] = {}
        for k, v in vals.items():
            lo, hi = interval(reps[m][k]) if k in reps[m] else (None, None)
            out[m][k] = {"value": _round(v), "lo": _round(lo), "hi": _round(hi),
                         "runs": [_round(x) for x in runs[m].get(k, [])]}
    ref = reps.get(reference, {})
    for m in values:
        if m == reference or m in skip:
            continue
        for k, rec in out[m].items():
            other = out.get(reference, {}).get(k)
            if k in ref and k in reps[m] and len(ref[k]) == len(reps[m][k]) and other and rec["value"] is not None \
                    and other["value"] is not None:
                lo, hi = gap_interval(reps[m][k] - ref[k])
                rec.update(gap=_round(abs(rec["value"] - other["value"])), gap_lo=_round(lo), gap_hi=_round(hi))
    return out
