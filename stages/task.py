"""Stage task: a forget request made concrete, and the task's copy of its dataset's Original.

    python -m stages.task --task ltd

Writes ``data/tasks/<task>/task.json``: the dataset, the forget request (from params), the size of every data
role (an empty or too small role stops here, naming it), the training rows of the forget set, and the MD5 of
every file of the prepared dataset and of the Original it uses. Every later stage of the task depends on this
file, so a change to the dataset or the Original reaches them even though their paths name only the task.
Copies ``models/datasets/<dataset>/original.*`` to ``models/<task>/original.*`` (a task with its own Original, such
as the multi-agent tasks, already has it there: stage train --task; with ``--skip-original`` stage task_models does).

Also writes the task's fixed, deterministic explanation subset of its test split to ``data/xai/<task>/``:
``subset.npy`` (the chosen uint8 images), ``subset.csv`` (``test_row`` = index in the test split, then the test
table's columns) and ``subset_boxes.csv`` (the boxes of the chosen frames, ``row`` = index into the subset; header
only for a task without boxes). The task plugin picks the rows (:meth:`stages.tasks.base.Task.select_subset`)
from ``explain.n_images.<task>`` and ``seed``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from stages import tasks, xai
from stages.core import paths
from stages.core.io import copy_file, file_md5, write_csv, write_json, write_npy
from stages.core.stage import Stage
from stages.tasks import base
from stages.tasks.base import ROLES

MIN_ROWS = {"retain": 2, "forget": 1, "full": 2, "val": 1, "test": 1, "heldout_like_forget": 1}


def describe(task) -> dict:
    rows = {role: task.role(role).rows for role in ROLES}
    sizes = {role: len(r) for role, r in rows.items()}
    need = {role: max(MIN_ROWS[role], task.MIN_ROWS.get(role, 0)) for role in ROLES}
    for role, n in sizes.items():
        if n < need[role]:
            raise ValueError(f"task {task.name}: data role {role!r} has {n} rows, need at least {need[role]} "
                             f"(dataset {task.dataset}, request {task.request()})")
    prepared = paths.prepared(task.dataset, task.root)
    files = sorted(p for p in prepared.rglob("*") if p.is_file())
    return {
        "task": task.name, "dataset": task.dataset, "request": task.request(), "roles": sizes,
        "forget_rows": rows["forget"].tolist(),
        "dataset_md5": {str(p.relative_to(prepared)): file_md5(p) for p in files},
        "original_md5": file_md5(task.original_path(".pt")),
    }


def copy_original(task, root=".") -> None:
    """``models/datasets/<dataset>/original.*`` -> ``models/<task>/original.*`` (nothing for a task that trains its own
    Original: stage train --task writes it there)."""
    for suffix in () if task.OWN_ORIGINAL else (".pt", ".json", "_preds.csv", "_features.npy"):
        copy_file(paths.dataset_model(task.dataset, suffix, root), paths.model(task.name, "original", suffix, root))


def write_subset(task, n: int, seed: int, log) -> None:
    rows = task.select_subset(n, seed)
    if len(rows) == 0:
        raise ValueError(f"{task.name}: no test image qualifies for the explanation subset")
    if len(rows) < n:
        log.warning("explain.n_images.%s = %d but only %d test images qualify: using %d", task.name, n, len(rows), len(rows))
    out = paths.xai_dir(task.name, task.root)
    boxes = task.subset_boxes(rows)
    if boxes is None:
        boxes = pd.DataFrame(columns=list(base.BOX_COLUMNS))
    write_npy(out / "subset.npy", np.ascontiguousarray(task.split("test").images[rows]))
    write_csv(out / "subset.csv", base.subset_table(task.table("test"), rows))
    write_csv(out / "subset_boxes.csv", boxes)
    log.info("%s explanation subset: %d images, %d boxes", task.name, len(rows), len(boxes))


def main(argv=None):
    st = Stage("task", __doc__, argv, root=True, task=dict(required=True, help="a task of a task list in params.yaml"),
               skip_original=dict(action="store_true", help="do not copy the Original (the per-task track: "
                                  "stage per_task_models copies it with the task's other models)"))
    task = tasks.get(st.args.task, st.params, st.root)
    n_images = xai.n_images(st.params, task.name)
    info = describe(task)
    if not st.args.skip_original:
        copy_original(task, st.root)
    write_json(paths.task_json(task.name, st.root), info)
    write_subset(task, n_images, st.glob["seed"], st.log)
    st.log.info("%s on %s: %s, roles %s", task.name, task.dataset, info["request"], info["roles"])


if __name__ == "__main__":
    main()
