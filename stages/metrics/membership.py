"""Loss-based membership inference attack of the NeurIPS 2023 Machine Unlearning Challenge starting kit.

The kit takes the per-sample losses of forget-set samples (members, label 1) and test samples
(non-members, label 0), sub-samples the larger group to the size of the smaller one, and reports the mean
accuracy of a default ``LogisticRegression`` on the loss alone under ``StratifiedShuffleSplit`` (default
test size) cross-validation. 0.5 means the attacker cannot tell forgotten from unseen samples. For the
regression tasks the loss is the per-sample absolute or squared error.
"""
from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedShuffleSplit

from stages.metrics.regression import as_vector

# With the default 10 % test share, 2 * 5 samples would leave a single test sample for 2 classes
# (StratifiedShuffleSplit refuses); 10 per class is the smallest size we accept for a meaningful score.
MIN_PER_CLASS = 10


def mia_accuracy(member_losses, nonmember_losses, seed: int = 0, n_splits: int = 10) -> float:
    """Mean cross-validated accuracy of the starting-kit attack.

    The larger group is sub-sampled without replacement to the size of the smaller one, with
    ``np.random.default_rng(seed)``: the kit only has more members (forget) than non-members (test);
    when non-members outnumber members they are the ones sub-sampled. ``seed`` is also the
    ``random_state`` of the ``StratifiedShuffleSplit``, so a fixed seed gives a fixed result.
    """
    m = as_vector(member_losses, "member_losses")
    nm = as_vector(nonmember_losses, "nonmember_losses")
    if min(m.size, nm.size) < MIN_PER_CLASS:
        raise ValueError(f"mia_accuracy: need at least {MIN_PER_CLASS} members and non-members, "
                         f"got {m.size} and {nm.size}")
    if isinstance(n_splits, bool) or int(n_splits) != n_splits or n_splits < 1:
        raise ValueError(f"n_splits = {n_splits!r}: expected a positive integer")
    rng = np.random.default_rng(seed)
    n = min(m.size, nm.size)
    if m.size > n:
        m = m[np.sort(rng.choice(m.size, n, replace=False))]
    elif nm.size > n:
        nm = nm[np.sort(rng.choice(nm.size, n, replace=False))]
    x = np.concatenate([nm, m]).reshape(-1, 1)
    y = np.r_[np.zeros(n, dtype=int), np.ones(n, dtype=int)]
    cv = StratifiedShuffleSplit(n_splits=int(n_splits), random_state=seed)
    # = cross_val_score(LogisticRegression(), x, y, cv=cv, scoring="accuracy").mean(), without its per-call
    # overhead (the bootstrap runs the attack thousands of times): the accuracy of the fitted model's own decision
    # (decision_function > 0, what LogisticRegression.predict does for two classes)
    scores = []
    for tr, te in cv.split(x, y):
        clf = LogisticRegression().fit(x[tr], y[tr])
        pred = (x[te, 0] * clf.coef_[0, 0] + clf.intercept_[0] > 0).astype(int)
        scores.append(float(np.mean(clf.classes_[pred] == y[te])))
    return float(np.mean(scores))


def matched(a_values, b_values, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices into ``a_values`` and ``b_values`` with the same number of samples per value (e.g. per object
    count): for every value both populations hold, min(count in a, count in b) drawn without replacement from
    each. A membership attack on the matched populations cannot be driven by that value's distribution."""
    a, b = np.asarray(a_values), np.asarray(b_values)
    ia, ib = [], []
    for v in np.intersect1d(a, b):
        xa, xb = np.flatnonzero(a == v), np.flatnonzero(b == v)
        k = min(len(xa), len(xb))
        ia.append(rng.choice(xa, k, replace=False))
        ib.append(rng.choice(xb, k, replace=False))
    if not ia:
        return np.zeros(0, int), np.zeros(0, int)
    return np.sort(np.concatenate(ia)), np.sort(np.concatenate(ib))
