"""Temporal clip-level splitting and training-set count rebalancing (LTD, seed 000)."""
from __future__ import annotations

import numpy as np
import pandas as pd


def split_clips(frames: pd.DataFrame, ratios: dict[str, float]) -> pd.Series:
    """Assign every clip (whole) to one split, spread uniformly over the recording period.

    Clips are ordered by capture time and dealt out like a stride scheduler: each clip goes to the split that is
    furthest behind its target share so far. Each split therefore receives clips from the whole period in
    proportion to its ratio, and the assignment is deterministic. Returns the split name per frame.
    """
    names = list(ratios)
    share = np.array([ratios[n] for n in names], float)
    clips = (frames.groupby(["date", "clip"], sort=False)["time"].min().reset_index()
             .sort_values(["time", "clip"]).reset_index(drop=True))
    given = np.zeros(len(names))
    assign = {}
    for i, row in clips.iterrows():
        deficit = share * (i + 1) - given
        k = int(np.argmax(deficit))  # ties -> first split (train)
        given[k] += 1
        assign[(row["date"], row["clip"])] = names[k]
    return pd.Series([assign[(d, c)] for d, c in zip(frames["date"], frames["clip"])], index=frames.index)


def rebalance(y: np.ndarray, high_percentile: float, high_keep: float, low_percentile: float, low_factor: int,
              seed: int) -> np.ndarray:
    """Row indices of the rebalanced training set (paper: sub-sample frequent high counts, up-sample rare low ones).

    Frames whose count is above the ``high_percentile``-th percentile are kept with probability ``high_keep``
    (an exact share, drawn without replacement); frames below the ``low_percentile``-th percentile appear
    ``low_factor`` times. The others appear once. Order: ascending row index.
    """
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    hi, lo = np.percentile(y, high_percentile), np.percentile(y, low_percentile)
    high = np.flatnonzero(y > hi)
    keep_high = rng.choice(high, size=int(round(high_keep * len(high))), replace=False) if len(high) else high
    reps = np.ones(len(y), int)
    reps[high] = 0
    reps[keep_high] = 1
    reps[y < lo] = low_factor
    return np.repeat(np.arange(len(y)), reps)
