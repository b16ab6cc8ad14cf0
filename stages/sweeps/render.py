"""Rendering a sweep's rows: ``table.md`` (one table per metric, the published numbers beside ours, the reading),
``results.csv`` and ``figure.png``."""
from __future__ import annotations

from pathlib import Path

from stages.core.io import save_figure, write_csv, write_text
from stages.core.tables import fmt, fmt_interval
from stages.sweeps.catalog import Sweep, exp_name
from stages.sweeps.reading import cell, reading

RESULT_COLUMNS = ["sweep", "setting", "model", "metric", "value", "lo", "hi", "published", "experiment"]


def write_reports(name: str, sw: Sweep, rows: list[dict], problems: dict, out: Path,
                  paired: dict | None = None) -> None:
    """table.md, results.csv and figure.png of the rows into ``out``."""
    import pandas as pd

    write_text(out / "table.md", table_md(name, sw, rows, problems, paired))
    write_csv(out / "results.csv", pd.DataFrame(rows, columns=RESULT_COLUMNS))
    save_figure(out / "figure.png", figure(name, sw, rows))


def table_md(name: str, sw: Sweep, rows: list[dict], problems: dict[str, str], paired: dict | None = None) -> str:
    """table.md: per metric a table of value [interval] per model and value, the reading, what was not collected."""
    keys = ", ".join(f"`{k}`" for k in sw.settings[0])
    out = [f"# Sweep `{name}`: {sw.doc}", "",
           f"Task `{sw.task}`, swept {keys}: one DVC experiment per value (`{exp_name(name, sw.values[0])}`, ...). "
           f"Each cell: the experiment's value, the mean over its `repeats` training runs, and [95 % interval] (the "
           f"interval over runs and samples), from `reports/{sw.task}/summary.json` and `intervals.json`. "
           "`published`: the paper's number at that setting ('-': none published)."]
    for metric in sw.metrics:
        pub = [m for m in sw.models if any(r["published"] is not None for r in rows
                                            if (r["model"], r["metric"]) == (m, metric))]
        head = [sw.label] + [c for m in sw.models for c in ([m, "published"] if m in pub else [m])]
        out += ["", f"## {metric}", "", "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        for v in sw.values:
            cells = [str(v)]
            for m in sw.models:
                c = cell(rows, v, m, metric)
                cells.append(fmt_interval(c["value"], c["lo"], c["hi"]) if c else "-")
                if m in pub:
                    cells.append(fmt(c["published"]) if c else "-")
            out.append("| " + " | ".join(cells) + " |")
    out += ["", "## Reading", "", *reading(sw, rows, paired)]
    if problems:
        out += ["", "## Not collected", "", *(f"- `{e}`: {p}" for e, p in problems.items())]
    return "\n".join(out) + "\n"


def figure(name: str, sw: Sweep, rows: list[dict]):
    """One panel per metric: each model's value with its interval against the swept value, the published dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(sw.metrics), figsize=(max(6.0, 4.2 * len(sw.metrics)), 3.6), squeeze=False)
    for ax, metric in zip(axes[0], sw.metrics):
        for i, model in enumerate(sw.models):
            cells = [c for v in sw.values if (c := cell(rows, v, model, metric)) and c["value"] is not None]
            xs, ys = [c["setting"] for c in cells], [c["value"] for c in cells]
            err = [[y - (c["lo"] if c["lo"] is not None else y) for y, c in zip(ys, cells)],
                   [(c["hi"] if c["hi"] is not None else y) - y for y, c in zip(ys, cells)]]
            ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, color=f"C{i}", label=model)
            pub = [(c["setting"], c["published"]) for c in cells if c["published"] is not None]
            if pub:
                ax.plot(*zip(*pub), ls="--", marker="x", color=f"C{i}", label=f"{model} (published)")
        ax.set(title=metric, xlabel=sw.label)
        if sw.logx:
            ax.set_xscale("log", base=2)
        ax.set_xticks(sw.values, [str(v) for v in sw.values])
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"{sw.task}: sweep {name}" + (f" ({sw.label})" if sw.label != name else "")
                 + "; bars: 95 % intervals, dashed: published")
    fig.tight_layout()
    return fig
