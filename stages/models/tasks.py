"""What each model of each task trains on: the one place that knows targets, forget sets and ranges.

- LTD (counting): Original learns y (all object classes); Retrain and every unlearning method learn
  y' = y - count(forget class) on the same training frames. The forget set is the training frames that
  contain the forget class (their forget-class counts are the information to remove).
- UTKFace (age): Original learns the whole training split; Retrain and the fine-tunes learn the retain split
  only (training rows outside the forget age group). The forget set is the training rows of the group.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stages.data import arrays

TASKS = ("ltd", "utk")


@dataclass
class TaskData:
    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    forget: np.ndarray          # bool per training row used (True = forget set)
    meta: dict
    target_range: tuple[float, float]


def _ltd_forget(table, meta):
    return table[meta["forget_class"]].to_numpy() > 0


def load(task: str, role: str, root=arrays.PREPARED) -> TaskData:
    """Training/validation data of ``task`` for ``role``: original | retain | full.

    ``retain``: what must remain (Retrain, fine-tunes). ``full``: every training row with the retain targets
    and the forget mask (for methods that relabel the forget set themselves, e.g. random labels).
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}")
    if role not in ("original", "retain", "full"):
        raise ValueError(f"unknown role {role!r}: original | retain | full")
    meta = arrays.load_meta(task, root)
    tr, va = arrays.load_split(task, "train", root), arrays.load_split(task, "val", root)
    if task == "ltd":
        col = "y" if role == "original" else "y_prime"
        forget = _ltd_forget(tr.table, meta)
        return TaskData(tr.images, tr.table[col].to_numpy(np.float32), va.images, va.table[col].to_numpy(np.float32),
                        forget, meta, (0.0, float(meta["target_max"])))
    forget_tr = tr.table["forget"].to_numpy(bool)
    rng = (float(meta["age_min"]), float(meta["age_max"]))
    ages_tr, ages_va = tr.table["age"].to_numpy(np.float32), va.table["age"].to_numpy(np.float32)
    if role == "retain":
        keep_va = ~va.table["forget"].to_numpy(bool)
        return TaskData(tr.images[~forget_tr], ages_tr[~forget_tr], va.images[keep_va], ages_va[keep_va],
                        np.zeros(int((~forget_tr).sum()), bool), meta, rng)
    return TaskData(tr.images, ages_tr, va.images, ages_va, forget_tr, meta, rng)


def target_max(task: str, meta: dict) -> float:
    """Upper end of the output range for a sigmoid head."""
    return float(meta["target_max"] if task == "ltd" else meta["age_max"])


EVAL_SPLITS = {"ltd": ("test",), "utk": ("train", "test")}


def eval_sets(task: str, root=arrays.PREPARED) -> dict:
    """Images and targets every model is evaluated on: the test split, and for UTKFace the training split (its
    forget rows are the forget set; LTD's membership test uses test frames with vs without the forget class)."""
    meta = arrays.load_meta(task, root)
    out = {}
    for split in EVAL_SPLITS[task]:
        s = arrays.load_split(task, split, root)
        t = s.table
        if task == "ltd":
            out[split] = (s.images, {"y": t["y"].to_numpy(), "y_prime": t["y_prime"].to_numpy(),
                                     "forget": _ltd_forget(t, meta)})
        else:
            out[split] = (s.images, {"age": t["age"].to_numpy(), "forget": t["forget"].to_numpy(bool),
                                     "group": t["group"].to_numpy()})
    return out
