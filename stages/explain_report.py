"""Stage explain_report: each explainer's heatmaps of every model of a task -> figures and heatmap metrics.

    python -m stages.explain_report --task ltd

For each explainer of the task's list (``explainers``, or the agents' ``agents.explainers``), reads
``data/xai/<task>/subset.*`` and ``data/xai/<task>/<explainer>/<model>.npy`` of Original, Retrain and every
method; writes ``reports/<task>/heatmaps/<explainer>_grid.png`` (rows = the first ``explain.n_figure`` images;
columns = input, then each model's overlay), ``<explainer>_diff.png`` (each model minus Original, heatmaps
normalised to sum 1; green = more attention, red = less) and ``reports/<task>/xai/<explainer>.json``: per model
the heatmap metrics of seed 000, AS (attention shift vs Original) and the task's coverage metrics (LTD: h-HC on
the forget class's boxes, r-HC on the others'), each the mean over repeats of the mean over explained images, with a
95 % interval from :mod:`stages.metrics.bootstrap` (Student-t over repeats plus a bootstrap over images; ``evaluate.bootstrap`` replicates) and the
paired interval of its distance to Retrain. For a signed explainer they use the positive part of the maps. The
figures show repeat 0.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from stages import methods, tasks, xai
from stages.core import config, paths
from stages.core.io import save_figure, write_json
from stages.core.seeds import derive_seed
from stages.metrics import bootstrap, coverage
from stages.core.stage import Stage
from stages.xai.figures import diff_grid, heatmap_grid

REFERENCE = "original"
UNIFORM = "uniform"  # a heatmap spread evenly over the frame: the no-preference row of the report


def per_image(maps: dict[str, np.ndarray], names: list[str], boxes: pd.DataFrame, classes: dict, signed: bool,
              log) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict]]:
    """Per model and metric, the (R, n) per-image values (NaN where undefined: no box of the classes, or a
    degenerate map, logged); AS is against Original's map of the same image and repeat. Also counts per model."""
    if signed:
        maps = {m: np.clip(h, 0, None) for m, h in maps.items()}  # evidence for the output only
    ref = maps[REFERENCE]
    R, n, hh, ww = ref.shape
    masks = {key: coverage.box_masks(boxes, n, hh, ww, cls) for key, cls in classes.items()}
    share = {key: m.mean(axis=(1, 2)) for key, m in masks.items()}  # share of the frame the boxes cover
    out, counts = {}, {}
    for model, h in maps.items():
        vals = {k: np.full((R, n), np.nan) for k in ("AS", *classes, *(f"{c}_lift" for c in classes))}
        bad = 0
        for r in range(R):
            ok = coverage.valid_maps(h[r]) & coverage.valid_maps(ref[r])
            for j in np.flatnonzero(~ok):
                log.warning("%s repeat %d: heatmap of explanation image %d (%s) or Original's is all zero or not "
                            "finite: excluded from HC/AS", model, r, j, names[j])
            bad += int((~ok).sum())
            if not ok.any():
                continue
            vals["AS"][r, ok] = coverage.attention_shift_per_image(h[r][ok], ref[r][ok])
            for key, m in masks.items():
                vals[key][r, ok] = coverage.heatmap_coverage_per_image(h[r][ok], m[ok])
                with np.errstate(invalid="ignore", divide="ignore"):
                    vals[f"{key}_lift"][r, ok] = vals[key][r, ok] / share[key][ok]  # 1 = no preference for the boxes
        out[model] = vals
        counts[model] = {"heatmaps": int(R * n), "degenerate_heatmaps": bad}
    return out, counts


def heatmap_metrics(maps: dict[str, np.ndarray], names: list[str], boxes: pd.DataFrame, classes: dict,
                    signed: bool, n_boot: int, seed: int, log) -> dict[str, dict]:
    """Per model (and the ``uniform`` baseline heatmap): counts and, per metric, value (mean over repeats of the
    mean over explained images) with its interval (Student-t over repeats plus a paired bootstrap over explained images)
    and the gap to Retrain. Per coverage metric also its lift: HC divided by the share of the frame the boxes cover
    (per image, then averaged; 1 = no preference for the boxes, the uniform heatmap's value)."""
    maps = {**maps, UNIFORM: np.ones_like(maps[REFERENCE])}  # the baseline: HC = box share, lift = 1
    vals, counts = per_image(maps, names, boxes, classes, signed, log)
    R, n = next(iter(vals.values()))["AS"].shape
    draws = bootstrap.draw({"images": n}, R, n_boot, seed)

    def stat(v):
        def f(r, idx):
            out = {}
            for k, a in v.items():
                x = a[r] if idx is None else a[r][idx["images"]]
                out[k] = float(np.nanmean(x)) if np.isfinite(x).any() else None
            return out
        return f

    values, runs, reps = {}, {}, {}
    for m, v in vals.items():
        values[m], runs[m] = bootstrap.point(stat(v), R)
        reps[m] = bootstrap.replicates(stat(v), draws)
    ranked = [m for m in maps if m not in (*paths.REFERENCE_MODELS, UNIFORM)]
    rec = bootstrap.records(values, runs, reps, skip=(UNIFORM,), rank=ranked)
    pairs = bootstrap.paired(runs, reps, [m for m in maps if m != UNIFORM])
    return {m: {**counts[m], **rec[m]} for m in maps}, pairs


def main(argv=None):
    st = Stage("explain_report", __doc__, argv, root=True, task=dict(required=True))
    task = tasks.get(st.args.task, st.params, st.root)
    cfg = st.section("explain", xai.explain_schema(st.params))
    n_boot = bootstrap.REPLICATES.check("evaluate.bootstrap", config.get(st.params, "evaluate.bootstrap"))
    src = paths.xai_dir(task.name, st.root)  # the explained images, the same for every explainer
    subset = np.load(src / "subset.npy"), pd.read_csv(src / "subset.csv"), pd.read_csv(src / "subset_boxes.csv")
    for name in xai.names(st.params, task.EXPLAINERS):
        report_explainer(st, task, name, subset, cfg, n_boot)


def report_explainer(st: Stage, task, name: str, subset: tuple, cfg: dict, n_boot: int) -> None:
    """Heatmap metrics and figures of explainer ``name`` over every model of ``task`` on ``subset`` (images, their
    table, their boxes)."""
    Explainer = xai.get(name)
    images, table, boxes = subset
    models = methods.task_models(st.params, task)
    maps = {}
    for m in models:
        f = paths.heatmaps(task.name, name, m, st.root)
        h = np.load(f).astype(np.float64)
        runs = min(cfg["repeats"], task.repeats)
        if h.ndim != 4 or h.shape != (runs, len(images), *images.shape[2:]):
            raise ValueError(f"{f}: heatmaps of shape {h.shape}, expected {(runs, len(images), *images.shape[2:])} "
                             "(explained runs, images, H, W); rerun stage explain")
        maps[m] = h
    names = table["file_name"].astype(str).tolist() if "file_name" in table else [str(r) for r in table["test_row"]]
    metrics, pairs = heatmap_metrics(maps, names, boxes, task.coverage_classes(), Explainer.signed, n_boot,
                              derive_seed(st.glob["seed"], task.name, name, "bootstrap"), st.log)
    write_json(paths.xai_metrics(task.name, name, st.root),
               {"explainer": name, "signed": Explainer.signed, "suffix": Explainer.metric_suffix,
                "runs": min(cfg["repeats"], task.repeats), "models": metrics, "paired": pairs})

    n = min(cfg["n_figure"], len(images))
    labels = task.display_labels(table.iloc[:n])
    # the figures show repeat 0; a signed explainer's maps as the metrics read them: their positive part
    shown = {m: (np.clip(h[0, :n], 0, None) if Explainer.signed else h[0, :n]) for m, h in maps.items()}
    fig_boxes = boxes if len(boxes) else None
    out = paths.heatmap_figures(task.name, st.root)
    box_names = {c: f"{c} box (in {key})" for key, classes in task.coverage_classes().items() for c in classes}
    head = f"{task.title()}: {name} heatmaps of training run 1"
    save_figure(out / f"{name}_grid.png", heatmap_grid(images[:n], shown, fig_boxes, labels, title=head,
                                                       shared_scale=cfg["shared_scale"], box_names=box_names))
    save_figure(out / f"{name}_diff.png", diff_grid(images[:n], shown, REFERENCE, fig_boxes, labels, title=head,
                                                    box_names=box_names))
    st.log.info("%s/%s: figures (%d images, %d models) and heatmap metrics %s", task.name, name, n, len(models),
                {m: {k: v["value"] for k, v in r.items() if k in ("AS", *task.coverage_classes())} for m, r in metrics.items()})


if __name__ == "__main__":
    main()
