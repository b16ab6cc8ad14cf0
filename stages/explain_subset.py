"""Stage ``explain_subset``: the fixed, deterministic explanation subset of a task's test split.

    python -m stages.explain_subset --task ltd [--root .]

Reads ``data/prepared/<task>/test.npy`` / ``test.csv`` (+ ``test_boxes.csv`` for LTD) and writes to
``data/xai/<task>/``: ``subset.npy`` (the chosen uint8 images), ``subset.csv`` (``test_row`` = index in
the test split, then the test table's columns) and ``subset_boxes.csv`` (LTD: the boxes of the chosen
frames, ``row`` = index into the subset; UTKFace: header only, so that every task has the same outputs).
Heatmaps are computed at input resolution, so the boxes keep their input-pixel coordinates.
Params: ``explain.n_images``, ``seed``. Selection rules: :mod:`stages.xai.subset`.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from stages import config
from stages.data.arrays import PREPARED, load_split, task_dir
from stages.xai.settings import SCHEMA, TASKS, xai_dir
from stages.io import setup_logging, write_csv, write_npy
from stages.xai.subset import SELECT, ltd_kind, require, subset_boxes, subset_table

BOX_COLUMNS = ("row", "cls", "x_tl", "y_tl", "x_br", "y_br")


def main(argv=None):
    ap = argparse.ArgumentParser(description="choose the explanation subset of the test split")
    ap.add_argument("--task", required=True, choices=TASKS)
    ap.add_argument("--root", default=".", help="project root holding data/")
    a = ap.parse_args(argv)
    log = setup_logging("explain_subset")
    params = config.read_params()
    n, seed = config.load("explain", SCHEMA, params)["n_images"], config.load_global(params)["seed"]

    src = task_dir(a.task, Path(a.root) / PREPARED)
    split = load_split(a.task, "test", Path(a.root) / PREPARED)
    rows = SELECT[a.task](split.table, n, seed, where=str(src / "test.csv"))
    if len(rows) < n:
        log.warning("explain.n_images = %d but only %d test images qualify: using %d", n, len(rows), len(rows))
    out = xai_dir(a.task, a.root)
    table = subset_table(split.table, rows)
    write_npy(out / "subset.npy", np.ascontiguousarray(split.images[rows]))
    write_csv(out / "subset.csv", table)
    if a.task == "ltd":
        if split.boxes is None:
            raise FileNotFoundError(f"{src / 'test_boxes.csv'}: missing (LTD needs the boxes)")
        require(split.boxes, BOX_COLUMNS, str(src / "test_boxes.csv"))
        boxes = subset_boxes(split.boxes, rows)
    else:  # no boxes: an empty table, so that every task has the same outputs
        boxes = pd.DataFrame(columns=list(BOX_COLUMNS))
    write_csv(out / "subset_boxes.csv", boxes)
    if a.task == "ltd":
        log.info("ltd subset: %d frames %s, %d boxes", len(rows),
                 ltd_kind(table).value_counts().to_dict(), len(boxes))
    else:
        log.info("utk subset: %d faces, per group %s", len(rows), table["group"].value_counts().sort_index().to_dict())


if __name__ == "__main__":
    main()
