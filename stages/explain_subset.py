"""Stage explain_subset: the fixed, deterministic explanation subset of a task's test split.

    python -m stages.explain_subset --task ltd

Writes to ``data/xai/<task>/``: ``subset.npy`` (the chosen uint8 images), ``subset.csv`` (``test_row`` = index
in the test split, then the test table's columns) and ``subset_boxes.csv`` (the boxes of the chosen frames,
``row`` = index into the subset; header only for a task without boxes, so every task has the same outputs).
The task plugin picks the rows (:meth:`stages.tasks.base.Task.select_subset`). Params: ``explain.n_images``, ``seed``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from stages import tasks, xai
from stages.core import paths
from stages.core.io import write_csv, write_npy
from stages.core.stage import Stage
from stages.tasks import base as subset


def main(argv=None):
    st = Stage("explain_subset", __doc__, argv, root=True, task=dict(required=True))
    task = tasks.get(st.args.task, st.params, st.root)
    n = st.section("explain", xai.explain_schema(st.params))["n_images"]
    rows = task.select_subset(n, st.glob["seed"])
    if len(rows) == 0:
        raise ValueError(f"{task.name}: no test image qualifies for the explanation subset")
    if len(rows) < n:
        st.log.warning("explain.n_images = %d but only %d test images qualify: using %d", n, len(rows), len(rows))
    out = paths.xai_dir(task.name, st.root)
    table = subset.subset_table(task.table("test"), rows)
    boxes = task.subset_boxes(rows)
    if boxes is None:
        boxes = pd.DataFrame(columns=list(subset.BOX_COLUMNS))
    write_npy(out / "subset.npy", np.ascontiguousarray(task.split("test").images[rows]))
    write_csv(out / "subset.csv", table)
    write_csv(out / "subset_boxes.csv", boxes)
    st.log.info("%s subset: %d images, %d boxes", task.name, len(rows), len(boxes))


if __name__ == "__main__":
    main()
