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
            if axis != COST and metric not in margins:
                raise ParamError(f"verdict.margins.{metric}: missing (the {axis} axis reads {metric})")
    return margins


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
    margin}."""
    out = {}
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


def legend(axes: dict[str, str], margins: dict) -> str:
    parts = [f"{m} {margins[m]}" if isinstance(margins[m], str) and margins[m].endswith("%") else f"{m} ±{margins[m]}"
             for a, m in axes.items() if a != COST]
    return (f"A cell compares the 95 % interval of the paired difference model - Retrain with the equivalence margin "
            f"(verdict.margins; a percentage is of Retrain's value): **{APPROX}** when the interval lies inside "
            f"±margin, **{PLUS}** / **{MINUS}** when it excludes 0 above / below Retrain, **{UNRESOLVED}** otherwise "
            f"(more runs or samples would narrow it). Margins: {', '.join(parts)}. The Original's row says whether "
            "an axis can tell a model that never forgot from Retrain at all; cost: images through forward and "
            "backward passes / Retrain's.")
