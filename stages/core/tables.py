"""Markdown tables and number formatting shared by the report and the task plugins' published tables."""
from __future__ import annotations

import numpy as np


def fmt(v) -> str:
    """A number with 3 significant digits (never fixed decimals): 0.5 -> 0.500, 12.345 -> 12.3, 0.000437 -> 4.37e-04."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    v = float(v)
    if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e4):
        return f"{v:.2e}"
    if abs(v) >= 1000:
        return f"{v:.0f}"  # 3 significant digits would need an exponent; keep the integer part
    return f"{v:#.3g}".rstrip(".")


def fmt_interval(v, lo, hi) -> str:
    """``value [lo, hi]`` with 3 significant digits each."""
    if lo is None or hi is None:
        return fmt(v)
    return f"{fmt(v)} [{fmt(lo)}, {fmt(hi)}]"


def markdown_table(rows: dict[str, dict], cols) -> str:
    cols = list(cols)
    lines = ["| model | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    lines += [f"| {m} | " + " | ".join(fmt(r.get(c)) for c in cols) + " |" for m, r in rows.items()]
    return "\n".join(lines)
