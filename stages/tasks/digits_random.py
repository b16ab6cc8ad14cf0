"""Digits, forget a random share of the training rows (seed 003: a random 10 %).

``tasks.digits_random.share`` of the training rows, drawn with a seed derived from ``seed`` and the task's name,
form the forget set; every other training row is retained. The held-out rows of the same kind as the forget set
(the membership attack's non-members) are the whole test split: a random forget set has no other kind.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from stages.core.config import Float, Int
from stages.core.seeds import derive_seed
from stages.tasks import base


class DigitsForgetRandom(base.ClassificationTask):
    PARAMS = {"share": Float(min=0, max=1, min_open=True, max_open=True), "seed": Int(min=0)}
    TRACK = "per_task"   # every model of the task made in one stage and explained in one
    DRAW = None   # name the forget set's draw is derived from (None: the task's; tasks sharing it forget the same rows)

    @cached_property
    def _train_forget(self) -> np.ndarray:
        n = len(self.table("train"))
        k = int(round(self.cfg["share"] * n))
        rng = np.random.default_rng(derive_seed(self.cfg["seed"], self.DRAW or self.name, "forget"))
        mask = np.zeros(n, bool)
        mask[rng.choice(n, k, replace=False)] = True
        return mask

    def forget_rows(self, table):
        """Training rows: the drawn forget set (by the table's row index into the training split); held-out rows:
        all of the forget kind."""
        base.require(table, ("split",), "table")
        train = table["split"].to_numpy() == "train"
        out = np.ones(len(table), bool)
        out[train] = self._train_forget[table.index.to_numpy()[train]]
        return out

    def retain_rows(self, table):
        """Training rows outside the forget set; every held-out row (validation selects on all of them)."""
        base.require(table, ("split",), "table")
        train = table["split"].to_numpy() == "train"
        return ~self.forget_rows(table) | ~train

    def request(self):
        return {"share": self.cfg["share"], "forget_rows": int(self._train_forget.sum())}

    def probe_target(self, table):
        """A random forget set has no concept to probe: the probe reads the class (what must remain)."""
        return self.original_target(table), "balanced_accuracy"

    def title(self):
        return f"Digits, forget a random {self.cfg['share']:.0%} of the training rows"

    PUBLISHED = "seed003_table1"
