"""Counting with a forgotten class (seed 000): error on the retain target y' of the test split (and on y, for
reference), and a membership-style test "test frames with the forget class vs without" on the per-sample loss
on y' (a model that still counts the forgotten class is told apart; Retrain is not)."""
from __future__ import annotations

from stages.metrics import membership, regression
from stages.metrics.families import pick


def evaluate(task, preds, retrain, cfg):
    test = task.table("test")
    p = pick(preds, "test")
    y, y_prime = task.original_target(test), task.retain_target(test)
    res = {"MAE": regression.mae(p, y_prime), "RMSE": regression.rmse(p, y_prime),
           "MAE_y": regression.mae(p, y), "RMSE_y": regression.rmse(p, y)}
    loss = regression.per_sample_loss(p, y_prime, cfg["loss"])
    has = task.forget_rows(test)
    member, nonmember = loss[has], loss[~has]
    res["mean_pred_forget_frames"] = float(p[has].mean())
    res["MIA"] = membership.mia_accuracy(member, nonmember, seed=cfg["mia_seed"], n_splits=cfg["mia_splits"])
    res["forget_loss_mean"], res["test_loss_mean"] = float(member.mean()), float(nonmember.mean())
    return res, regression.loss_histograms(member, nonmember, bins=cfg["hist_bins"])
