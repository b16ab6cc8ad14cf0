"""Temporal clip-level splitting and training-set count rebalancing (LTD, seed 000); the checks a prepare stage
runs before it splits: split sizes, labels within the declared classes, classes a stratified split can serve."""
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


class TooSmall(ValueError):
    """A split (or the rebalanced / augmented training set) is empty or smaller than the stage's minimum."""


def check_size(what: str, size: int, minimum: int, key: str, unit: str = "frames", hint: str = "") -> None:
    """Stop with a message naming ``what``, its ``size`` and the minimum (``key`` in params.yaml) when
    ``size`` is 0 or below ``minimum`` (never below 1: an empty split always stops)."""
    minimum = max(int(minimum), 1)
    if size < minimum:
        raise TooSmall(f"{what} has {size} {unit}, fewer than the minimum {minimum} ({key})"
                       f"{'; ' + hint if hint else ''}")


class LabelError(ValueError):
    """A label outside the dataset's declared classes, or a test class that the training data lacks."""


def check_labels(path, labels: np.ndarray, classes: int, dataset: str) -> None:
    """Stop naming ``path``, its first row whose label is not a class index 0..classes-1, and how many are."""
    bad = np.flatnonzero((labels < 0) | (labels >= classes))
    if len(bad):
        raise LabelError(f"{path}: row {bad[0]} has label {labels[bad[0]]}, outside 0..{classes - 1}, the {classes} "
                         f"{dataset} classes ({len(bad)} of {len(labels)} rows out of range)")


def check_stratified(where: str, labels: np.ndarray, parts: dict[str, int], hint: str = "") -> None:
    """Stop naming ``where`` when a stratified split of ``labels`` into ``parts`` (name -> size) is impossible:
    a class with fewer images than there are parts, or a part (sized by the setting ``hint``) smaller than the
    number of classes."""
    counts = np.bincount(labels)
    present = np.flatnonzero(counts)
    low = present[counts[present] < len(parts)]
    if len(low):
        c = low[0]
        raise TooSmall(f"{where}: class {c} has {counts[c]} image(s), fewer than the {len(parts)} that a stratified "
                       f"split ({' / '.join(parts)}) needs, one per part ({len(low)} class(es) below it); add images "
                       f"of class {c} or remove the class from the files")
    for name, size in parts.items():
        if size < len(present):
            raise TooSmall(f"{where}: the {name} part of a stratified split would hold {size} image(s), fewer than "
                           f"the {len(present)} classes (one of each){'; change ' + hint if hint else ''}")


def check_test_classes(train: str, y_train: np.ndarray, test: str, y_test: np.ndarray, rows: np.ndarray,
                       hint: str = "") -> None:
    """Stop naming both files when a class of ``y_test`` (file rows ``rows``) is absent from ``y_train``:
    a model cannot learn a class it never sees, and its test accuracy on that class would be meaningless."""
    missing = np.setdiff1d(y_test, y_train)
    if len(missing):
        c = missing[0]
        hits = np.flatnonzero(y_test == c)
        after = f" ({hint})" if hint else ""
        raise LabelError(f"{test}: class {c} ({len(hits)} rows, first row {rows[hits[0]]}) is absent from the "
                         f"training data {train}{after}; a model cannot learn a class it never sees: add training "
                         f"images of class {c} or remove it from the test files")


def rebalance(y: np.ndarray, high_percentile: float, high_keep: float, low_percentile: float, low_factor: int,
              seed: int) -> np.ndarray:
    """Row indices of the rebalanced training set (paper: sub-sample frequent high counts, up-sample rare low ones).

    Frames whose count is above the ``high_percentile``-th percentile are kept with probability ``high_keep``
    (an exact share, drawn without replacement, at least one of them); frames below the ``low_percentile``-th
    percentile appear ``low_factor`` times. The others appear once. Order: ascending row index.

    The percentiles are counts that occur (numpy's ``inverted_cdf``: the smallest count c with at least p % of the
    frames at or below c), not values interpolated between two counts. So at most ``100 - high_percentile`` % of
    the frames are sub-sampled and fewer than ``low_percentile`` % up-sampled, at any split size: on a 2-frame
    split with counts 1 and 3 both frames stay once (interpolation made 3 "high" and 1 "low", and the split
    became the first frame twice). On a large split of integer counts both definitions agree.
    """
    y = np.asarray(y)
    if len(y) == 0:
        return np.zeros(0, np.int64)
    rng = np.random.default_rng(seed)
    hi = np.percentile(y, high_percentile, method="inverted_cdf")
    lo = np.percentile(y, low_percentile, method="inverted_cdf")
    high = np.flatnonzero(y > hi)
    n_keep = max(1, int(round(high_keep * len(high)))) if len(high) else 0
    keep_high = rng.choice(high, size=n_keep, replace=False) if len(high) else high
    reps = np.ones(len(y), int)
    reps[high] = 0
    reps[keep_high] = 1
    reps[y < lo] = low_factor
    return np.repeat(np.arange(len(y)), reps)
