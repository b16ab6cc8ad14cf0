"""Model selection: the validation score of the regression tasks, by which the training loop keeps its best epoch
(lower is better). In core because both the loop (:mod:`stages.models.fitting`) and the tasks
(:mod:`stages.tasks.base`) use it, and every stage already depends on ``stages/core``."""
from __future__ import annotations

import numpy as np


def mae_score(pred, y) -> float:
    """Mean absolute error of ``pred`` against ``y``, computed in their own dtypes (no float64 cast: the score the
    best epoch was always chosen by)."""
    return float(np.abs(np.asarray(pred) - np.asarray(y)).mean())
