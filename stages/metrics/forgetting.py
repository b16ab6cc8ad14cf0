"""Utility, Forgetting and F of the UTKFace thesis (seed 001, section 4.3).

- Utility = MAE_retrain / MAE_model on the test set (> 1: the model beats Retrain).
- Forgetting = mean over the forget set of exp(-|r_i - e_i| / alpha), r_i and e_i the absolute errors of
  Retrain and of the evaluated model on sample i (thesis eq. 4.2-4.4, alpha = 15).
- F = Utility * Forgetting (eq. 4.5).
"""
from __future__ import annotations

import math

import numpy as np

from stages.metrics.regression import as_pair


def _positive(x, name: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name} = {x!r}: expected a number") from None
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} = {x!r}: expected a finite number > 0")
    return v


def utility(mae_retrain: float, mae_model: float) -> float:
    """MAE of Retrain divided by the MAE of the evaluated model (both on the test set)."""
    return _positive(mae_retrain, "mae_retrain") / _positive(mae_model, "mae_model")


def forgetting(err_retrain, err_model, alpha: float = 15.0, legacy_pairwise: bool = False) -> float:
    """Mean of exp(-|r_i - e_i| / alpha) over the forget set; inputs are per-sample absolute errors.

    ``legacy_pairwise=True`` reproduces the thesis notebook instead: it subtracted an (N, 1) array from an
    (N,) one, which numpy broadcasts to the (N, N) matrix of all pairs |r_j - e_i|, and averaged exp(-.)
    over all N*N pairs (0.777 there vs 0.798 per sample on the same data). Kept only to compare with the
    published numbers; the per-sample formula is the documented one.
    """
    r, e = as_pair(err_retrain, err_model, "err_retrain", "err_model")
    for name, x in (("err_retrain", r), ("err_model", e)):
        if np.any(x < 0):
            raise ValueError(f"{name}: negative value(s); expected absolute errors |prediction - target|")
    alpha = _positive(alpha, "alpha")
    d = np.abs(r[None, :] - e[:, None]) if legacy_pairwise else np.abs(r - e)
    return float(np.exp(-d / alpha).mean())


def f_score(utility_value: float, forgetting_value: float) -> float:
    """F = Utility * Forgetting."""
    u = _positive(utility_value, "utility")
    f = float(forgetting_value)
    if not (0 <= f <= 1):
        raise ValueError(f"forgetting = {forgetting_value!r}: expected a value in [0, 1]")
    return u * f
