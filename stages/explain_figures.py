"""Stage ``explain_figures``: heatmap grid and difference-to-Original figures of a task.

    python -m stages.explain_figures --task ltd --models original retrain finetune prune [--root .]

Reads ``data/xai/<task>/subset.npy`` / ``subset.csv`` (+ ``subset_boxes.csv`` for LTD) and every model's
``<model>.npy`` heatmaps; writes ``reports/<task>/figures/sidu_grid.png`` (rows = the first
``explain.n_figure`` images; columns = input, then each model's overlay) and ``sidu_diff.png`` (each
unlearned model minus ``original``, heatmaps normalised to sum 1; green = more attention, red = less).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from stages import config
from stages.xai.settings import SCHEMA, TASKS, xai_dir
from stages.io import save_figure, setup_logging
from stages.xai.figures import diff_grid, heatmap_grid

REFERENCE = "original"


def row_labels(task: str, table: pd.DataFrame) -> list[str]:
    if task == "utk":
        return [f"#{r.test_row} age {r.age}" for r in table.itertuples()]
    others = table[["bicycle", "motorcycle", "vehicle"]].sum(axis=1)
    return [f"#{r} h={h} o={o}" for r, h, o in zip(table["test_row"], table["human"], others)]


def main(argv=None):
    ap = argparse.ArgumentParser(description="SIDU heatmap figures of a task")
    ap.add_argument("--task", required=True, choices=TASKS)
    ap.add_argument("--models", required=True, nargs="+", help=f"heatmaps to show; must include {REFERENCE}")
    ap.add_argument("--root", default=".", help="project root holding data/ and reports/")
    a = ap.parse_args(argv)
    if REFERENCE not in a.models or len(a.models) < 2:
        ap.error(f"--models must include {REFERENCE!r} and at least one other model")
    log = setup_logging("explain_figures")
    n_fig = config.load("explain", SCHEMA)["n_figure"]

    src = xai_dir(a.task, a.root)
    images = np.load(src / "subset.npy")
    table = pd.read_csv(src / "subset.csv")
    n = min(n_fig, len(images))
    heat = {}
    for m in a.models:
        h = np.load(src / f"{m}.npy", mmap_mode="r")
        if h.shape != (len(images), *images.shape[2:]):
            raise ValueError(f"{src / f'{m}.npy'}: heatmaps of shape {h.shape}, expected "
                             f"{(len(images), *images.shape[2:])} (subset.npy {images.shape})")
        heat[m] = np.asarray(h[:n], dtype=np.float64)
    boxes = pd.read_csv(src / "subset_boxes.csv") if a.task == "ltd" else None
    labels = row_labels(a.task, table.iloc[:n])

    out = Path(a.root) / "reports" / a.task / "figures"
    save_figure(out / "sidu_grid.png", heatmap_grid(images[:n], heat, boxes, labels))
    save_figure(out / "sidu_diff.png", diff_grid(images[:n], heat, REFERENCE, boxes, labels))
    log.info("wrote %s/sidu_grid.png and sidu_diff.png (%d images, %d models)", out, n, len(a.models))


if __name__ == "__main__":
    main()
