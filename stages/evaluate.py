"""Stage evaluate: every metric that applies to one model of one task -> reports/<task>/metrics/<model>.json.

LTD (unlearn humans): MAE/RMSE on y' (and on y for Original, for reference), r-HC and h-HC of the SIDU
heatmaps, AS vs Original, membership inference "frames with humans vs frames without" (test frames,
per-sample loss on y': a model that still counts humans is told apart), cost vs Retrain.
UTKFace (forget an age group): MAE, Utility, Forgetting, F, membership inference forget set (training rows of
the group) vs test set, AS vs Original, cost vs Retrain.
Both: the seed-004 histograms of the forget-like and test per-sample losses (reports/<task>/loss_hist/<model>.csv).
"""
from __future__ import annotations

import argparse
import numpy as np
import pandas as pd

from stages import config
from stages.config import Choice, Float, Int
from stages.io import read_json, setup_logging, write_csv, write_json
from stages.metrics import cost, coverage, forgetting, membership, regression
from stages.models import tasks

SCHEMA = {"alpha": Float(min=0, min_open=True), "mia_seed": Int(min=0), "mia_splits": Int(min=2),
          "loss": Choice("abs", "squared"), "hist_bins": Int(min=2)}
R_CLASSES = ("bicycle", "motorcycle", "vehicle")
H_CLASSES = ("human",)

log = setup_logging("evaluate")


def _preds(task: str, model: str) -> pd.DataFrame:
    return pd.read_csv(f"models/{task}/{model}_preds.csv")


def _meta(task: str, model: str) -> dict:
    return read_json(f"models/{task}/{model}.json")


def valid_heatmaps(maps: np.ndarray, names, who: str) -> np.ndarray:
    """Mask of the heatmaps on which HC/AS are defined; the others are logged by name (and counted)."""
    ok = coverage.valid_maps(maps)
    for j in np.flatnonzero(~ok):
        log.warning("%s: heatmap of explanation image %d (%s) is all zero or not finite: excluded from HC/AS",
                    who, j, names[j])
    return ok


def heatmap_metrics(task: str, model: str) -> dict:
    subset = pd.read_csv(f"data/xai/{task}/subset.csv")
    names = subset["file_name"].tolist()
    h = np.load(f"data/xai/{task}/{model}.npy").astype(np.float64)
    r = np.load(f"data/xai/{task}/original.npy").astype(np.float64)
    ok = valid_heatmaps(h, names, model) & valid_heatmaps(r, names, "original")
    out = {"heatmaps": int(len(h)), "degenerate_heatmaps": int((~ok).sum())}
    if not ok.any():
        return out
    ids = [names[j] for j in np.flatnonzero(ok)]
    out["AS"] = coverage.attention_shift(h[ok], r[ok], ids=ids)
    if task == "ltd":
        boxes = pd.read_csv(f"data/xai/{task}/subset_boxes.csv")
        n, hh, ww = h.shape
        for key, classes in (("r-HC", R_CLASSES), ("h-HC", H_CLASSES)):
            masks = coverage.box_masks(boxes, n, hh, ww, classes)[ok]
            out[key] = coverage.heatmap_coverage(h[ok], masks, ids=ids) if masks.any() else None
    return out


def evaluate(task: str, model: str, cfg: dict) -> tuple[dict, pd.DataFrame]:
    p, r = _preds(task, model), _preds(task, "retrain")
    test, rtest = p[p.split == "test"], r[r.split == "test"]
    res: dict = {"model": model}
    if task == "ltd":
        res["MAE"] = regression.mae(test.pred, test.y_prime)
        res["RMSE"] = regression.rmse(test.pred, test.y_prime)
        if model == "original":
            res["MAE_y"] = regression.mae(test.pred, test.y)
            res["RMSE_y"] = regression.rmse(test.pred, test.y)
        loss = regression.per_sample_loss(test.pred, test.y_prime, cfg["loss"])
        member, nonmember = loss[test.forget.to_numpy()], loss[~test.forget.to_numpy()]
        res["mean_pred_forget_frames"] = float(test.pred[test.forget].mean())
    else:
        train = pd.read_csv("data/prepared/utk/train.csv")
        keep = ~train["augmented"].to_numpy(bool)  # the forget set: real (non-augmented) rows of the group
        ptr, rtr = p[p.split == "train"], r[r.split == "train"]
        fmask = ptr.forget.to_numpy(bool) & keep
        res["MAE"] = regression.mae(test.pred, test.age)
        res["RMSE"] = regression.rmse(test.pred, test.age)
        res["MAE_forget"] = regression.mae(ptr.pred[fmask], ptr.age[fmask])
        res["Utility"] = forgetting.utility(regression.mae(rtest.pred, rtest.age), res["MAE"])
        err_m = np.abs(ptr.pred.to_numpy() - ptr.age.to_numpy())[fmask]
        err_r = np.abs(rtr.pred.to_numpy() - rtr.age.to_numpy())[fmask]
        res["Forgetting"] = forgetting.forgetting(err_r, err_m, alpha=cfg["alpha"])
        res["F"] = forgetting.f_score(res["Utility"], res["Forgetting"])
        member = regression.per_sample_loss(ptr.pred[fmask], ptr.age[fmask], cfg["loss"])
        nonmember = regression.per_sample_loss(test.pred, test.age, cfg["loss"])
    res["MIA"] = membership.mia_accuracy(member, nonmember, seed=cfg["mia_seed"], n_splits=cfg["mia_splits"])
    res["forget_loss_mean"], res["test_loss_mean"] = float(np.mean(member)), float(np.mean(nonmember))
    res.update(heatmap_metrics(task, model))
    m, rm = _meta(task, model), _meta(task, "retrain")
    ratios = cost.cost_ratio(m, rm)
    res.update({"wall_time_s": m["wall_time_s"], "optimizer_steps": m["optimizer_steps"],
                "cost_time_vs_retrain": ratios["time_ratio"], "cost_steps_vs_retrain": ratios["steps_ratio"]})
    hist = regression.loss_histograms(member, nonmember, bins=cfg["hist_bins"])
    return {k: (round(float(v), 6) if isinstance(v, (float, np.floating)) else v) for k, v in res.items()}, hist


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--task", choices=tasks.TASKS, required=True)
    p.add_argument("--model", required=True)
    args = p.parse_args(argv)
    cfg = config.load("evaluate", SCHEMA)
    res, hist = evaluate(args.task, args.model, cfg)
    write_json(f"reports/{args.task}/metrics/{args.model}.json", res)
    write_csv(f"reports/{args.task}/loss_hist/{args.model}.csv", hist, float_format="%.6g")
    log.info("%s/%s: %s", args.task, args.model, res)


if __name__ == "__main__":
    main()
