"""Stage report: one task's models side by side -> summary.json (DVC metrics), table.md, figures (DVC plots).

    python -m stages.report --task ltd

Merges ``reports/<task>/metrics/<model>.json`` (stage evaluate) with ``reports/<task>/xai/<explainer>.json``
(stage explain_report; the first explainer's metrics keep their plain names, e.g. h-HC, the others get the
explainer's suffix). summary.json has one entry per model, so `dvc metrics diff` between two branches shows each
model's change. table.md puts our table next to the published one and a generated reading: which unlearning
method is closest to Retrain on each metric.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from stages import methods, tasks, xai  # noqa: E402
from stages.core import paths
from stages.metrics import cost, published  # noqa: E402
from stages.core.io import read_json, save_figure, write_json, write_text  # noqa: E402
from stages.core.stage import Stage  # noqa: E402
from stages.core.tables import fmt, markdown_table  # noqa: E402

# wall-time figures vary from run to run: shown in table.md, kept out of summary.json (the DVC metrics), so that
# two runs of the same params on the same machine give an identical summary.json
TIMING = ("cost_time_vs_retrain",)


def model_order(params: dict) -> list[str]:
    return [*paths.REFERENCE_MODELS, *methods.names(params)]


def load_metrics(task, params: dict, root=".") -> dict[str, dict]:
    """Every model's metrics: evaluate's file merged with each explainer's heatmap metrics."""
    rows = {}
    for m in model_order(params):
        f = paths.metrics(task.name, m, root)
        if not f.exists():
            raise FileNotFoundError(f"{f} is missing: run `dvc repro evaluate` first")
        rows[m] = read_json(f)
    add_timings(task, rows, root)
    for name in xai.names(params):
        x = read_json(paths.xai_metrics(task.name, name, root))
        suffix = xai.metric_suffix(params, name)
        for m, r in x["models"].items():
            if m in rows:
                rows[m].update({f"{k}{suffix}": v for k, v in r.items() if k not in ("heatmaps", "degenerate_heatmaps")})
    return rows


def timing_of(task, model: str, root=".") -> dict | None:
    f = paths.timing(task.dataset if model == "original" else task.name, model, root)
    return read_json(f) if f.exists() else None


def add_timings(task, rows: dict[str, dict], root=".") -> None:
    """The measured wall time vs Retrain's (table.md only: it varies from run to run), where both were measured."""
    ref = timing_of(task, "retrain", root)
    for m, r in rows.items():
        t = timing_of(task, m, root)
        if t is not None and ref is not None:
            r["cost_time_vs_retrain"] = cost.time_ratio(t, ref)


def columns(task, params: dict) -> list[str]:
    cols = list(task.REPORT_COLUMNS)
    heat = ["AS", *task.coverage_classes()]
    for name in xai.names(params)[1:]:  # the first explainer's are in REPORT_COLUMNS
        cols += [f"{c}{xai.metric_suffix(params, name)}" for c in heat]
    return cols


def closest_to_retrain(metrics: dict[str, dict], cols: list[str]) -> dict[str, tuple[str, float]]:
    """For each metric, the unlearning method whose value is closest to Retrain's (absolute difference)."""
    ref = metrics.get("retrain", {})
    out = {}
    for c in cols:
        if ref.get(c) is None or c.startswith("cost"):
            continue
        cands = {m: abs(r[c] - ref[c]) for m, r in metrics.items()
                 if m not in paths.REFERENCE_MODELS and r.get(c) is not None}
        if cands:
            best = min(cands, key=cands.get)
            out[c] = (best, cands[best])
    return out


def reading(task, metrics: dict[str, dict], cols: list[str]) -> list[str]:
    lines = []
    for c, (m, d) in closest_to_retrain(metrics, cols).items():
        orig = metrics.get("original", {}).get(c)
        lines.append(f"- **{c}**: closest to Retrain ({fmt(metrics['retrain'][c])}) is **{m}** "
                     f"({fmt(metrics[m][c])}, |diff| {fmt(d)}); Original {fmt(orig)}.")
    unl = {m: r for m, r in metrics.items() if m not in paths.REFERENCE_MODELS}
    if unl:
        steps = max(r.get("cost_steps_vs_retrain", 0) for r in unl.values())
        lines.append(f"- Cost: every unlearning method took at most {steps:.2f} x Retrain's optimizer steps "
                     "(cost_steps_vs_retrain, deterministic)" + (
                         f" and {max(r['cost_time_vs_retrain'] for r in unl.values()):.2f} x its wall time "
                         "(cost_time_vs_retrain, measured on this run's machine, not in summary.json)"
                         if all("cost_time_vs_retrain" in r for r in unl.values()) else "") + ".")
    for key in task.coverage_classes():
        ref = metrics.get("original", {}).get(key)
        if ref is not None:
            below = [m for m, r in unl.items() if r.get(key) is not None and r[key] < ref]
            lines.append(f"- {key} below Original's for {len(below)}/{len(unl)} methods: {', '.join(below) or 'none'}.")
    lines.append(f"- MIA of Retrain: {fmt(metrics['retrain'].get('MIA'))} (0.5 = forget set indistinguishable).")
    return lines


def bar_figure(metrics: dict[str, dict], cols):
    fig, axes = plt.subplots(1, len(cols), figsize=(3.2 * len(cols), 3.2), dpi=100)
    for ax, c in zip(np.atleast_1d(axes), cols):
        names = [m for m, r in metrics.items() if r.get(c) is not None]
        vals = [metrics[m][c] for m in names]
        colors = ["tab:gray" if m == "original" else "tab:green" if m == "retrain" else "tab:blue" for m in names]
        ax.bar(range(len(names)), vals, color=colors)
        ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
        ax.set_title(c)
    fig.tight_layout()
    return fig


def hist_figure(task, models: list[str], root="."):
    n = len(models)
    cols = min(4, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.4 * rows), dpi=100, squeeze=False)
    for ax, m in zip(axes.flat, models):
        h = pd.read_csv(paths.loss_hist(task.name, m, root))
        w = np.diff(h["bin_center"]).mean() if len(h) > 1 else 1.0
        ax.bar(h["bin_center"], h["forget"], width=w, alpha=0.5, label=task.HIST_LABELS[0])
        ax.bar(h["bin_center"], h["test"], width=w, alpha=0.5, label=task.HIST_LABELS[1])
        ax.set_title(m, fontsize=9)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"{task.name}: per-sample loss of the two membership populations "
                 "(more overlap = less membership signal)", fontsize=9)
    fig.tight_layout()
    return fig


def main(argv=None):
    st = Stage("report", __doc__, argv, root=True, task=dict(required=True))
    task = tasks.get(st.args.task, st.params, st.root)
    metrics = load_metrics(task, st.params, st.root)
    cols = columns(task, st.params)
    table = {m: {c: r.get(c) for c in cols if r.get(c) is not None} for m, r in metrics.items()}
    summary = {m: {c: v for c, v in r.items() if c not in TIMING} for m, r in table.items()}
    out = paths.reports(task.name, st.root)
    write_json(out / "summary.json", summary)
    text = "\n\n".join([
        f"# {task.title()}", "Generated by `python -m stages.report`; metrics per model in `metrics/`.",
        "## Our results", markdown_table(table, cols),
        "## Reading", "\n".join(reading(task, metrics, cols)),
        *(["## Published", published.section(task)] if task.PUBLISHED else []),
    ]) + "\n"
    write_text(out / "table.md", text)
    save_figure(paths.figures(task.name, st.root) / "metric_bars.png", bar_figure(metrics, task.BAR_COLUMNS))
    save_figure(paths.figures(task.name, st.root) / "loss_hists.png", hist_figure(task, list(metrics), st.root))
    st.log.info("%s report: %d models", task.name, len(metrics))


if __name__ == "__main__":
    main()
