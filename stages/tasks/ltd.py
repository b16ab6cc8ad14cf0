"""LTD (seed 000): count the objects of a thermal harbour frame, then unlearn one class: y' = y - count(class).

The forget class is ``data.<dataset>.forget_class`` (default human), or the task's own ``tasks.<name>.forget_class``
(so that two forget requests can share one dataset and its Original). The Original learns y (every object); Retrain
and every unlearning method learn y' on the same frames. The forget set is the training frames that contain
the forget class (their forget-class counts are the information to remove); every frame stays in the retain
set with target y'. Heatmap coverage: h-HC on the forget class's boxes, r-HC on the other classes' boxes.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from stages.core.config import Choice
from stages.data import ltd as ltd_data
from stages.tasks import base


class LTDCounting(base.RegressionTask):
    # tasks.<name>.forget_class: optional, overrides data.<dataset>.forget_class (a second request on the same data)
    PARAMS = {"forget_class": Choice(*ltd_data.CLASSES, optional=True, default=None)}
    REPORT_COLUMNS = ("MAE", "RMSE", "MAE_y", "MIA", "human_leak", *base.PER_EXAMPLE_COLUMNS, "probe", "h-HC",
                      "h-HC_lift", "r-HC", "r-HC_lift", "AS", "cost_steps_vs_retrain")
    BAR_COLUMNS = ("MAE", "h-HC", "r-HC", "MIA")
    VERDICT_AXES = {"utility": "MAE", "forgetting": "human_leak", "membership": base.MEMBERSHIP,
                    "representation": "probe", "heatmaps": "h-HC", "cost": "cost_images_vs_retrain"}

    @property
    def forget_class(self) -> str:
        if self.cfg.get("forget_class"):
            return self.cfg["forget_class"]
        fc = self.params["data"][self.dataset]["forget_class"]
        Choice(*ltd_data.CLASSES).check(f"data.{self.dataset}.forget_class", fc)
        return fc

    @property
    def other_classes(self) -> tuple[str, ...]:
        return tuple(c for c in ltd_data.CLASSES if c != self.forget_class)

    def original_target(self, table):
        return table[list(ltd_data.CLASSES)].sum(axis=1).to_numpy(np.float32)

    def retain_target(self, table):
        return (table[list(ltd_data.CLASSES)].sum(axis=1) - table[self.forget_class]).to_numpy(np.float32)

    def forget_rows(self, table):
        return table[self.forget_class].to_numpy() > 0

    def retain_rows(self, table):
        return np.ones(len(table), bool)  # every frame stays, counted without the forget class

    def request(self) -> dict:
        return {"forget_class": self.forget_class, "target": f"y' = y - count({self.forget_class})"}

    @property
    def target_range(self):
        return (0.0, float(self.meta["target_max"]))

    def title(self) -> str:
        return f"LTD thermal counting, unlearn {self.forget_class} (y' = y - {self.forget_class})"

    EVALUATION = "counting"      # stages/metrics/families/counting.py
    PUBLISHED = "ltd_table1"     # stages/metrics/published.py

    def probe_target(self, table):
        return table[self.forget_class].to_numpy(np.float64), "r2"  # how many of the class a frame holds

    # ------------------------------------------------------------------ explanations
    def select_subset(self, n, seed):
        return base.select_mixed(self.table("test"), n, seed, [self.forget_class], list(self.other_classes),
                                   where=self.where("test"))

    def subset_boxes(self, rows):
        boxes = self.split("test").boxes
        if boxes is None:
            raise FileNotFoundError(f"{self.where('test_boxes')}: missing (LTD needs the boxes)")
        base.require(boxes, base.BOX_COLUMNS, self.where("test_boxes"))
        return base.subset_boxes(boxes, rows)

    def coverage_classes(self):
        return {"r-HC": self.other_classes, "h-HC": (self.forget_class,)}

    def display_labels(self, table: pd.DataFrame) -> list[str]:
        f = self.forget_class[0]
        others = table[list(self.other_classes)].sum(axis=1)
        return [f"#{r} {f}={h} o={o}" for r, h, o in zip(table["test_row"], table[self.forget_class], others)]
