"""Reading a sweep: the models in order per value and the paper's claimed order judged on the paired intervals."""
from __future__ import annotations

from stages.core.tables import fmt
from stages.metrics.bootstrap import pair, separated
from stages.sweeps.catalog import Sweep


def cell(rows, v, model, metric) -> dict | None:
    """The row of value ``v``, ``model`` and ``metric``; None where the sweep has none."""
    return next((r for r in rows if (r["setting"], r["model"], r["metric"]) == (v, model, metric)), None)


def apart(a: dict, b: dict, pairs: dict | None) -> bool:
    """Are cells a and b (two models of one experiment, one metric) told apart? By the interval of their paired
    difference when the experiment's ``paired.json`` has it (same runs and samples), else by disjoint intervals."""
    d = pair(pairs or {}, a["metric"], a["model"], b["model"])
    if d is not None and None not in d:
        return d[1] > 0 or d[2] < 0
    return None not in (a["lo"], b["lo"]) and separated((a["lo"], a["hi"]), (b["lo"], b["hi"]))


def order(cells: list[dict], pairs: dict | None = None) -> str:
    """Models by value, highest first: '>' where the paired difference excludes 0, '≈' where it does not."""
    cells = sorted((c for c in cells if c["value"] is not None), key=lambda c: -c["value"])
    text = ""
    for prev, c in zip([None, *cells], cells):
        if prev is not None:
            text += " > " if apart(prev, c, pairs) else " ≈ "
        text += f"{c['model']} {fmt(c['value'])}"
    return text


def verdict(a: dict, b: dict, pairs: dict | None = None) -> str:
    """'holds' when a lies above b (paired difference above 0), 'reversed' when below, else 'overlap'."""
    if None in (a["value"], b["value"]) or not apart(a, b, pairs):
        return "overlap"
    return "holds" if a["value"] > b["value"] else "reversed"


def reading(sw: Sweep, rows: list[dict], paired: dict | None = None) -> list[str]:
    """The order of the models per setting, and the paper's claim checked; ``paired``: experiment -> its
    ``paired.json`` (the paired differences every comparison reads)."""
    metric, expected = sw.claim or (sw.metrics[0], None)
    lines, tally = [], {"holds": [], "contradicted": [], "unresolved": []}
    for v in dict.fromkeys(r["setting"] for r in rows):
        cells = [c for m in sw.models if (c := cell(rows, v, m, metric))]
        pp = (paired or {}).get(cells[0].get("experiment")) if cells else None
        line = f"- {sw.label} {v}: {metric} {order(cells, pp)}"
        if expected:
            by = {c["model"]: c for c in cells}
            pairs = [(a, b, verdict(by[a], by[b], pp)) for a, b in zip(expected, expected[1:])]
            if all(p[2] == "holds" for p in pairs):
                tally["holds"].append(v)
            elif any(p[2] == "reversed" for p in pairs):
                tally["contradicted"].append(v)
                line += "; contradicts the paper: " + ", ".join(f"{b} > {a}" for a, b, x in pairs if x == "reversed")
            else:
                tally["unresolved"].append(v)
                line += "; not told apart: " + ", ".join(f"{a} vs {b}" for a, b, x in pairs if x == "overlap")
        lines.append(line)
    if expected:
        claim = f"The paper's order {' > '.join(expected)} on {metric}"
        lines.append(f"\n{claim}, judged on the intervals: holds at {len(tally['holds'])} of "
                     f"{sum(map(len, tally.values()))} values" + "".join(
                         f"; {k} at {', '.join(map(str, vs))}" for k, vs in tally.items() if vs and k != "holds")
                     + ". A model is named above another only when the interval of their paired difference (same runs and "
                     "samples) excludes 0.")
    return lines
