"""Stage agents_table: seed 003 Table 2's shape, the multi-agent systems of every task of ``tracks.agents`` side by
side (MASMU, MASIMU, MALMU, MALIMU: each method of ``agents.methods`` on GRU or LSTM agents), with their Original
and Retrain, and the published rows beside them.

    python -m stages.agents_table

Reads ``reports/<task>/summary.json`` and ``intervals.json`` of each agents task; writes ``reports/agents/table.md``.
Every number carries its 95 % interval. Timeliness is the deterministic cost (optimizer steps as a fraction of
Retrain's); the measured wall times are in ``reports/<task>/timings/summary.md`` (not a DVC output: they vary).
"""
from __future__ import annotations

from pathlib import Path

from stages import methods, tasks
from stages.core import paths
from stages.core.io import read_json, write_text
from stages.core.stage import Stage
from stages.core.tables import fmt_interval
from stages.metrics import published
from stages.metrics.bootstrap import pair

TRACK = "agents"
COLUMNS = ("MIA", "completeness", "TA", "FA", "cost_steps_vs_retrain")


def rows_of(task, models: list[str], root=".") -> tuple[list[tuple[str, str, dict, dict]], dict]:
    """(model, label, values, intervals) per model of the task: Original, Retrain, then each method under its
    system name; and the task's paired differences (``paired.json``)."""
    src = paths.reports(task.name, root)
    summary, intervals = read_json(src / "summary.json"), read_json(src / "intervals.json")
    pairs = read_json(src / "paired.json")
    rnn = task.cfg["rnn"].upper()
    out = []
    for m in models:
        if m not in summary:
            raise ValueError(f"{src / 'summary.json'}: no model {m!r}; rerun stage report@{task.name}")
        label = f"{task.system(m)} ({rnn}, {m})" if task.system(m) else f"{m} ({rnn} agents)"
        out.append((m, label, summary[m], intervals.get(m, {})))
    return out, pairs


def reading(rows, pairs: dict) -> list[str]:
    """Per system: the paired difference system - Retrain (the gold standard) on MIA and completeness, and whether
    its interval excludes 0."""
    lines = []
    for m, label, _, _ in rows:
        if m in paths.REFERENCE_MODELS:
            continue
        parts = []
        for c in ("MIA", "completeness"):
            d = pair(pairs, c, m, "retrain")
            if d and None not in d:
                word = "differs from" if d[1] > 0 or d[2] < 0 else "is not told apart from"
                parts.append(f"{c} {word} Retrain's (paired difference {fmt_interval(*d)})")
        lines.append(f"- {label}: " + "; ".join(parts) + ".")
    return lines


def table(task_rows: dict) -> str:
    lines = ["| system | " + " | ".join(COLUMNS) + " |", "|---|" + "---|" * len(COLUMNS)]
    for rows in task_rows.values():
        for _, label, v, iv in rows:
            cells = [fmt_interval(v.get(c), iv.get(c, {}).get("lo"), iv.get(c, {}).get("hi")) for c in COLUMNS]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    st = Stage("agents_table", __doc__, argv, root=True)
    task_rows, notes = {}, []
    for name in tasks.names(st.params, TRACK):
        task = tasks.get(name, st.params, st.root)
        rows, pairs = rows_of(task, methods.task_models(st.params, task), st.root)
        task_rows[name] = rows
        notes += reading(rows, pairs)
    text = "\n".join([
        "# Multi-agent unlearning (seed 003 Table 2's shape)", "",
        "Digits (scikit-learn's 8x8, upsampled to 28x28), a random 10 % of the training rows forgotten (the same rows "
        "for every system). Values with their 95 % interval (Student-t over training runs plus a bootstrap over samples). MIA: "
        "the membership attack, forget rows vs held-out rows (0.5 = cannot tell); completeness: share of test samples "
        "where the model predicts the Original's class (seed 003 eq. 17); cost_steps_vs_retrain: optimizer steps as a "
        "fraction of Retrain's (timeliness; measured wall times: reports/<task>/timings/summary.md).", "",
        table(task_rows), "", "Against Retrain:", "", *notes, "", published.seed003_table2(), ""])
    out = Path(st.root) / "reports" / "agents" / "table.md"
    write_text(out, text)
    st.log.info("wrote %s (%d tasks)", out, len(task_rows))


if __name__ == "__main__":
    main()
