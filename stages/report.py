"""Stage report: one task's models side by side -> summary.json, intervals.json, table.md, figures.

    python -m stages.report --task ltd

Merges ``reports/<task>/evaluation.json`` (stage evaluate) with ``reports/<task>/xai/<explainer>.json`` (stage
explain_report; the first explainer's metrics keep their plain names, e.g. h-HC, the others get the explainer's
suffix). Writes:

- ``headline.json`` (the DVC metrics, what ``dvc exp show`` / ``dvc metrics diff`` compare at a glance): per method
  the number of verdict axes at ``≈ Retrain`` and at ``differs``, and Retrain's value on each axis' metric;
- ``summary.json``: one plain number per (model, metric), the mean over repeats;
- ``intervals.json``: ``{model: {metric: {"lo": x, "hi": y}}}``, the 95 % interval of every number of summary.json;
- ``paired.json``: ``{metric: {"a - b": [d, lo, hi]}}``, the paired difference of every two models (same runs and
  samples), what every "a vs b" statement reads (the sweeps, the multi-agent table);
- ``verdicts.json``: per model and axis of the task (``Task.VERDICT_AXES``), ``≈ Retrain``, ``differs (+/-)`` or
  ``unresolved`` at the margins ``verdict.margins`` (:mod:`stages.metrics.verdict`), also the table's first section;
- ``table.md``: ``value [lo, hi]`` (3 significant digits), a generated reading that names a method closest to
  Retrain on a metric only when the paired difference of its distance |metric - Retrain's| and every other
  method's excludes 0 (otherwise it names the tie), a legend of every metric, and the published table;
- ``timings/summary.md`` (not a DVC output, like the timing files it reads): wall time measured on this machine,
  which varies from run to run and so is never a metric.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
import pandas as pd  # noqa: E402

from stages import methods, tasks, xai  # noqa: E402
from stages.core import paths  # noqa: E402
from stages.core.io import read_json, save_figure, write_json, write_text  # noqa: E402
from stages.core.stage import Stage  # noqa: E402
from stages.metrics import bootstrap, cost, families, published, verdict  # noqa: E402
from stages.metrics.bootstrap import fmt, fmt_interval  # noqa: E402

LEGEND = {  # metrics every task has; the task's metric family adds its own (families.Family.LEGEND)
    "probe": "linear probe on the frozen penultimate features of held-out data predicting the forgotten concept "
             "(R^2 of a count, or balanced accuracy of group membership); Retrain's = the floor a model that never "
             "learned it reaches; ideal: Retrain's",
    "AS": "attention shift vs Original's heatmaps (std of the difference of sum-1 maps); ideal: Retrain's",
    "cost_steps_vs_retrain": "optimizer steps / Retrain's (deterministic); lower = cheaper",
    "cost_images_vs_retrain": "images processed / Retrain's (deterministic); lower = cheaper",
}
HC_LEGEND = "share of the heatmap inside the boxes of {classes}; ideal: Retrain's"
COUNTS = ("heatmaps", "degenerate_heatmaps")


UNIFORM = "uniform"  # explain_report's baseline heatmap (even over the frame): a table row, not a model


def load_records(task, params: dict, root=".") -> dict[str, dict[str, dict]]:
    """Per model and metric: {value, lo, hi, runs, gap, gap_lo, gap_hi} from evaluate and every explainer; the
    explainers' uniform-heatmap baseline under ``uniform`` (heatmap metrics only)."""
    f = paths.evaluation(task.name, root)
    if not f.exists():
        raise FileNotFoundError(f"{f} is missing: run `dvc repro evaluate@{task.name}` first")
    ev = read_json(f)["models"]
    rows = {}
    for m in methods.task_models(params, task):
        if m not in ev:
            raise ValueError(f"{f}: no model {m!r}; rerun stage evaluate@{task.name}")
        rows[m] = dict(ev[m])
    for name in xai.names(params, task.EXPLAINERS):
        x = read_json(paths.xai_metrics(task.name, name, root))
        suffix = xai.metric_suffix(params, name, task.EXPLAINERS)
        for m, r in x["models"].items():
            if m in rows or m == UNIFORM:
                rows.setdefault(m, {}).update({f"{k}{suffix}": v for k, v in r.items() if k not in COUNTS})
    return rows


def load_pairs(task, params: dict, root=".") -> dict[str, dict[str, list]]:
    """The paired differences of every two models from evaluate and every explainer (metric names as the table's)."""
    out = dict(read_json(paths.evaluation(task.name, root)).get("paired", {}))
    for name in xai.names(params, task.EXPLAINERS):
        suffix = xai.metric_suffix(params, name, task.EXPLAINERS)
        for k, v in read_json(paths.xai_metrics(task.name, name, root)).get("paired", {}).items():
            out[f"{k}{suffix}"] = v
    return out


def headline(verdicts: dict, records: dict, axes: dict[str, str]) -> dict:
    """The DVC metrics of a task: per method, axes at ``≈ Retrain`` and axes that differ; Retrain's axis values."""
    out = {m: {"approx_retrain": sum(c.get("verdict") == verdict.APPROX for c in row.values()),
               "differs": sum(str(c.get("verdict", "")).startswith("differs") for c in row.values())}
           for m, row in verdicts.items()}
    out["retrain"] = {metric: (records["retrain"].get(metric) or {}).get("value")
                      for axis, metric in axes.items() if axis != verdict.COST}
    return out


def columns(task, params: dict) -> list[str]:
    cols = list(task.REPORT_COLUMNS)
    heat = ["AS", *task.coverage_classes(), *(f"{c}_lift" for c in task.coverage_classes())]
    for name in xai.names(params, task.EXPLAINERS)[1:]:  # the first explainer's are in REPORT_COLUMNS
        cols += [f"{c}{xai.metric_suffix(params, name, task.EXPLAINERS)}" for c in heat]
    return cols


def legend(task, params: dict, cols: list[str]) -> dict[str, str]:
    out = {**families.get(task.EVALUATION).LEGEND, **LEGEND}
    for key, classes in task.coverage_classes().items():
        out[key] = HC_LEGEND.format(classes=", ".join(classes))
        out[f"{key}_lift"] = (f"{key} / share of the frame the boxes cover (per image); 1 = no preference for the "
                              "boxes (the uniform heatmap row); ideal: Retrain's")
    for name in xai.names(params, task.EXPLAINERS)[1:]:
        sfx = xai.metric_suffix(params, name, task.EXPLAINERS)
        heat = ("AS", *task.coverage_classes(), *(f"{c}_lift" for c in task.coverage_classes()))
        out.update({f"{k}{sfx}": f"{v} ({name})" for k, v in out.items() if k in heat})
    return {c: out[c] for c in cols if c in out}


def closest_to_retrain(records: dict[str, dict], metric: str) -> dict | None:
    """Which methods are closest to Retrain on ``metric``, compared in pairs (``gap_vs_best`` of
    :func:`stages.metrics.bootstrap.records`: the paired difference of a method's |metric - Retrain's| and the
    closest method's, over the same runs and samples).

    Returns {"best": [methods], "separated": bool, "ranked": [(method, gap, lo, hi)]}: ``best`` is one method when
    every other method's paired difference to it excludes 0; otherwise the closest and every method tied with it."""
    ranked = [(m, r[metric]["gap"], r[metric]["gap_lo"], r[metric]["gap_hi"]) for m, r in records.items()
              if m not in paths.REFERENCE_MODELS and r.get(metric) and r[metric].get("gap") is not None]
    if not ranked:
        return None
    vs = {m: records[m][metric].get("gap_vs_best") for m, *_ in ranked}
    lead = next((v[0] for v in vs.values() if v), None)
    if lead is None or lead not in vs:
        return None
    ranked.sort(key=lambda t: (t[0] != lead, vs[t[0]][1] if vs[t[0]] else 0.0))
    tied = [m for m, *_ in ranked if m == lead or (vs[m] and vs[m][2] is not None and vs[m][2] <= 0)]
    return {"best": tied, "separated": len(tied) == 1, "ranked": ranked, "vs": vs}


def differs(rec: dict) -> bool:
    """The paired difference to Retrain excludes 0 (``diff_lo``/``diff_hi`` of :func:`stages.metrics.bootstrap.records`)."""
    lo, hi = rec.get("diff_lo"), rec.get("diff_hi")
    return lo is not None and hi is not None and (lo > 0 or hi < 0)


def diff_text(rec: dict) -> str:
    return fmt_interval(rec.get("diff"), rec.get("diff_lo"), rec.get("diff_hi")) if rec.get("diff") is not None else "-"


def reading(task, records: dict[str, dict], cols: list[str]) -> list[str]:
    lines = []
    for c in cols:
        if c.startswith("cost") or records["retrain"].get(c) is None:
            continue
        res = closest_to_retrain(records, c)
        if res is None:
            continue
        ref, orig = records["retrain"][c], records["original"].get(c)
        head = f"- **{c}** (Retrain {fmt_interval(ref['value'], ref['lo'], ref['hi'])}"
        head += f", Original {fmt_interval(orig['value'], orig['lo'], orig['hi'])})" if orig else ")"
        if res["separated"]:
            m, gap, lo, hi = res["ranked"][0]
            if len(res["ranked"]) > 1:
                up = res["ranked"][1][0]
                lines.append(f"{head}: closest to Retrain is **{m}**, |diff| {fmt_interval(gap, lo, hi)}; the runner-up "
                             f"{up} is farther by {fmt_interval(*res['vs'][up][1:])} (paired).")
            else:
                lines.append(f"{head}: only {m}.")
        else:
            lines.append(f"{head}: no single method is closest; the paired differences of |diff| tie "
                         f"{', '.join(res['best'])} (smallest: {res['ranked'][0][0]}, "
                         f"|diff| {fmt_interval(*res['ranked'][0][1:])}).")
    if "MIA" in records["retrain"]:
        r, o = records["retrain"]["MIA"], records["original"]["MIA"]
        sep = differs(o)
        lines.append(f"- MIA: Retrain {fmt_interval(r['value'], r['lo'], r['hi'])} (0.5 = members and non-members "
                     f"indistinguishable); Original {fmt_interval(o['value'], o['lo'], o['hi'])}; paired difference "
                     f"Original - Retrain {diff_text(o)}: "
                     + ("the attack tells them apart." if sep else "the interval holds 0: the attack does not tell "
                        "them apart on this data."))
    if "MIA" in records["retrain"] and "MIA_vs_all_test" in records["retrain"]:
        r, n = records["retrain"]["MIA"], records["retrain"]["MIA_vs_all_test"]
        if not bootstrap.separated((r["lo"], r["hi"]), (n["lo"], n["hi"])):
            lines.append(f"- MIA_vs_all_test: Retrain {fmt_interval(n['value'], n['lo'], n['hi'])}, within the "
                         "interval of its same-kind MIA: the naive attack finds no more than membership here.")
        else:
            lines.append(f"- MIA_vs_all_test: Retrain, which never trained on the forget set, scores "
                         f"{fmt_interval(n['value'], n['lo'], n['hi'])} against the whole test split but "
                         f"{fmt_interval(r['value'], r['lo'], r['hi'])} against held-out samples of the forget set's kind: "
                         "the naive attack detects the kind (its class or group, whose losses differ), not membership "
                         "(seed 004). Read MIA, not MIA_vs_all_test, as the membership test.")
    unl = {m: r for m, r in records.items() if m not in paths.REFERENCE_MODELS}
    steps = [r["cost_steps_vs_retrain"]["value"] for r in unl.values() if r.get("cost_steps_vs_retrain")]
    if steps:
        lines.append(f"- Cost: every unlearning method took at most {fmt(max(steps))} x Retrain's optimizer steps "
                     "(cost_steps_vs_retrain, deterministic). Wall time is measured, not a metric: "
                     "timings/summary.md.")
    return lines


def summary_and_intervals(records: dict[str, dict]) -> tuple[dict, dict]:
    summary = {m: {k: v["value"] for k, v in r.items() if isinstance(v, dict) and v.get("value") is not None}
               for m, r in records.items()}
    intervals = {m: {k: {"lo": v["lo"], "hi": v["hi"]} for k, v in r.items()
                     if isinstance(v, dict) and v.get("value") is not None}
                 for m, r in records.items()}
    return summary, intervals


def table(records: dict[str, dict], cols: list[str]) -> str:
    lines = ["| model | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for m, r in records.items():
        cells = [fmt_interval(r[c]["value"], r[c]["lo"], r[c]["hi"]) if r.get(c) else "-" for c in cols]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def timing_of(task, model: str, root=".") -> dict | None:
    f = paths.timing(task.original_owner if model == "original" else task.name, model, root)
    return read_json(f) if f.exists() else None


def timings_table(task, models: list[str], root=".") -> str:
    """Wall time measured on this machine (all repeats), and as a fraction of Retrain's."""
    ref = timing_of(task, "retrain", root)
    lines = [f"# {task.name}: measured wall time", "",
             "Measured by the training stages on the machine that ran them (files `timings/<model>.json`, not DVC "
             "outputs: they vary from run to run). The deterministic cost is in table.md (cost_steps_vs_retrain, "
             "cost_images_vs_retrain).", "", "| model | wall time (s) | images/s | vs Retrain | device | host |",
             "|---|---|---|---|---|---|"]
    for m in models:
        t = timing_of(task, m, root)
        if t is None:
            lines.append(f"| {m} | - | - | - | - | - |")
            continue
        ratio = fmt(cost.time_ratio(t, ref)) if ref else "-"
        lines.append(f"| {m} | {fmt(t['wall_time_s'])} | {fmt(t['images_per_s'])} | {ratio} | {t['device']} | "
                     f"{t['host']} |")
    return "\n".join(lines) + "\n"


MODEL_COLORS = {"original": "tab:gray", "retrain": "tab:green"}  # every unlearning method: METHOD_COLOR
METHOD_COLOR = "tab:blue"


def bar_figure(records: dict[str, dict], cols, title: str = ""):
    """One panel per metric: every model's value (bar) with its 95 % interval (error bar); Retrain's interval shaded
    across the panel, so a bar ending inside the band is within Retrain's interval. A legend names the colours, the
    error bars and the band; ``title`` (the task) heads the figure."""
    fig, axes = plt.subplots(1, len(cols), figsize=(3.2 * len(cols), 4.2), dpi=100, squeeze=False,
                             layout="constrained")
    for ax, c in zip(axes.flat, cols):
        names = [m for m, r in records.items() if r.get(c) and r[c].get("value") is not None]
        vals = np.array([records[m][c]["value"] for m in names])
        lo = np.array([records[m][c]["lo"] if records[m][c]["lo"] is not None else v for m, v in zip(names, vals)])
        hi = np.array([records[m][c]["hi"] if records[m][c]["hi"] is not None else v for m, v in zip(names, vals)])
        colors = [MODEL_COLORS.get(m, METHOD_COLOR) for m in names]
        ax.bar(range(len(names)), vals, color=colors, yerr=[np.maximum(vals - lo, 0), np.maximum(hi - vals, 0)],
               capsize=2, error_kw={"lw": 0.8})
        if "retrain" in names:
            j = names.index("retrain")
            ax.axhspan(lo[j], hi[j], color=MODEL_COLORS["retrain"], alpha=0.15, lw=0)
        ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
        ax.set_title(c)
        ax.set_ylabel(c, fontsize=8)
        ax.set_xlabel("model", fontsize=8)
    handles = [Patch(color=MODEL_COLORS["original"], label="Original (trained on everything)"),
               Patch(color=MODEL_COLORS["retrain"], label="Retrain (from scratch without the forget set)"),
               Patch(color=METHOD_COLOR, label="unlearning method"),
               Line2D([], [], color="black", lw=0.8, marker="_", markersize=6, label="95 % interval"),
               Patch(color=MODEL_COLORS["retrain"], alpha=0.15, label="Retrain's 95 % interval (band)")]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8, frameon=False)
    fig.suptitle(f"{title}: metrics per model (mean over the training runs, 95 % interval); ideal: Retrain's"
                 if title else "metrics per model (mean over the training runs, 95 % interval); ideal: Retrain's",
                 fontsize=10)
    return fig


def hist_figure(task, models: list[str], root="."):
    """One panel per model: density histograms of the per-sample loss of the membership attack's two populations
    (repeat 0). The legend sits below the panels, clear of their ticks."""
    labels = families.get(task.EVALUATION).HIST_LABELS
    n = len(models)
    cols = min(4, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.5 * rows + 0.9), dpi=100, squeeze=False,
                             layout="constrained")
    for ax, m in zip(axes.flat, models):
        h = pd.read_csv(paths.loss_hist(task.name, m, root))
        w = np.diff(h["bin_center"]).mean() if len(h) > 1 else 1.0
        ax.bar(h["bin_center"], h["forget"], width=w, alpha=0.5, color="tab:blue", label=labels[0])
        ax.bar(h["bin_center"], h["test"], width=w, alpha=0.5, color="tab:orange", label=labels[1])
        ax.set_title(m, fontsize=9)
        ax.set_xlabel("per-sample loss", fontsize=7)
        ax.set_ylabel("density", fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="outside lower center", ncol=2, fontsize=8,
               frameon=False)
    fig.suptitle(f"{task.title()}: per-sample loss of the two membership populations, training run 1\n"
                 "more overlap = less membership signal (overlapping bars show brown)", fontsize=9)
    return fig


def explained_runs(task, params: dict, repeats: int, root=".") -> str:
    """A sentence for the table's header when the heatmap metrics come from fewer runs than the rest
    (``explain.repeats`` < ``repeats``): their intervals then span the explained runs and images only."""
    out = []
    for name in xai.names(params, task.EXPLAINERS):
        runs = read_json(paths.xai_metrics(task.name, name, root)).get("runs", repeats)
        if runs < repeats:
            out.append(f" Heatmap metrics of {name}: the first {runs} of the {repeats} runs are explained "
                       f"(explain.repeats), so their intervals span {'that run' if runs == 1 else 'those runs'} "
                       "and the explained images.")
    return "".join(out)


def main(argv=None):
    st = Stage("report", __doc__, argv, root=True, task=dict(required=True))
    task = tasks.get(st.args.task, st.params, st.root)
    margins = verdict.settings(st.params, [task.VERDICT_AXES])
    shown = load_records(task, st.params, st.root)
    records = {m: r for m, r in shown.items() if m != UNIFORM}
    cols = columns(task, st.params)
    summary, intervals = summary_and_intervals(records)
    out = paths.reports(task.name, st.root)
    write_json(out / "summary.json", summary)
    write_json(out / "intervals.json", intervals)
    write_json(out / "paired.json", load_pairs(task, st.params, st.root))
    axes = verdict.resolve(task.VERDICT_AXES, records)  # an axis with candidates: the strongest that resolves
    verdicts = verdict.verdicts(records, axes, margins)
    write_json(out / "verdicts.json", verdicts)
    write_json(out / "headline.json", headline(verdicts, records, axes))
    ev = read_json(paths.evaluation(task.name, st.root))
    text = "\n\n".join([
        f"# {task.title()}",
        f"Generated by `python -m stages.report`. Each cell: mean over {ev['repeats']} independent training runs "
        f"[95 % interval: run-to-run part by Student-t on {ev['repeats']} - 1 degrees of freedom plus the sampling "
        f"part from {ev['bootstrap']['bootstrap']} bootstrap draws of the evaluation samples, "
        f"{ev['bootstrap']['bootstrap_attack']} for the attacks; probe: "
        f"{ev['bootstrap']['probe_splits']} random halves of the {ev['probe']['samples']} held-out samples]"
        + (" (one run: no run-to-run variation measured, the intervals hold sampling only)" if ev["repeats"] == 1
           else "") + ". "
        "Per run values: evaluation.json and xai/." + explained_runs(task, st.params, ev["repeats"], st.root),
        "## Verdict", verdict.table(verdicts, axes), verdict.legend(axes, margins, task.VERDICT_AXES),
        "## Our results", table(shown, cols),
        f"Row {UNIFORM}: a heatmap spread evenly over the frame (the heatmap metrics' no-preference baseline).",
        "## Reading", "\n".join(reading(task, records, cols)),
        "## Legend", "\n".join(f"- **{k}**: {v}" for k, v in legend(task, st.params, cols).items()),
        *(["## Published", published.section(task)] if task.PUBLISHED else []),
    ]) + "\n"
    write_text(out / "table.md", text)
    write_text(paths.timing(task.name, "summary", st.root).with_suffix(".md"),
               timings_table(task, list(records), st.root))
    save_figure(paths.figures(task.name, st.root) / "metric_bars.png",
                bar_figure(records, task.BAR_COLUMNS, task.title()))
    save_figure(paths.figures(task.name, st.root) / "loss_hists.png", hist_figure(task, list(records), st.root))
    st.log.info("%s report: %d models", task.name, len(records))


if __name__ == "__main__":
    main()
