"""Representation probe: does a model's frozen penultimate representation still encode the forgotten concept?

A heatmap can move away from the forgotten objects while the features still carry them; a linear probe on the
features asks directly. For every model, the probe is fitted on one half of held-out data (samples no model
trained on) and scored on the other half:

- ``r2`` (a count, e.g. the number of humans in an LTD frame): standardised features, ridge regression with its
  penalty chosen by leave-one-out on the fitting half (``RidgeCV``), R^2 on the scoring half;
- ``balanced_accuracy`` (membership of a group, e.g. the forgotten age group, or a class label among K): standardised
  features, a class-balanced L2 logistic regression, balanced accuracy on the scoring half (1/K = chance).

Retrain's value is the floor a model that never learned the concept reaches (the concept may still be partly
predictable from what must remain, e.g. crowded frames hold more humans); the Original's is the ceiling.
"""
from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.metrics import balanced_accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

KINDS = ("r2", "balanced_accuracy")
ALPHAS = np.logspace(-2, 5, 15)


def halves(target: np.ndarray, kind: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A random half split of the samples (stratified by class for ``balanced_accuracy``)."""
    idx = np.arange(len(target))
    strat = target if kind == "balanced_accuracy" else None
    a, b = train_test_split(idx, test_size=0.5, random_state=seed, stratify=strat)
    return np.sort(a), np.sort(b)


def score(features: np.ndarray, target: np.ndarray, kind: str, fit_idx: np.ndarray, score_idx: np.ndarray) -> float:
    """Fit the probe on ``fit_idx`` and score it on ``score_idx``."""
    if kind not in KINDS:
        raise ValueError(f"probe kind {kind!r}: expected one of {KINDS}")
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(target)
    if x.ndim != 2 or len(x) != len(y):
        raise ValueError(f"probe: features of shape {x.shape} for {len(y)} targets")
    if kind == "r2":
        model = make_pipeline(StandardScaler(), RidgeCV(alphas=ALPHAS))
        model.fit(x[fit_idx], y[fit_idx].astype(np.float64))
        return float(r2_score(y[score_idx], model.predict(x[score_idx])))
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, class_weight="balanced", max_iter=2000))
    model.fit(x[fit_idx], y[fit_idx].astype(int))
    return float(balanced_accuracy_score(y[score_idx].astype(int), model.predict(x[score_idx])))


def check_target(target: np.ndarray, kind: str, where: str) -> None:
    """A probe needs variation: both classes on each half (classification) or a non-constant count."""
    y = np.asarray(target)
    if kind == "balanced_accuracy":
        counts = np.unique(y.astype(int), return_counts=True)[1]
        if len(counts) < 2 or counts.min() < 4:
            raise ValueError(f"{where}: the probe needs at least 2 classes with 4 held-out samples each, got "
                             f"{counts.tolist()}")
    elif len(y) < 8 or np.all(y == y[0]):
        raise ValueError(f"{where}: the probe needs at least 8 held-out samples with a varying target")
