"""Metric families: how a task's evaluation turns one model's predictions into metrics.

A task names its family (``Task.EVALUATION``); ``get(name)`` returns the family class of module
``stages.metrics.families.<name>``: the one class there that subclasses :class:`Family` (e.g. ``CountingMetrics`` of
``counting``). The evaluate stage calls, per model and repeat, ``prepare`` (the repeat's
predictions of every sample population) and then ``metrics``/``attacks`` on all samples (the reported value) and
on the bootstrap replicates of :mod:`stages.metrics.bootstrap` (the interval). ``attacks`` are the costly metrics
(a membership attack fits a classifier), computed on fewer replicates (``evaluate.bootstrap_attack``).
``per_example``/``per_example_rows`` give the per-example attacks (:mod:`stages.metrics.per_example`) one run's
signals on the forget samples and the held-out samples of the same kind; the evaluate stage scores each model's run
against Retrain's runs, the references.
"""
from __future__ import annotations

import importlib

import numpy as np
import pandas as pd

from stages.core import registry


class Family:
    LEGEND: dict[str, str] = {}   # metric -> what it measures and its ideal (shown under table.md)

    def __init__(self, task, cfg: dict):
        """The rows every family reads: ``member_rows`` (the training rows :meth:`member_mask` picks), ``y_member``
        (their targets as the Original learned them) and ``y_test`` (the test split's); then the family's own rows
        (:meth:`set_up`)."""
        self.task, self.cfg = task, cfg
        train, test = task.table("train"), task.table("test")
        self.member_rows = np.flatnonzero(self.member_mask(train))
        self.y_member = task.original_target(train)[self.member_rows]
        self.y_test = task.original_target(test)
        self.set_up(train, test)

    def member_mask(self, train: pd.DataFrame) -> np.ndarray:
        """Bool per row of the training table: the row is a member of the membership attacks, a forget row that is
        not a copy of another (:meth:`copies`), so that each sample the model trained on counts once."""
        forget, copies = self.task.forget_rows(train), self.copies(train)
        return forget if copies is None else forget & ~copies

    def copies(self, train: pd.DataFrame) -> np.ndarray | None:
        """Bool per row of the training table: the row repeats a sample of another row (an augmented or up-sampled
        copy); None: no row does (default)."""
        return None

    def set_up(self, train: pd.DataFrame, test: pd.DataFrame) -> None:
        """Read the rows and targets of the family's own populations from the split tables (default: none)."""

    def populations(self) -> dict[str, int]:
        """Sample populations the metrics are computed on (name -> number of samples), bootstrapped apart."""
        raise NotImplementedError

    def prepare(self, preds: pd.DataFrame, repeat: int) -> dict[str, np.ndarray]:
        """One repeat's predictions of every population (aligned with the population's samples)."""
        raise NotImplementedError

    def metrics(self, p: dict, ref: dict, idx: dict | None) -> dict[str, float]:
        """Cheap metrics of predictions ``p`` (Retrain's: ``ref``, same repeat) on samples ``idx`` (None: all)."""
        raise NotImplementedError

    def attacks(self, p: dict, ref: dict, idx: dict | None, seed: int) -> dict[str, float]:
        """Membership-style attacks (costly) on samples ``idx``; ``seed`` drives their sub-sampling and splits."""
        return {}

    def per_example(self, p: dict):
        """One run's :class:`stages.metrics.per_example.Signals` (members: the forget samples; non-members: held-out
        samples of the same kind), or None when the family has no per-example attack."""
        return None

    def per_example_rows(self, idx: dict | None) -> tuple[np.ndarray, np.ndarray]:
        """(member rows, non-member rows) into the arrays of :meth:`per_example` for samples ``idx`` (None: all)."""
        raise NotImplementedError

    def histogram(self, p: dict) -> pd.DataFrame:
        """Per-sample loss histograms of the membership populations (all samples)."""
        raise NotImplementedError

    HIST_LABELS = ("members", "non-members")

    @staticmethod
    def take(a: np.ndarray, idx: dict | None, pop: str) -> np.ndarray:
        return a if idx is None else a[idx[pop]]


def get(name: str) -> type[Family]:
    try:
        module = importlib.import_module(f"stages.metrics.families.{name}")
    except ModuleNotFoundError as e:
        if e.name != f"stages.metrics.families.{name}":
            raise
        raise ValueError(f"unknown metric family {name!r} (no module stages/metrics/families/{name}.py)") from e
    return registry.plugin_class(module, Family)


def pick(preds: pd.DataFrame, split: str, repeat: int = 0, column: str = "pred") -> np.ndarray:
    """One repeat's predictions of one split, ordered by row."""
    sel = preds[(preds.split == split) & (preds["repeat"] == repeat)] if "repeat" in preds else preds[preds.split == split]
    return sel.sort_values("row")[column].to_numpy()
