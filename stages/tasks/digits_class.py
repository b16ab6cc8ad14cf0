"""Digits, forget one class (seed 004: every training row of one class, "automobile" in CIFAR-10).

The forget set is every training row whose label is ``tasks.digits_class.forget_class``; Retrain never sees the
class. The held-out rows of the same kind (the membership attack's non-members) are the test rows of that class:
an attack against the whole test set detects the class, not membership (seed 004).
"""
from __future__ import annotations

import numpy as np

from stages.core.config import Int, ParamError
from stages.tasks import base


class DigitsForgetClass(base.ClassificationTask):
    PARAMS = {"forget_class": Int(min=0)}
    TRACK = "per_task"   # every model of the task made in one stage and explained in one

    @property
    def forget_class(self) -> int:
        k = self.cfg["forget_class"]
        if k >= self.classes:
            raise ParamError(f"tasks.{self.name}.forget_class = {k}: the dataset has {self.classes} classes")
        return k

    def forget_rows(self, table):
        return self.original_target(table) == self.forget_class

    def request(self):
        return {"forget_class": self.forget_class, "class_name": self.class_names[self.forget_class]}

    def title(self):
        return f"Digits, forget class '{self.class_names[self.forget_class]}'"

    PUBLISHED = "seed004"
