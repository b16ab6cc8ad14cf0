"""Cost of an unlearning method relative to retraining from scratch."""
from __future__ import annotations

import math
from numbers import Real

KEYS = ("wall_time_s", "optimizer_steps")


def _value(meta: dict, key: str, name: str, positive: bool) -> float:
    if not isinstance(meta, dict) or key not in meta:
        raise ValueError(f"{name}: missing key {key!r} (expected {list(KEYS)})")
    v = meta[key]
    if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v):
        raise ValueError(f"{name}[{key!r}] = {v!r}: expected a finite number")
    if v < 0 or (positive and v == 0):
        raise ValueError(f"{name}[{key!r}] = {v!r}: expected a number {'> 0' if positive else '>= 0'}")
    return float(v)


def steps_ratio(unlearn_meta: dict, retrain_meta: dict) -> float:
    """Optimizer steps of the unlearning run as a fraction of Retrain's (deterministic)."""
    return (_value(unlearn_meta, "optimizer_steps", "unlearn_meta", positive=False)
            / _value(retrain_meta, "optimizer_steps", "retrain_meta", positive=True))


def time_ratio(unlearn_timing: dict, retrain_timing: dict) -> float:
    """Measured wall time as a fraction of Retrain's (varies from run to run)."""
    return (_value(unlearn_timing, "wall_time_s", "unlearn_timing", positive=False)
            / _value(retrain_timing, "wall_time_s", "retrain_timing", positive=True))


def cost_ratio(unlearn_meta: dict, retrain_meta: dict) -> dict[str, float]:
    """Unlearning wall time and optimizer steps as fractions of Retrain's.

    Both dicts need ``wall_time_s`` and ``optimizer_steps``; Retrain's must be > 0.
    Returns ``{"time_ratio": ..., "steps_ratio": ...}``.
    """
    u = {k: _value(unlearn_meta, k, "unlearn_meta", positive=False) for k in KEYS}
    r = {k: _value(retrain_meta, k, "retrain_meta", positive=True) for k in KEYS}
    return {"time_ratio": u["wall_time_s"] / r["wall_time_s"],
            "steps_ratio": u["optimizer_steps"] / r["optimizer_steps"]}
