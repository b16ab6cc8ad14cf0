"""Births of the synthetic LTD objects: a gamma renewal process per behaviour, and the objects in view of a clip."""
from __future__ import annotations

import numpy as np

from stages.data.synth_ltd.behaviours import BEHAVIOURS, spawn
from stages.data.synth_ltd.motion import Obj

ARRIVAL_SHAPE = 4.0                # births are a gamma renewal process: more regular than Poisson, which offsets
                                   # the clumping of groups and riders, so counts stay Poisson-like (var ~ mean)


def birth_times(rng: np.random.Generator, rate: float, t_start: float, t_end: float) -> np.ndarray:
    """Gamma-renewal births (shape ARRIVAL_SHAPE, mean rate ``rate``) in [t_start, t_end), random phase."""
    if rate <= 0:
        return np.zeros(0)
    t, chunks = t_start - rng.uniform(0, 1 / rate), []
    while t < t_end:
        gaps = rng.gamma(ARRIVAL_SHAPE, 1 / (ARRIVAL_SHAPE * rate), int(rate * (t_end - t)) + 8)
        chunks.append(t + np.cumsum(gaps))
        t = chunks[-1][-1]
    ts = np.concatenate(chunks)
    return ts[(ts >= t_start) & (ts < t_end)]


def simulate_clip(rng: np.random.Generator, rates: dict[str, float], n_frames: int) -> list[Obj]:
    """All objects in view during [0, n_frames), births simulated from -cap so the clip starts in steady state."""
    objs = []
    for kind, lam in rates.items():
        cap = BEHAVIOURS[kind][3]
        for t0 in birth_times(rng, lam, -cap, n_frames):
            for o in spawn(kind, rng, float(t0)):
                ts = o.alive(0, n_frames)
                if len(ts):
                    o.boxes = dict(zip(ts.tolist(), map(tuple, o.box_at(ts).tolist())))
                    o.depth = dict(zip(ts.tolist(), (o.xz(ts)[:, 1] + o.depth_bias).tolist()))
                    objs.append(o)
    return objs
