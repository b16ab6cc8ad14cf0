"""Forgetting rows of a classifier (seeds 003 and 004: a random share, or one class).

Accuracies (share of correct argmax predictions): ``TA`` on the test split, ``RA`` on the retain set, ``FA`` on the
forget set. ``completeness`` (seed 003 eq. 17): share of test samples on which the model predicts the Original's
class (same repeat). Per-sample loss = cross-entropy of the logits.

Attacks (the starting kit's loss-based attack, :mod:`stages.metrics.membership`), members = the forget set:
- ``MIA``: non-members = held-out rows of the same kind (random forget set: the test split; one class: the test rows
  of that class), so the attack can only use membership; Retrain scores about 0.5;
- ``MIA_vs_all_test``: non-members = the whole test split (the naive choice; for a forgotten class it detects the
  class, not membership: seed 004);
- ``MIA_efficacy`` (SalUn / Unlearn-Sparse protocol, REFERENCE section 8, with the kit's loss-based logistic
  attack): fit on retain rows (members) vs test rows (non-members), balanced by sub-sampling; the share of forget
  rows it calls non-members (high = forgotten; ideal: Retrain's).
The per-example attacks (:mod:`stages.metrics.per_example`, from the logits) use MIA's populations.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from stages.core import paths
from stages.metrics import membership, per_example, regression
from stages.metrics.families import Family, pick


def cross_entropy(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-sample cross-entropy of logits (N, K) for labels (N,), numerically stable."""
    z = np.asarray(logits, np.float64)
    z = z - z.max(1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    return -logp[np.arange(len(y)), np.asarray(y, int)]


def accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.asarray(logits).argmax(1) == np.asarray(y))) if len(y) else float("nan")


def completeness(pred: np.ndarray, original_pred: np.ndarray) -> float:
    """Share of samples where the model's class equals the Original's (seed 003 eq. 17)."""
    return float(np.mean(np.asarray(pred) == np.asarray(original_pred)))


def mia_efficacy(retain_losses, test_losses, forget_losses, seed: int = 0) -> float:
    """Share of forget samples a loss-based attack trained on retain (members) vs test (non-members) calls
    non-members. The larger training population is sub-sampled to the smaller one's size (``seed``)."""
    r, t = regression.as_vector(retain_losses, "retain_losses"), regression.as_vector(test_losses, "test_losses")
    f = regression.as_vector(forget_losses, "forget_losses")
    if min(r.size, t.size) < membership.MIN_PER_CLASS or f.size == 0:
        raise ValueError(f"mia_efficacy: need {membership.MIN_PER_CLASS} retain and test samples and a forget set, "
                         f"got {r.size}, {t.size}, {f.size}")
    rng = np.random.default_rng(seed)
    n = min(r.size, t.size)
    r = r[np.sort(rng.choice(r.size, n, replace=False))] if r.size > n else r
    t = t[np.sort(rng.choice(t.size, n, replace=False))] if t.size > n else t
    clf = LogisticRegression().fit(np.r_[t, r].reshape(-1, 1), np.r_[np.zeros(n, int), np.ones(n, int)])
    return float(np.mean(clf.predict(f.reshape(-1, 1)) == 0))


class ClassificationMetrics(Family):
    LEGEND = {
        "TA": "test accuracy; ideal: Retrain's",
        "RA": "accuracy on the retain set; ideal: Retrain's",
        "FA": "accuracy on the forget set: a forgotten class drops to 0, a random forget set to about TA; ideal: Retrain's",
        "completeness": "share of test samples predicted as the Original predicts (seed 003 eq. 17); ideal: Retrain's",
        "MIA": "membership attack, forget rows vs held-out rows of the same kind (same class for a class request); "
               "0.5 = no trace; ideal: Retrain's (about 0.5)",
        "MIA_vs_all_test": "attack forget rows vs the whole test split (naive: for a class request it detects the "
                           "class, not membership, seed 004); ideal: Retrain's",
        "MIA_efficacy": "share of forget rows that an attack trained on retain vs test calls non-members (SalUn); "
                        "ideal: Retrain's",
        **per_example.LEGEND,
    }

    def set_up(self, train, test):
        task = self.task
        self.retain_rows = np.flatnonzero(task.retain_rows(train))
        self.y_retain = task.original_target(train)[self.retain_rows]
        self.like_test = np.flatnonzero(task.forget_rows(test))
        self.K = task.classes
        f = paths.model(task.name, "original", "_preds.csv", task.root)
        self.original = pd.read_csv(f)  # completeness compares every model with the Original (same repeat)

    def _logits(self, preds, split, repeat):
        cols = [f"out_{k}" for k in range(self.K)]
        return np.stack([pick(preds, split, repeat, c) for c in cols], 1)

    def populations(self):
        return {"test": len(self.y_test), "member": len(self.member_rows), "retain": len(self.retain_rows),
                "nonmember": len(self.like_test)}

    def prepare(self, preds, repeat):
        test, train = self._logits(preds, "test", repeat), self._logits(preds, "train", repeat)
        return {"test": test, "member": train[self.member_rows], "retain": train[self.retain_rows],
                "nonmember": test[self.like_test],
                "original_test": self._logits(self.original, "test", repeat).argmax(1)}

    def _idx(self, idx, pop, n):
        return self.take(np.arange(n), idx, pop)

    def metrics(self, p, ref, idx):
        t = self._idx(idx, "test", len(self.y_test))
        m = self._idx(idx, "member", len(self.member_rows))
        r = self._idx(idx, "retain", len(self.retain_rows))
        return {"TA": accuracy(p["test"][t], self.y_test[t]), "RA": accuracy(p["retain"][r], self.y_retain[r]),
                "FA": accuracy(p["member"][m], self.y_member[m]),
                "completeness": completeness(p["test"][t].argmax(1), p["original_test"][t])}

    def _losses(self, p, idx):
        """Per population: (per-sample losses, sample ids: which samples of the population they are)."""
        m = self._idx(idx, "member", len(self.member_rows))
        n = self._idx(idx, "nonmember", len(self.like_test))
        t = self._idx(idx, "test", len(self.y_test))
        r = self._idx(idx, "retain", len(self.retain_rows))
        return {"member": (cross_entropy(p["member"][m], self.y_member[m]), m),
                "nonmember": (cross_entropy(p["nonmember"][n], self.y_test[self.like_test][n]), n),
                "test": (cross_entropy(p["test"][t], self.y_test[t]), t),
                "retain": (cross_entropy(p["retain"][r], self.y_retain[r]), r)}

    def attacks(self, p, ref, idx, seed):
        loss, splits = self._losses(p, idx), self.cfg["mia_splits"]
        (m, mi), (n, ni), (t, ti) = loss["member"], loss["nonmember"], loss["test"]
        return {"MIA": membership.mia_accuracy(m, n, seed=seed, n_splits=splits, member_ids=mi, nonmember_ids=ni),
                "MIA_vs_all_test": membership.mia_accuracy(m, t, seed=seed, n_splits=splits, member_ids=mi,
                                                           nonmember_ids=ti),
                "MIA_efficacy": mia_efficacy(loss["retain"][0], t, m, seed=seed)}

    def per_example(self, p):
        return per_example.Signals("logits", per_example.classification_signals(p["member"], self.y_member),
                                   per_example.classification_signals(p["nonmember"], self.y_test[self.like_test]))

    def per_example_rows(self, idx):
        return self._idx(idx, "member", len(self.member_rows)), self._idx(idx, "nonmember", len(self.like_test))

    HIST_LABELS = ("members: forget set", "non-members: held-out rows of the same kind")

    def histogram(self, p):
        loss = self._losses(p, None)
        return regression.loss_histograms(loss["member"][0], loss["nonmember"][0], bins=self.cfg["hist_bins"])
