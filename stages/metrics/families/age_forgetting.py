"""Forgetting a group in regression (seed 001): test MAE, MAE on the forget set, Utility = MAE_retrain / MAE,
Forgetting = mean exp(-|r_i - e_i| / alpha) over the forget set's real (non-augmented) rows, F = Utility x
Forgetting, and the membership attack forget set vs test set."""
from __future__ import annotations

import numpy as np

from stages.metrics import forgetting, membership, regression
from stages.metrics.families import pick


def evaluate(task, preds, retrain, cfg):
    train, test = task.table("train"), task.table("test")
    p_te, r_te, p_tr, r_tr = pick(preds, "test"), pick(retrain, "test"), pick(preds, "train"), pick(retrain, "train")
    y_tr, y_te = task.original_target(train), task.original_target(test)
    fmask = task.forget_rows(train)
    if "augmented" in train:
        fmask &= ~train["augmented"].to_numpy(bool)  # the real rows of the group, not augmented copies
    res = {"MAE": regression.mae(p_te, y_te), "RMSE": regression.rmse(p_te, y_te),
           "MAE_forget": regression.mae(p_tr[fmask], y_tr[fmask])}
    res["Utility"] = forgetting.utility(regression.mae(r_te, y_te), res["MAE"])
    err_m, err_r = np.abs(p_tr - y_tr)[fmask], np.abs(r_tr - y_tr)[fmask]
    res["Forgetting"] = forgetting.forgetting(err_r, err_m, alpha=cfg["alpha"])
    res["F"] = forgetting.f_score(res["Utility"], res["Forgetting"])
    member = regression.per_sample_loss(p_tr[fmask], y_tr[fmask], cfg["loss"])
    nonmember = regression.per_sample_loss(p_te, y_te, cfg["loss"])
    res["MIA"] = membership.mia_accuracy(member, nonmember, seed=cfg["mia_seed"], n_splits=cfg["mia_splits"])
    res["forget_loss_mean"], res["test_loss_mean"] = float(member.mean()), float(nonmember.mean())
    return res, regression.loss_histograms(member, nonmember, bins=cfg["hist_bins"])
