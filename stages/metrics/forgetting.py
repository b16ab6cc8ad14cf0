"""Utility, Forgetting and F of the UTKFace thesis (seed 001, section 4.3).

- Utility = MAE_retrain / MAE_model on the test set (> 1: the model beats Retrain).
- Forgetting = mean over the forget set of exp(-|r_i - e_i| / alpha), r_i and e_i the absolute errors of
  Retrain and of the evaluated model on sample i (thesis eq. 4.2-4.4, alpha = 15).
- F = Utility * Forgetting (eq. 4.5).
- :func:`forgetting_legacy`: the number the thesis notebook actually computed (REFERENCE section 12), only to
  compare with the published values.
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

    ``legacy_pairwise=True`` averages exp(-|r_j - e_i| / alpha) over all N*N pairs of the two error vectors. This
    is NOT the thesis notebook's number (the notebook broadcast labels against predictions before taking the
    errors): use :func:`forgetting_legacy` for that. The per-sample formula is the documented one.
    """
    r, e = as_pair(err_retrain, err_model, "err_retrain", "err_model")
    for name, x in (("err_retrain", r), ("err_model", e)):
        if np.any(x < 0):
            raise ValueError(f"{name}: negative value(s); expected absolute errors |prediction - target|")
    alpha = _positive(alpha, "alpha")
    d = np.abs(r[None, :] - e[:, None]) if legacy_pairwise else np.abs(r - e)
    return float(np.exp(-d / alpha).mean())


def forgetting_legacy(y, retrain_pred, model_pred, alpha: float = 15.0) -> float:
    """The thesis notebook's Forgetting, broadcast included (REFERENCE section 12).

    The notebook's labels have shape (N,) and the Keras predictions (N, 1), so each absolute error broadcasts to
    an N x N matrix: legacy = mean over i, j of exp(-| |y_j - r_i| - |y_j - o_i| | / alpha), r = Retrain's and
    o = the evaluated model's predictions. Check case: y = [20, 25, 28], r = [24, 30, 22], o = [20, 26, 35],
    alpha = 15 -> 0.756954 (per sample, :func:`forgetting` on the errors: 0.822455). Only to compare with the
    published numbers.
    """
    def flat(x):  # (N,) or the notebook's (N, 1)
        x = np.asarray(x, dtype=np.float64)
        return x[:, 0] if x.ndim == 2 and x.shape[1] == 1 else x

    y, r = as_pair(flat(y), flat(retrain_pred), "y", "retrain_pred")
    r, o = as_pair(r, flat(model_pred), "retrain_pred", "model_pred")
    alpha = _positive(alpha, "alpha")
    err_r = np.abs(y[None, :] - r[:, None])   # [i, j] = |y_j - r_i|, as the notebook's broadcast
    err_o = np.abs(y[None, :] - o[:, None])
    return float(np.exp(-np.abs(err_r - err_o) / alpha).mean())


def f_score(utility_value: float, forgetting_value: float) -> float:
    """F = Utility * Forgetting."""
    u = _positive(utility_value, "utility")
    f = float(forgetting_value)
    if not (0 <= f <= 1):
        raise ValueError(f"forgetting = {forgetting_value!r}: expected a value in [0, 1]")
    return u * f
