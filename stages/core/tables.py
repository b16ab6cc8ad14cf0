"""Markdown tables and number formatting shared by the report and the task plugins' published tables."""
from __future__ import annotations

import numpy as np


def fmt(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.3e}" if v != 0 and abs(v) < 1e-2 else f"{v:.4f}"
    return str(v)


def markdown_table(rows: dict[str, dict], cols) -> str:
    cols = list(cols)
    lines = ["| model | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    lines += [f"| {m} | " + " | ".join(fmt(r.get(c)) for c in cols) + " |" for m, r in rows.items()]
    return "\n".join(lines)
