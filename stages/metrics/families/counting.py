"""Counting with a forgotten class (seed 000; LTD: forget the humans, y' = y - humans).

Metrics on the test split: MAE/RMSE on y' (what must remain) and on y. Two attacks (the starting kit's
loss-based attack, :mod:`stages.metrics.membership`):

- ``MIA`` (membership): members = the training frames holding the forget class (each frame once, as it was
  trained on, up-sampled copies counted once), non-members = held-out (test) frames holding it; per-sample loss on
  y, the count *with* the forget class. A model that still fits the forgotten objects of its own training frames
  has lower loss on them than on unseen ones. The two populations are matched on y (same number of frames per
  count) so the training split's rebalancing, which changes its count distribution, cannot drive the attack.
  Retrain never fitted y on either, so it scores about 0.5.
- ``human_leak`` (concept leakage): held-out frames with the forget class vs without, matched on y'; per-sample
  loss on y'. A model that still counts the forgotten class over-counts the first group. Retrain about 0.5.

The per-example attacks (:mod:`stages.metrics.per_example`, Gaussian likelihood of y) take the same members and
every held-out frame with the class, unmatched: each frame is compared with Retrain's outputs on that frame, which
already carry its count, so the count distribution cannot drive them.
"""
from __future__ import annotations

import numpy as np

from stages.metrics import membership, per_example, regression
from stages.metrics.families import Family, pick


class CountingMetrics(Family):
    LEGEND = {
        "MAE": "test mean absolute error on y' (count without the forgotten class); ideal: Retrain's",
        "RMSE": "test root mean squared error on y'; ideal: Retrain's",
        "MAE_y": "test MAE on y (count with the forgotten class): low = still counts it; ideal: Retrain's",
        "MIA": "membership attack, trained frames with the class vs held-out ones, loss on y; 0.5 = no trace; ideal: Retrain's (about 0.5)",
        "human_leak": "held-out frames with vs without the class (matched on y'), loss on y'; ideal: Retrain's (about 0.5)",
        **per_example.LEGEND,
    }

    def copies(self, train):
        # members: trained frames with the class, each file once (rebalancing may have duplicated some)
        return train["file_name"].duplicated().to_numpy() if "file_name" in train else None

    def set_up(self, train, test):
        self.yp_test, self.has_test = self.task.retain_target(test), self.task.forget_rows(test)

    def populations(self):
        return {"test": len(self.y_test), "member": len(self.member_rows)}

    def prepare(self, preds, repeat):
        return {"test": pick(preds, "test", repeat), "member": pick(preds, "train", repeat)[self.member_rows]}

    def metrics(self, p, ref, idx):
        t = self.take(np.arange(len(self.y_test)), idx, "test")
        pt = p["test"][t]
        return {"MAE": regression.mae(pt, self.yp_test[t]), "RMSE": regression.rmse(pt, self.yp_test[t]),
                "MAE_y": regression.mae(pt, self.y_test[t])}

    def _loss(self, pred, target):
        return regression.per_sample_loss(pred, target, self.cfg["loss"])

    def _membership_rows(self, idx, rng):
        """(members: indices into member_rows, non-members: test rows with the class), matched on y."""
        m = self.take(np.arange(len(self.member_rows)), idx, "member")
        t = self.take(np.arange(len(self.y_test)), idx, "test")
        t = t[self.has_test[t]]
        im, it = membership.matched(self.y_member[m], self.y_test[t], rng)
        return m[im], t[it]

    def _membership(self, p, idx, rng):
        """(member losses, non-member losses, their sample ids)."""
        m, t = self._membership_rows(idx, rng)
        return self._loss(p["member"][m], self.y_member[m]), self._loss(p["test"][t], self.y_test[t]), m, t

    def _leak_rows(self, idx, rng):
        """(test rows with the class, test rows without), matched on y'."""
        t = self.take(np.arange(len(self.y_test)), idx, "test")
        w, wo = t[self.has_test[t]], t[~self.has_test[t]]
        iw, iwo = membership.matched(self.yp_test[w], self.yp_test[wo], rng)
        return w[iw], wo[iwo]

    def _leak(self, p, idx, rng):
        """(losses of frames with the class, without, their sample ids)."""
        w, wo = self._leak_rows(idx, rng)
        return self._loss(p["test"][w], self.yp_test[w]), self._loss(p["test"][wo], self.yp_test[wo]), w, wo

    def attacks(self, p, ref, idx, seed):
        rng = np.random.default_rng(seed)
        splits = self.cfg["mia_splits"]
        member, nonmember, mi, ni = self._membership(p, idx, rng)
        with_, without, wi, woi = self._leak(p, idx, rng)
        return {"MIA": membership.mia_accuracy(member, nonmember, seed=seed, n_splits=splits, member_ids=mi,
                                               nonmember_ids=ni),
                "human_leak": membership.mia_accuracy(with_, without, seed=seed, n_splits=splits, member_ids=wi,
                                                      nonmember_ids=woi)}

    def per_example(self, p):
        # every test frame (the non-members are those with the class: per_example_rows); squared error on y
        return per_example.Signals("gaussian", (p["member"] - self.y_member) ** 2, (p["test"] - self.y_test) ** 2)

    def per_example_rows(self, idx):
        t = self.take(np.arange(len(self.y_test)), idx, "test")
        return self.take(np.arange(len(self.member_rows)), idx, "member"), t[self.has_test[t]]

    HIST_LABELS = ("members: trained frames with the class (loss on y)", "non-members: held-out frames with it")

    def histogram(self, p):
        member, nonmember, _, _ = self._membership(p, None, np.random.default_rng(self.cfg["mia_seed"]))
        return regression.loss_histograms(member, nonmember, bins=self.cfg["hist_bins"])
