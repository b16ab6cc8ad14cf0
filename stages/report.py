"""Stage report: one task's models side by side -> summary.json (DVC metrics), table.md, figures (DVC plots).

summary.json has one entry per model, so `dvc metrics diff` between two branches shows each model's change.
table.md puts our table next to the published one and a generated reading: which unlearning method is closest
to Retrain on each metric.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from stages.io import read_json, save_figure, setup_logging, write_json, write_text  # noqa: E402
from stages.metrics import published  # noqa: E402
from stages.models import tasks  # noqa: E402

ORDER = ("original", "retrain", "finetune", "prune", "reinit", "confuse", "random_labels", "anchored")
COLUMNS = {
    "ltd": ["MAE", "RMSE", "r-HC", "h-HC", "AS", "MIA", "cost_time_vs_retrain", "cost_steps_vs_retrain"],
    "utk": ["MAE", "MAE_forget", "Utility", "Forgetting", "F", "MIA", "AS", "cost_time_vs_retrain",
            "cost_steps_vs_retrain"],
}
# wall-time figures vary from run to run: shown in table.md, kept out of summary.json (the DVC metrics), so that
# two runs of the same params on the same machine give an identical summary.json
TIMING = ("cost_time_vs_retrain",)
BARS = {"ltd": ["MAE", "h-HC", "r-HC", "MIA"], "utk": ["MAE", "F", "Forgetting", "MIA"]}

log = setup_logging("report")


def load_metrics(task: str, root=".") -> dict[str, dict]:
    d = Path(root) / "reports" / task / "metrics"
    found = {p.stem: read_json(p) for p in d.glob("*.json")}
    return {m: found[m] for m in [*ORDER, *sorted(set(found) - set(ORDER))] if m in found}


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.3e}" if v != 0 and abs(v) < 1e-2 else f"{v:.4f}"
    return str(v)


def markdown_table(rows: dict[str, dict], cols: list[str]) -> str:
    lines = ["| model | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    lines += [f"| {m} | " + " | ".join(_fmt(r.get(c)) for c in cols) + " |" for m, r in rows.items()]
    return "\n".join(lines)


def closest_to_retrain(metrics: dict[str, dict], cols: list[str]) -> dict[str, tuple[str, float]]:
    """For each metric, the unlearning method whose value is closest to Retrain's (absolute difference)."""
    ref = metrics.get("retrain", {})
    out = {}
    for c in cols:
        if ref.get(c) is None or c.startswith("cost"):
            continue
        cands = {m: abs(r[c] - ref[c]) for m, r in metrics.items()
                 if m not in ("original", "retrain") and r.get(c) is not None}
        if cands:
            best = min(cands, key=cands.get)
            out[c] = (best, cands[best])
    return out


def reading(task: str, metrics: dict[str, dict], cols: list[str]) -> list[str]:
    lines = []
    for c, (m, d) in closest_to_retrain(metrics, cols).items():
        orig = metrics.get("original", {}).get(c)
        lines.append(f"- **{c}**: closest to Retrain ({_fmt(metrics['retrain'][c])}) is **{m}** "
                     f"({_fmt(metrics[m][c])}, |diff| {_fmt(d)}); Original {_fmt(orig)}.")
    unl = {m: r for m, r in metrics.items() if m not in ("original", "retrain")}
    if unl:
        worst = max(r.get("cost_time_vs_retrain", 0) for r in unl.values())
        lines.append(f"- Cost: every unlearning method took at most {worst:.2f} x Retrain's wall time.")
    if task == "ltd" and "original" in metrics and "h-HC" in metrics["original"]:
        below = [m for m, r in unl.items() if r.get("h-HC") is not None and r["h-HC"] < metrics["original"]["h-HC"]]
        lines.append(f"- h-HC below Original's for {len(below)}/{len(unl)} methods: {', '.join(below) or 'none'}.")
    if "retrain" in metrics:
        lines.append(f"- MIA of Retrain: {_fmt(metrics['retrain'].get('MIA'))} (0.5 = forget set indistinguishable).")
    return lines


def published_section(task: str, forget_interval) -> str:
    if task == "ltd":
        return ("Seed 000, Table 1 (ResNet-50-D, 288x384, real LTD):\n\n"
                + markdown_table(published.LTD_TABLE1, ["MAE", "RMSE", "r-HC", "h-HC", "AS"]))
    key = tuple(forget_interval) if forget_interval else None
    text = ("Seed 001 (thesis), forget ages 20-28, as summarised in REFERENCE section 6:\n\n"
            + markdown_table(published.UTK_THESIS, ["MAE", "F"]))
    if key in published.UTK_THESIS_TABLE8:
        text += (f"\n\nSeed 001, Table 8, forget group {key[0]}-{key[1]}:\n\n"
                 + markdown_table(published.UTK_THESIS_TABLE8[key], ["Utility", "Forgetting", "F"]))
    return text


def bar_figure(metrics: dict[str, dict], cols: list[str]):
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


def hist_figure(task: str, models: list[str], root="."):
    n = len(models)
    cols = min(4, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.4 * rows), dpi=100, squeeze=False)
    for ax, m in zip(axes.flat, models):
        h = pd.read_csv(Path(root) / "reports" / task / "loss_hist" / f"{m}.csv")
        w = np.diff(h["bin_center"]).mean() if len(h) > 1 else 1.0
        ax.bar(h["bin_center"], h["forget"], width=w, alpha=0.5, label="forget-like")
        ax.bar(h["bin_center"], h["test"], width=w, alpha=0.5, label="test")
        ax.set_title(m, fontsize=9)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("per-sample loss: forget-like vs test (more overlap = less membership signal)", fontsize=9)
    fig.tight_layout()
    return fig


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--task", choices=tasks.TASKS, required=True)
    args = p.parse_args(argv)
    task = args.task
    metrics = load_metrics(task)
    if "retrain" not in metrics:
        raise FileNotFoundError(f"reports/{task}/metrics/retrain.json is missing: evaluate Retrain first")
    cols = COLUMNS[task]
    table = {m: {c: r.get(c) for c in cols if r.get(c) is not None} for m, r in metrics.items()}
    summary = {m: {c: v for c, v in r.items() if c not in TIMING} for m, r in table.items()}
    write_json(f"reports/{task}/summary.json", summary)
    interval = None
    if task == "utk":
        interval = read_json("data/prepared/utk/meta.json").get("forget_interval")
    title = {"ltd": "LTD thermal counting, unlearn humans (y' = y - humans)",
             "utk": f"UTKFace age regression, forget ages {interval}"}[task]
    text = "\n\n".join([
        f"# {title}", "Generated by `python -m stages.report`; metrics per model in `metrics/`.",
        "## Our results", markdown_table(table, cols),
        "## Reading", "\n".join(reading(task, metrics, cols)),
        "## Published", published_section(task, interval),
    ]) + "\n"
    write_text(f"reports/{task}/table.md", text)
    save_figure(f"reports/{task}/figures/metric_bars.png", bar_figure(metrics, BARS[task]))
    save_figure(f"reports/{task}/figures/loss_hists.png", hist_figure(task, list(metrics)))
    log.info("%s report: %d models", task, len(metrics))


if __name__ == "__main__":
    main()
