"""Verdicts: per method and axis, is the unlearned model equivalent to Retrain, different, or can the data not tell?

An axis (utility, forgetting, membership, representation, heatmaps) is read on one metric the task names
(``Task.VERDICT_AXES``). The cell compares the interval of the paired difference method - Retrain
(``diff_lo``/``diff_hi`` of :func:`stages.metrics.bootstrap.records`) with the equivalence margin of that metric
(``verdict.margins.<metric>`` in params.yaml):

- ``≈ Retrain``: the whole interval lies inside [-margin, +margin] (equivalence at the stated margin);
- ``differs (+)`` / ``differs (-)``: the interval excludes 0 and is not inside the margin (above / below Retrain);
- ``unresolved``: neither; more runs or samples would narrow the interval.

A margin is a number in the metric's units, or a string ``"N%"``: N percent of Retrain's value (metrics whose
scale depends on the task, such as an MAE in objects or in years). The cost axis has no verdict: its cell is the
deterministic ratio of the images a method pushes through forward and backward passes to Retrain's (every forget,
teacher or importance batch counted).

An axis may name several candidate metrics (a tuple, e.g. the membership attacks: per-example RMIA and LiRA, the
population attack); it then reads the strongest one that resolves (:func:`resolve`): the candidate that best tells
the Original, a model that never forgot, from Retrain, judged on the paired difference Original - Retrain.
"""
from __future__ import annotations

from stages.core import config
from stages.core.config import ParamError
from stages.core.tables import fmt

APPROX, PLUS, MINUS, UNRESOLVED = "≈ Retrain", "differs (+)", "differs (-)", "unresolved"
AXES = ("utility", "forgetting", "membership", "representation", "heatmaps", "cost")
COST = "cost"


def check_margin(key: str, value) -> float | str:
    """A margin: a number >= 0, or ``"N%"`` with N > 0."""
    if isinstance(value, str) and value.endswith("%"):
        try:
            pct = float(value[:-1])
        except ValueError:
            pct = -1.0
        if pct > 0:
            return value
        raise ParamError(f"{key} = {value!r}: expected a number >= 0 or a percentage such as '10%'")
    return config.Float(min=0).check(key, value)


def settings(params: dict, axes_of_tasks: list[dict]) -> dict[str, float | str]:
    """The validated ``verdict.margins``: every metric an axis of a task reads (cost aside) needs one."""
    section = config.get(params, "verdict")
    cfg = config.validate(section, {"margins": config.Section()}, "verdict")
    margins = {k: check_margin(f"verdict.margins.{k}", v) for k, v in cfg["margins"].items()}
    for axes in axes_of_tasks:
        for axis, metric in axes.items():
            if axis not in AXES:
                raise ValueError(f"verdict axis {axis!r} is not one of {', '.join(AXES)}")
            for m in candidates(metric):
                if axis != COST and m not in margins:
                    raise ParamError(f"verdict.margins.{m}: missing (the {axis} axis reads {m})")
    return margins


def candidates(metric: str | tuple) -> tuple[str, ...]:
    """The metrics an axis may read: one, or a tuple of candidates."""
    return (metric,) if isinstance(metric, str) else tuple(metric)


def strength(rec: dict | None) -> float | None:
    """How clearly a metric tells the Original from Retrain: |diff| / half-width of the interval of the paired
    difference Original - Retrain (above 1: the interval excludes 0); None without an interval."""
    if not rec or any(rec.get(k) is None for k in ("diff", "diff_lo", "diff_hi")):
        return None
    half = (rec["diff_hi"] - rec["diff_lo"]) / 2
    return abs(rec["diff"]) / half if half > 0 else (float("inf") if rec["diff"] != 0 else 0.0)


def resolve(axes: dict, records: dict, probe: str = "original") -> dict[str, str]:
    """One metric per axis. An axis with candidates reads the strongest that resolves: among the candidates whose
    interval of the paired difference Original - Retrain excludes 0 (:func:`strength` > 1), the one with the
    largest strength, a unit-free ratio that compares an AUC with an accuracy; when none resolves, the first
    candidate (the task's preferred one). The Original is the probe because it is the model that certainly did
    not forget: an attack that cannot tell it from Retrain cannot verify any method."""
    out = {}
    for axis, metric in axes.items():
        names = candidates(metric)
        s = {m: strength(records.get(probe, {}).get(m)) for m in names}
        resolved = [m for m in names if s[m] is not None and s[m] > 1]
        out[axis] = max(resolved, key=lambda m: s[m]) if resolved else names[0]
    return out


def margin_value(margin: float | str, reference: float | None) -> float | None:
    """The margin in the metric's units (a percentage of Retrain's value; None when that value is missing)."""
    if isinstance(margin, str):
        return None if reference is None else abs(reference) * float(margin[:-1]) / 100
    return float(margin)


def cell(rec: dict | None, margin: float | None) -> str:
    """The verdict of one metric record (with ``diff_lo``/``diff_hi``) at ``margin``."""
    if not rec or rec.get("diff_lo") is None or rec.get("diff_hi") is None or margin is None:
        return UNRESOLVED
    lo, hi = rec["diff_lo"], rec["diff_hi"]
    if -margin <= lo and hi <= margin:
        return APPROX
    if lo > 0:
        return PLUS
    if hi < 0:
        return MINUS
    return UNRESOLVED


def verdicts(records: dict[str, dict], axes: dict[str, str], margins: dict, reference: str = "retrain") -> dict:
    """Per model other than the reference: per axis {metric, verdict (or the cost ratio), diff, diff_lo, diff_hi,
    margin}. An axis with candidate metrics reads the one :func:`resolve` picks."""
    axes, out = resolve(axes, records), {}
    for m, rec in records.items():
        if m == reference:
            continue
        row = {}
        for axis, metric in axes.items():
            r = rec.get(metric)
            if axis == COST:
                row[axis] = {"metric": metric, "value": r.get("value") if r else None}
                continue
            ref = records.get(reference, {}).get(metric) or {}
            mv = margin_value(margins[metric], ref.get("value"))
            row[axis] = {"metric": metric, "verdict": cell(r, mv), "margin": mv,
                         **{k: (r or {}).get(k) for k in ("diff", "diff_lo", "diff_hi")}}
        out[m] = row
    return out


def table(v: dict, axes: dict[str, str]) -> str:
    head = "| model | " + " | ".join(f"{a} ({m})" for a, m in axes.items()) + " |"
    lines = [head, "|" + "---|" * (len(axes) + 1)]
    for m, row in v.items():
        cells = [f"x{fmt(c['value'])}" if a == COST and c.get("value") is not None else c.get("verdict", "-")
                 for a, c in row.items()]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def legend(axes: dict[str, str], margins: dict, task_axes: dict | None = None) -> str:
    """The verdict table's legend; ``task_axes`` (the task's axes before :func:`resolve`) adds which candidate an
    axis with several reads and why."""
    parts = [f"{m} {margins[m]}" if isinstance(margins[m], str) and margins[m].endswith("%") else f"{m} ±{margins[m]}"
             for a, m in axes.items() if a != COST]
    choice = "".join(
        f" The {a} axis reads the strongest of {', '.join(candidates(c))} that tells the Original from Retrain (the "
        f"paired difference's interval excludes 0; strongest: largest |diff| / half-width), else the first: here "
        f"{axes[a]}." for a, c in (task_axes or {}).items() if len(candidates(c)) > 1)
    return (f"A cell compares the 95 % interval of the paired difference model - Retrain with the equivalence margin "
            f"(verdict.margins; a percentage is of Retrain's value): **{APPROX}** when the interval lies inside "
            f"±margin, **{PLUS}** / **{MINUS}** when it excludes 0 above / below Retrain, **{UNRESOLVED}** otherwise "
            f"(more runs or samples would narrow it). Margins: {', '.join(parts)}. The Original's row says whether "
            "an axis can tell a model that never forgot from Retrain at all; cost: images through forward and "
            "backward passes / Retrain's." + choice)
