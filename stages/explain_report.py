"""Stage explain_report: one explainer's heatmaps of every model of a task -> figures and heatmap metrics.

    python -m stages.explain_report --task ltd --explainer sidu

Reads ``data/xai/<task>/subset.*`` and ``data/xai/<task>/<explainer>/<model>.npy`` of Original, Retrain and every
method; writes ``reports/<task>/figures/<explainer>_grid.png`` (rows = the first ``explain.n_figure`` images;
columns = input, then each model's overlay), ``<explainer>_diff.png`` (each model minus Original, heatmaps
normalised to sum 1; green = more attention, red = less) and ``reports/<task>/xai/<explainer>.json``: per model
the heatmap metrics of seed 000, AS (attention shift vs Original) and the task's coverage metrics (LTD: h-HC on
the forget class's boxes, r-HC on the others'). For a signed explainer they use the positive part of the maps.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from stages import methods, tasks, xai
from stages.core import paths
from stages.core.io import save_figure, write_json
from stages.metrics import coverage
from stages.core.stage import Stage
from stages.xai.figures import diff_grid, heatmap_grid

REFERENCE = "original"


def heatmap_metrics(maps: dict[str, np.ndarray], names: list[str], boxes: pd.DataFrame, classes: dict,
                    signed: bool, log) -> dict[str, dict]:
    """Per model: heatmaps, degenerate_heatmaps, AS vs Original and one HC per entry of ``classes``."""
    if signed:
        maps = {m: np.clip(h, 0, None) for m, h in maps.items()}  # evidence for the output only
    ref = maps[REFERENCE]
    ok_ref = coverage.valid_maps(ref)
    out = {}
    for model, h in maps.items():
        ok = coverage.valid_maps(h) & ok_ref
        for j in np.flatnonzero(~ok):
            log.warning("%s: heatmap of explanation image %d (%s) or Original's is all zero or not finite: "
                        "excluded from HC/AS", model, j, names[j])
        res = {"heatmaps": int(len(h)), "degenerate_heatmaps": int((~ok).sum())}
        if ok.any():
            ids = [names[j] for j in np.flatnonzero(ok)]
            res["AS"] = coverage.attention_shift(h[ok], ref[ok], ids=ids)
            n, hh, ww = h.shape
            for key, cls in classes.items():
                masks = coverage.box_masks(boxes, n, hh, ww, cls)[ok]
                res[key] = coverage.heatmap_coverage(h[ok], masks, ids=ids) if masks.any() else None
        out[model] = res
    return out


def main(argv=None):
    st = Stage("explain_report", __doc__, argv, root=True, task=dict(required=True), explainer=dict(required=True))
    task, name = tasks.get(st.args.task, st.params, st.root), st.args.explainer
    cfg = st.section("explain", xai.explain_schema(st.params))
    Explainer = xai.get(name)
    src = paths.xai_dir(task.name, st.root)
    images = np.load(src / "subset.npy")
    table = pd.read_csv(src / "subset.csv")
    boxes = pd.read_csv(src / "subset_boxes.csv")
    models = [*paths.REFERENCE_MODELS, *methods.names(st.params)]
    maps = {}
    for m in models:
        f = paths.heatmaps(task.name, name, m, st.root)
        h = np.load(f).astype(np.float64)
        if h.shape != (len(images), *images.shape[2:]):
            raise ValueError(f"{f}: heatmaps of shape {h.shape}, expected {(len(images), *images.shape[2:])}")
        maps[m] = h
    names = table["file_name"].astype(str).tolist() if "file_name" in table else [str(r) for r in table["test_row"]]
    metrics = heatmap_metrics(maps, names, boxes, task.coverage_classes(), Explainer.signed, st.log)
    write_json(paths.xai_metrics(task.name, name, st.root),
               {"explainer": name, "signed": Explainer.signed, "suffix": Explainer.metric_suffix, "models": metrics})

    n = min(cfg["n_figure"], len(images))
    labels = task.display_labels(table.iloc[:n])
    shown = {m: h[:n] for m, h in maps.items()}
    fig_boxes = boxes if len(boxes) else None
    out = paths.figures(task.name, st.root)
    save_figure(out / f"{name}_grid.png", heatmap_grid(images[:n], shown, fig_boxes, labels))
    save_figure(out / f"{name}_diff.png", diff_grid(images[:n], shown, REFERENCE, fig_boxes, labels))
    st.log.info("%s/%s: figures (%d images, %d models) and heatmap metrics %s", task.name, name, n, len(models),
                {m: {k: v for k, v in r.items() if k in ("AS", *task.coverage_classes())} for m, r in metrics.items()})


if __name__ == "__main__":
    main()
