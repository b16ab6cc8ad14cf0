"""Cost of an unlearning method relative to retraining from scratch."""
from __future__ import annotations

import math
from numbers import Real

KEYS = ("wall_time_s", "optimizer_steps", "images_seen")


def _value(meta: dict, key: str, name: str, positive: bool) -> float:
    if not isinstance(meta, dict) or key not in meta:
        raise ValueError(f"{name}: missing key {key!r} (expected {list(KEYS)})")
    v = meta[key]
    if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v):
        raise ValueError(f"{name}[{key!r}] = {v!r}: expected a finite number")
    if v < 0 or (positive and v == 0):
        raise ValueError(f"{name}[{key!r}] = {v!r}: expected a number {'> 0' if positive else '>= 0'}")
    return float(v)


def _ratio(unlearn: dict, retrain: dict, key: str, names: tuple[str, str]) -> float:
    """``unlearn[key] / retrain[key]``, both checked (Retrain's must be > 0)."""
    return _value(unlearn, key, names[0], positive=False) / _value(retrain, key, names[1], positive=True)


def steps_ratio(unlearn_meta: dict, retrain_meta: dict) -> float:
    """Optimizer steps of the unlearning run as a fraction of Retrain's (deterministic)."""
    return _ratio(unlearn_meta, retrain_meta, "optimizer_steps", ("unlearn_meta", "retrain_meta"))


def images_ratio(unlearn_meta: dict, retrain_meta: dict) -> float:
    """Images processed (forward and backward) by the unlearning run as a fraction of Retrain's (deterministic)."""
    return _ratio(unlearn_meta, retrain_meta, "images_seen", ("unlearn_meta", "retrain_meta"))


def time_ratio(unlearn_timing: dict, retrain_timing: dict, names=("unlearn_timing", "retrain_timing")) -> float:
    """Measured wall time as a fraction of Retrain's (varies from run to run)."""
    return _ratio(unlearn_timing, retrain_timing, "wall_time_s", names)


def cost_ratio(unlearn_meta: dict, retrain_meta: dict) -> dict[str, float]:
    """Unlearning wall time and optimizer steps as fractions of Retrain's.

    Both dicts need ``wall_time_s`` and ``optimizer_steps``; Retrain's must be > 0.
    Returns ``{"time_ratio": ..., "steps_ratio": ...}``.
    """
    return {"time_ratio": time_ratio(unlearn_meta, retrain_meta, ("unlearn_meta", "retrain_meta")),
            "steps_ratio": steps_ratio(unlearn_meta, retrain_meta)}
