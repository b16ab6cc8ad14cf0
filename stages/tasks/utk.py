"""UTKFace (seed 001): regress age, then forget one age group ``data.utk.forget_groups[data.utk.forget_group]``.

The Original learns every training face; Retrain and the fine-tunes learn the retain split (training rows
outside the group); the forget set is the training rows of the group (its real faces, not augmented copies, are
what Forgetting and the membership attack measure). Validation for the unlearned models excludes the group.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from stages.data import utkface
from stages.tasks import base


class UTKFaceAgeGroup(base.RegressionTask):
    REPORT_COLUMNS = ("MAE", "MAE_forget", "Utility", "Forgetting", "F", "MIA", "MIA_vs_all_test",
                      *base.PER_EXAMPLE_COLUMNS, "probe", "AS", "cost_steps_vs_retrain")
    BAR_COLUMNS = ("MAE", "F", "Forgetting", "MIA")
    VERDICT_AXES = {"utility": "MAE", "forgetting": "MAE_forget", "membership": base.MEMBERSHIP,
                    "representation": "probe", "heatmaps": "AS", "cost": "cost_images_vs_retrain"}

    @property
    def group(self) -> int:
        return utkface.load_params(self.params)["forget_group"]

    @property
    def interval(self) -> list[int]:
        return list(self.params["data"][self.dataset]["forget_groups"][self.group])

    def original_target(self, table):
        return table["age"].to_numpy(np.float32)

    retain_target = original_target  # ages stay ages: the retain set is what changes

    def forget_rows(self, table):
        return table["group"].to_numpy() == self.group

    def request(self) -> dict:
        return {"forget_group": self.group, "interval": self.interval}

    @property
    def target_range(self):
        return (float(self.meta["age_min"]), float(self.meta["age_max"]))

    def model_spec(self, cfg):
        return {**super().model_spec(cfg), "target_max": float(self.meta["age_max"])}

    def title(self) -> str:
        return f"UTKFace age regression, forget ages {self.interval}"

    EVALUATION = "age_forgetting"  # stages/metrics/families/age_forgetting.py
    PUBLISHED = "utk_thesis"       # stages/metrics/published.py

    # ------------------------------------------------------------------ explanations
    def select_subset(self, n, seed):
        table = self.table("test")
        base.require(table, ("group", "age"), self.where("test"))
        return base.select_by_group(table["group"].to_numpy(), n, seed)

    def display_labels(self, table: pd.DataFrame) -> list[str]:
        return [f"#{r.test_row} age {r.age}" for r in table.itertuples()]
