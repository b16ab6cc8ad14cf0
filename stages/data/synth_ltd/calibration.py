"""Calibration of the synthetic LTD birth rates to a mean annotated count per frame and a class mix.

By Little's law the mean number in view is rate x mean visible lifetime, so the rate of each behaviour is the
wanted mean count of its class share divided by the mean annotated frames per birth, estimated by Monte Carlo.
"""
from __future__ import annotations

import functools
from collections import Counter

import numpy as np

from stages.data.synth_ltd.behaviours import BEHAVIOURS, spawn
from stages.data.synth_ltd.occlusion import MIN_VISIBLE, intrinsic_visible

# share of each class in the mean count (riders count as humans)
CLASS_SHARE = {"human": 0.75, "vehicle": 0.17, "bicycle": 0.05, "motorcycle": 0.03}
CALIB_SAMPLES = 400                # Monte-Carlo births per behaviour to calibrate the birth rates


@functools.lru_cache(maxsize=8)
def _per_birth(seed: int, samples: int) -> dict[str, dict[str, float]]:
    """Monte-Carlo mean annotated frames per birth of each behaviour, by class (frame edge and mast only)."""
    rng = np.random.default_rng([seed, 2])
    per_birth = {}
    for kind in BEHAVIOURS:
        frames = Counter()
        for _ in range(samples):
            for o in spawn(kind, rng, rng.uniform(0, 1)):
                ts = o.alive(0, 10 ** 6)
                if len(ts):
                    frames[o.cls] += int((intrinsic_visible(o.box_at(ts)) >= MIN_VISIBLE).sum())
        per_birth[kind] = {c: n / samples for c, n in frames.items()}
    return per_birth


def calibrate_rates(mean_objects: float, seed: int, samples: int = CALIB_SAMPLES) -> dict[str, float]:
    """Birth rate (1/s) of each behaviour so the expected annotated count per frame per class is
    ``mean_objects * CLASS_SHARE`` (frame edge and mast included; mutual occlusion is not)."""
    per_birth = _per_birth(seed, samples)
    rates, riders = {}, 0.0
    for kind, (cls, share, _, _) in BEHAVIOURS.items():
        if cls != "human":
            rates[kind] = mean_objects * CLASS_SHARE[cls] * share / per_birth[kind][cls]
            riders += rates[kind] * per_birth[kind].get("human", 0.0)
    humans = max(0.0, mean_objects * CLASS_SHARE["human"] - riders)
    for kind, (cls, share, _, _) in BEHAVIOURS.items():
        if cls == "human":
            rates[kind] = humans * share / per_birth[kind]["human"]
    return rates
