"""Loss-based membership inference attack of the NeurIPS 2023 Machine Unlearning Challenge starting kit.

The kit takes the per-sample losses of forget-set samples (members, label 1) and test samples
(non-members, label 0), sub-samples the larger group to the size of the smaller one, and reports the mean
accuracy of a default ``LogisticRegression`` on the loss alone under ``StratifiedShuffleSplit`` (default
test size) cross-validation. 0.5 means the attacker cannot tell forgotten from unseen samples. For the
regression tasks the loss is the per-sample absolute or squared error.
"""
from __future__ import annotations

import math

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedShuffleSplit

from stages.metrics.regression import as_vector

# With the default 10 % test share, 2 * 5 samples would leave a single test sample for 2 classes
# (StratifiedShuffleSplit refuses); 10 per class is the smallest size we accept for a meaningful score.
MIN_PER_CLASS = 10
TEST_SHARE = 0.1  # StratifiedShuffleSplit's default test share: ceil(0.1 n) test rows of n


def mia_accuracy(member_losses, nonmember_losses, seed: int = 0, n_splits: int = 10, member_ids=None,
                 nonmember_ids=None) -> float:
    """Mean cross-validated accuracy of the starting-kit attack.

    The larger group is sub-sampled without replacement to the size of the smaller one, with
    ``np.random.default_rng(seed)``: the kit only has more members (forget) than non-members (test);
    when non-members outnumber members they are the ones sub-sampled. ``seed`` is also the
    ``random_state`` of the ``StratifiedShuffleSplit``, so a fixed seed gives a fixed result.

    ``member_ids``/``nonmember_ids``: which sample each loss belongs to (a bootstrap replicate repeats samples).
    Where a sample repeats, the splits assign samples, not rows (:func:`_sample_splits`): every copy of a sample lands
    on one side, so the attack is never tested on a sample it was fitted on (which biases a replicate's accuracy
    upward, by about 0.01-0.02 on null data of a few hundred samples). Without repeats the splits are the kit's.
    """
    m = as_vector(member_losses, "member_losses")
    nm = as_vector(nonmember_losses, "nonmember_losses")
    if min(m.size, nm.size) < MIN_PER_CLASS:
        raise ValueError(f"mia_accuracy: need at least {MIN_PER_CLASS} members and non-members, "
                         f"got {m.size} and {nm.size}")
    if isinstance(n_splits, bool) or int(n_splits) != n_splits or n_splits < 1:
        raise ValueError(f"n_splits = {n_splits!r}: expected a positive integer")
    mid = _ids(member_ids, m.size, "member_ids")
    nid = _ids(nonmember_ids, nm.size, "nonmember_ids")
    rng = np.random.default_rng(seed)
    n = min(m.size, nm.size)
    if m.size > n:
        keep = np.sort(rng.choice(m.size, n, replace=False))
        m, mid = m[keep], mid[keep]
    elif nm.size > n:
        keep = np.sort(rng.choice(nm.size, n, replace=False))
        nm, nid = nm[keep], nid[keep]
    x = np.concatenate([nm, m]).reshape(-1, 1)
    y = np.r_[np.zeros(n, dtype=int), np.ones(n, dtype=int)]
    key = np.r_[nid, mid] * 2 + y  # one value per sample; a member and a non-member never share one
    if np.unique(key).size == y.size:  # every row its own sample: the kit's split
        splits = StratifiedShuffleSplit(n_splits=int(n_splits), random_state=seed).split(x, y)
    else:
        splits = _sample_splits(key, y, int(n_splits), math.ceil(TEST_SHARE * y.size), seed)
    # = cross_val_score(LogisticRegression(), x, y, cv=splits, scoring="accuracy").mean(), without its per-call
    # overhead (the bootstrap runs the attack thousands of times): the accuracy of the fitted model's own decision
    # (decision_function > 0, what LogisticRegression.predict does for two classes)
    scores = []
    for tr, te in splits:
        clf = LogisticRegression().fit(x[tr], y[tr])
        pred = (x[te, 0] * clf.coef_[0, 0] + clf.intercept_[0] > 0).astype(int)
        scores.append(float(np.mean(clf.classes_[pred] == y[te])))
    return float(np.mean(scores))


def _sample_splits(key: np.ndarray, y: np.ndarray, n_splits: int, n_test: int, seed: int):
    """Stratified shuffle splits of rows that repeat samples (``key``: one value per sample): each test fold holds
    the kit's number of rows of each class (n_test split evenly, an odd row to a random class), filled with whole
    samples in random order (a sample whose copies would overflow the count is skipped). Every copy of a sample is
    on one side, and the folds' classes are exactly as balanced as the kit's: an unbalanced training fold would tilt
    the fitted attack against the class the test fold holds more of, a downward bias."""
    rng = np.random.default_rng(seed)
    per_class = [np.unique(key[y == c], return_inverse=True, return_counts=True) for c in (0, 1)]
    rows = [np.flatnonzero(y == c) for c in (0, 1)]
    for _ in range(n_splits):
        extra = int(rng.integers(2)) if n_test % 2 else -1
        test = np.zeros(y.size, bool)
        for c, (samples, inverse, counts) in enumerate(per_class):
            want, have = n_test // 2 + (c == extra), 0
            chosen = np.zeros(samples.size, bool)
            for i in rng.permutation(samples.size):
                if have + counts[i] <= want:
                    chosen[i], have = True, have + counts[i]
                if have == want:
                    break
            test[rows[c]] = chosen[inverse.ravel()]
        yield np.flatnonzero(~test), np.flatnonzero(test)


def _ids(ids, size: int, name: str) -> np.ndarray:
    """Sample ids of ``size`` losses (default: every loss its own sample)."""
    if ids is None:
        return np.arange(size)
    a = np.asarray(ids)
    if a.shape != (size,) or not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name}: expected {size} integer sample ids, got shape {a.shape} of {a.dtype}")
    return a.astype(np.int64)


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
