"""Forgetting a group in regression (seed 001; UTKFace: forget an age group).

On the test split: MAE, RMSE, Utility = MAE_retrain / MAE (paired: same samples, same repeat). On the forget set's
real rows (never augmented copies): MAE_forget, Forgetting = mean exp(-|r_i - e_i| / alpha) (r, e: Retrain's and
the model's absolute errors), F = Utility x Forgetting.

Attacks (the starting kit's loss-based attack, :mod:`stages.metrics.membership`), members = the forget set's real
rows in both:
- ``MIA``: non-members = held-out (test) faces of the same group: the attack can only use membership, not age;
  Retrain, which saw neither, scores about 0.5.
- ``MIA_vs_all_test``: non-members = the whole test split (the thesis' and the kit's naive choice); with a
  single-group forget set it also detects the group's different error level (seed 004, REFERENCE section 8).
The per-example attacks (:mod:`stages.metrics.per_example`, Gaussian likelihood of the age) use MIA's populations.
"""
from __future__ import annotations

import numpy as np

from stages.metrics import forgetting, membership, per_example, regression
from stages.metrics.families import Family, pick


class AgeForgettingMetrics(Family):
    LEGEND = {
        "MAE": "test mean absolute error (years), all ages; ideal: Retrain's",
        "RMSE": "test root mean squared error (years); ideal: Retrain's",
        "MAE_forget": "MAE on the forget set's real faces: high = forgotten; ideal: Retrain's",
        "Utility": "MAE_retrain / MAE on the test split; ideal: 1 (Retrain's); above 1 is not better, only different",
        "Forgetting": "mean exp(-|r_i - e_i| / alpha) over the forget set, r/e Retrain's/model's errors; ideal: 1 (Retrain's)",
        "F": "Utility x Forgetting; ideal: 1 (Retrain's)",
        "MIA": "membership attack, forget faces vs held-out faces of the same group; 0.5 = no trace; ideal: Retrain's (about 0.5)",
        "MIA_vs_all_test": "attack forget faces vs the whole test split (naive: also detects the group's error level); ideal: Retrain's",
        **per_example.LEGEND,
    }

    def copies(self, train):
        return train["augmented"].to_numpy(bool) if "augmented" in train else None  # augmented copies of real faces

    def set_up(self, train, test):
        self.group_test = np.flatnonzero(self.task.forget_rows(test))

    def populations(self):
        return {"test": len(self.y_test), "member": len(self.member_rows), "nonmember": len(self.group_test)}

    def prepare(self, preds, repeat):
        test = pick(preds, "test", repeat)
        return {"test": test, "member": pick(preds, "train", repeat)[self.member_rows],
                "nonmember": test[self.group_test]}

    def metrics(self, p, ref, idx):
        t = self.take(np.arange(len(self.y_test)), idx, "test")
        m = self.take(np.arange(len(self.member_rows)), idx, "member")
        y_t, y_m = self.y_test[t], self.y_member[m]
        res = {"MAE": regression.mae(p["test"][t], y_t), "RMSE": regression.rmse(p["test"][t], y_t),
               "MAE_forget": regression.mae(p["member"][m], y_m)}
        res["Utility"] = forgetting.utility(regression.mae(ref["test"][t], y_t), res["MAE"])
        err_m, err_r = np.abs(p["member"][m] - y_m), np.abs(ref["member"][m] - y_m)
        res["Forgetting"] = forgetting.forgetting(err_r, err_m, alpha=self.cfg["alpha"])
        res["F"] = forgetting.f_score(res["Utility"], res["Forgetting"])
        return res

    def _losses(self, p, idx):
        """(member, non-member, test) per-sample losses, each with its sample ids (positions in its population)."""
        m = self.take(np.arange(len(self.member_rows)), idx, "member")
        n = self.take(np.arange(len(self.group_test)), idx, "nonmember")
        t = self.take(np.arange(len(self.y_test)), idx, "test")
        loss = lambda a, b: regression.per_sample_loss(a, b, self.cfg["loss"])  # noqa: E731
        return ((loss(p["member"][m], self.y_member[m]), m),
                (loss(p["nonmember"][n], self.y_test[self.group_test][n]), n), (loss(p["test"][t], self.y_test[t]), t))

    def attacks(self, p, ref, idx, seed):
        (member, mi), (nonmember, ni), (test, ti) = self._losses(p, idx)
        splits = self.cfg["mia_splits"]
        return {"MIA": membership.mia_accuracy(member, nonmember, seed=seed, n_splits=splits, member_ids=mi,
                                               nonmember_ids=ni),
                "MIA_vs_all_test": membership.mia_accuracy(member, test, seed=seed, n_splits=splits, member_ids=mi,
                                                           nonmember_ids=ti)}

    def per_example(self, p):
        return per_example.Signals("gaussian", (p["member"] - self.y_member) ** 2,
                                   (p["nonmember"] - self.y_test[self.group_test]) ** 2)

    def per_example_rows(self, idx):
        return (self.take(np.arange(len(self.member_rows)), idx, "member"),
                self.take(np.arange(len(self.group_test)), idx, "nonmember"))

    HIST_LABELS = ("members: forget set (real faces)", "non-members: held-out faces of the group")

    def histogram(self, p):
        (member, _), (nonmember, _), _ = self._losses(p, None)
        return regression.loss_histograms(member, nonmember, bins=self.cfg["hist_bins"])
