"""95 % intervals that hold at a small number of training runs, paired across models.

A model of the pipeline is R independent training runs (``repeats``); a metric is computed per run on a set of
evaluation samples (one or more *populations*: the test split, the forget set, ...). The reported value is the
mean of the R per-run values on all samples. Its uncertainty has two parts:

- run to run: the run effects' variance tau^2, whose mean over R runs has variance tau^2 / R, estimated from the
  R per-run values (R - 1 degrees of freedom);
- sampling: B bootstrap replicates draw every population's samples with replacement, and every run is evaluated
  on each draw; the covariance of two runs' replicates is the sampling variance they share (the same samples),
  each run's replicate variance beyond it its own.

The interval is value +/- sqrt(t_{R-1}^2 * tau^2 / R + t_{B-1}^2 * sampling part), each part scaled by the
Student-t quantile of the degrees of freedom it was estimated on (:func:`t_interval`): a percentile bootstrap over
R = 2 runs draws only three distinct means and understates the run-to-run part; t on R - 1 degrees of freedom
does not. A test on simulated evaluations with a known truth checks 93-97 % coverage at R = 2, 3 and 5. With R = 1
there is no run-to-run part to estimate: the interval is the sampling part alone, and the reports say so.

Paired: every model of a task is evaluated on the same draws (the same replicate draws the same samples for
Original, Retrain and every method; repeat r of a method started from repeat r of the Original), so a difference
between two models, e.g. metric - Retrain's, gets the same construction from the per-run differences and the
per-replicate differences, and is not inflated by variation the two models share.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import stats

from stages.core.config import Int
from stages.core.tables import fmt, fmt_interval  # noqa: F401  (re-exported: the reports' number format)

LEVEL = 0.95
REPLICATES = Int(min=20)  # the schema of evaluate.bootstrap, the replicate count every interval uses


@dataclass
class Draws:
    reps: np.ndarray               # (B, R) repeat indices: every run in every replicate
    idx: dict[str, np.ndarray]     # population -> (B, n) sample indices, drawn with replacement

    @property
    def n(self) -> int:
        return len(self.reps)

    def replicate(self, b: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        return self.reps[b], {k: v[b] for k, v in self.idx.items()}


def draw(sizes: dict[str, int], repeats: int, n: int, seed: int) -> Draws:
    """``n`` replicates for populations of the given sizes (deterministic in seed); every replicate keeps all
    ``repeats`` runs (the run-to-run part is estimated from the per-run values: :func:`t_interval`)."""
    if repeats < 1 or n < 1:
        raise ValueError(f"draw: repeats = {repeats}, n = {n}: both must be >= 1")
    rng = np.random.default_rng(seed)
    reps = np.tile(np.arange(repeats), (n, 1))
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


def replicates(stat: Callable[[int, dict | None], dict], draws: Draws) -> dict[str, np.ndarray]:
    """Per metric, the (B, R) values of ``stat(r, idx)``: every run r on the samples of every replicate b."""
    return per_run(lambda b, r: stat(r, draws.replicate(b)[1]), draws.n, draws.reps.shape[1])


def per_run(stat_br: Callable[[int, int], dict], n: int, repeats: int) -> dict[str, np.ndarray]:
    """Per metric, the (n, repeats) array of ``stat_br(b, r)``; a metric undefined in a cell (None or missing, e.g. a
    draw without one of the classes it needs) is NaN there, and :func:`t_interval` leaves that replicate out."""
    cells = [[stat_br(b, r) for r in range(repeats)] for b in range(n)]
    keys = list(dict.fromkeys(k for row in cells for c in row for k, v in c.items() if v is not None))
    return {k: np.asarray([[np.nan if c.get(k) is None else c[k] for c in row] for row in cells], dtype=np.float64)
            for k in keys}


def separated(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """True when two intervals do not overlap."""
    return a[1] < b[0] or b[1] < a[0]


def _round(v, digits: int = 6):
    return None if v is None or not np.isfinite(v) else float(f"{float(v):.{digits}g}")


def t_interval(runs, replicates, level: float = LEVEL) -> tuple[float, float, float]:
    """(mean, lo, hi): the mean of the per-run values ``runs`` (R,) and its interval, from ``replicates`` (B, R):
    each run's metric on B bootstrap draws of the samples (the same draws for every run).

    The variance of the mean has three parts: the run effects' variance tau^2 / R; the sampling variance shared by
    the runs (the samples are the same for every run), the mean covariance of two runs' replicates; and each run's
    own sampling variance over R (the mean replicate variance minus the shared part). tau^2 is the per-run values'
    variance less that own part (they hold it too), at least 0. The run part is scaled by the Student-t quantile
    on R - 1 degrees of freedom, the sampling parts by the one on B - 1."""
    v = np.asarray(runs, dtype=np.float64)
    w = np.asarray(replicates if replicates is not None else np.empty((0, v.size)), dtype=np.float64)
    if w.ndim == 1:
        w = w[:, None] if v.size == 1 else np.empty((0, v.size))
    if v.size == 0 or not np.all(np.isfinite(v)):
        return float("nan"), float("nan"), float("nan")
    w = w[np.all(np.isfinite(w), axis=1)]
    R, B, mean = v.size, len(w), float(v.mean())
    q = 0.5 + level / 2
    if B > 1:
        cov = np.atleast_2d(np.cov(w, rowvar=False, ddof=1))
        shared = float((cov.sum() - np.trace(cov)) / (R * (R - 1))) if R > 1 else float(cov[0, 0])
        shared = max(shared, 0.0)
        own = max(float(np.trace(cov)) / R - shared, 0.0) if R > 1 else 0.0
        sampling = shared + own / R
    else:
        own = sampling = 0.0
    tau2 = max(float(v.var(ddof=1)) - own, 0.0) if R > 1 else 0.0
    half2 = (stats.t.ppf(q, R - 1) ** 2 * tau2 / R if R > 1 else 0.0) \
        + (stats.t.ppf(q, B - 1) ** 2 * sampling if B > 1 else 0.0)
    half = float(np.sqrt(half2))
    return mean, mean - half, mean + half


def gap_from(lo: float, hi: float) -> tuple[float, float]:
    """Interval of |a - b| from the interval [lo, hi] of the signed difference a - b: [0, max |end|] when it holds
    0, else [min |end|, max |end|]."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return lo, hi
    ends = sorted((abs(lo), abs(hi)))
    return (0.0, ends[1]) if lo <= 0 <= hi else (ends[0], ends[1])


def records(values: dict, runs: dict, reps: dict, reference: str = "retrain", skip=(), rank=()) -> dict:
    """Per model and metric ``{value, lo, hi, runs}`` (:func:`t_interval` of the per-run values and the sampling
    replicates) and, for every model not in ``skip``, the signed paired difference to the reference model
    ``diff`` with ``diff_lo``/``diff_hi`` (the same construction on the per-run and per-replicate differences) and
    the distance ``gap`` = |diff| with ``gap_lo``/``gap_hi``. ``values``/``runs``/``reps``: model -> metric ->
    value / per-run list / replicate array (the same replicates for every model). ``values`` is accepted for the
    metrics to report; the value written is the mean of the per-run values, the estimator the interval describes.
    The models in ``rank`` (the methods) are also compared with each other on their gaps: see :func:`_rank_gaps`."""
    out = {}
    for m, vals in values.items():
        out[m] = {}
        for k in vals:
            r = runs[m].get(k, [])
            value, lo, hi = t_interval(r, reps[m].get(k))
            out[m][k] = {"value": _round(value), "lo": _round(lo), "hi": _round(hi), "runs": [_round(x) for x in r]}
    ref_runs, ref_reps = runs.get(reference, {}), reps.get(reference, {})
    for m in values:
        if m == reference or m in skip:
            continue
        for k, rec in out[m].items():
            a, b = runs[m].get(k, []), ref_runs.get(k, [])
            if rec["value"] is None or len(a) != len(b) or not a or any(x is None for x in (*a, *b)):
                continue
            da = np.asarray(a, np.float64) - np.asarray(b, np.float64)
            dr = None
            if k in reps[m] and k in ref_reps and len(reps[m][k]) == len(ref_reps[k]):
                dr = np.asarray(reps[m][k], np.float64) - np.asarray(ref_reps[k], np.float64)
            diff, lo, hi = t_interval(da, dr)
            glo, ghi = gap_from(lo, hi)
            rec.update(diff=_round(diff), diff_lo=_round(lo), diff_hi=_round(hi),
                       gap=_round(abs(diff)), gap_lo=_round(glo), gap_hi=_round(ghi))
    _rank_gaps(out, runs, reps, reference, [m for m in rank if m in out and m != reference])
    return out


def _abs_diff(runs: dict, reps: dict, m: str, ref: str, k: str):
    """Per run and per replicate |m - ref| on metric k, or None where either is missing."""
    a, b = runs[m].get(k), runs[ref].get(k)
    if not a or not b or len(a) != len(b) or any(x is None for x in (*a, *b)):
        return None
    ra, rb = reps[m].get(k), reps[ref].get(k)
    rep = None if ra is None or rb is None or np.shape(ra) != np.shape(rb) else np.abs(np.asarray(ra) - np.asarray(rb))
    return np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)), rep


def _rank_gaps(out: dict, runs: dict, reps: dict, reference: str, models: list[str]) -> None:
    """Per metric, which model is closest to the reference, compared in pairs: the model with the smallest gap
    (mean over runs of |model - reference|) is ``best``; every other model gets ``gap_vs_best`` = [best, d, lo, hi],
    the paired difference of its per-run (and per-replicate) gap and the best's. A model whose interval holds 0 ties
    with the best."""
    if reference not in runs:
        return
    for k in {k for m in models for k in out[m]}:
        gaps = {m: g for m in models if k in out[m] and (g := _abs_diff(runs, reps, m, reference, k)) is not None}
        if len(gaps) < 2:
            continue
        best = min(gaps, key=lambda m: (float(gaps[m][0].mean()), m))
        for m, (g, rep) in gaps.items():
            if m == best:
                out[m][k]["gap_vs_best"] = [best, 0.0, 0.0, 0.0]
                continue
            gb, repb = gaps[best]
            d, lo, hi = t_interval(g - gb, None if rep is None or repb is None else rep - repb)
            out[m][k]["gap_vs_best"] = [best, _round(d), _round(lo), _round(hi)]


def paired(runs: dict, reps: dict, models: list[str]) -> dict[str, dict[str, list]]:
    """Per metric, the paired difference of every ordered pair of models: {metric: {"a - b": [d, lo, hi]}} for a
    before b in ``models`` (:func:`t_interval` on the per-run and per-replicate differences): what a statement
    "a differs from b" reads, on the same samples and runs."""
    out: dict[str, dict[str, list]] = {}
    for i, a in enumerate(models):
        for b in models[i + 1:]:
            for k in runs[a]:
                ra, rb = runs[a].get(k), runs[b].get(k)
                if not ra or not rb or len(ra) != len(rb) or any(x is None for x in (*ra, *rb)):
                    continue
                wa, wb = reps[a].get(k), reps[b].get(k)
                rep = None if wa is None or wb is None or np.shape(wa) != np.shape(wb) else np.asarray(wa) - np.asarray(wb)
                d, lo, hi = t_interval(np.asarray(ra, np.float64) - np.asarray(rb, np.float64), rep)
                out.setdefault(k, {})[f"{a} - {b}"] = [_round(d), _round(lo), _round(hi)]
    return out


def pair(pairs: dict, metric: str, a: str, b: str) -> tuple[float, float, float] | None:
    """(d, lo, hi) of ``a - b`` on ``metric`` from a :func:`paired` table (stored either way round), or None."""
    got = (pairs.get(metric) or {})
    if f"{a} - {b}" in got:
        return tuple(got[f"{a} - {b}"])
    if f"{b} - {a}" in got:
        d, lo, hi = got[f"{b} - {a}"]
        return (None if d is None else -d, None if hi is None else -hi, None if lo is None else -lo)
    return None
