"""Stage evaluate: the prediction metrics of one model of a task -> reports/<task>/metrics/<model>.json.

    python -m stages.evaluate --task ltd --model finetune

The task plugin computes its metrics from the model's and Retrain's predictions (LTD: MAE/RMSE on y', the
membership test; UTKFace: MAE, Utility, Forgetting, F, the membership test); this stage adds the cost relative
to Retrain in optimizer steps (deterministic; the measured wall time is added by the report) and writes the seed-004 histogram of the two per-sample loss populations
(``reports/<task>/loss_hist/<model>.csv``). Heatmap metrics come from stage ``explain_report``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from stages import tasks
from stages.core import paths
from stages.core.config import Choice, Float, Int
from stages.core.io import read_json, write_csv, write_json
from stages.metrics import cost, families
from stages.core.stage import Stage

SCHEMA = {"alpha": Float(min=0, min_open=True), "mia_seed": Int(min=0), "mia_splits": Int(min=2),
          "loss": Choice("abs", "squared"), "hist_bins": Int(min=2)}
DIGITS = 6  # significant digits kept in the metrics files


def _round(v):
    if isinstance(v, (float, np.floating)):
        return float(f"{float(v):.{DIGITS}g}")
    return v


def evaluate(task, model: str, cfg: dict, root=".") -> tuple[dict, pd.DataFrame]:
    preds = pd.read_csv(paths.model(task.name, model, "_preds.csv", root))
    retrain = pd.read_csv(paths.model(task.name, "retrain", "_preds.csv", root))
    res, hist = families.get(task.EVALUATION).evaluate(task, preds, retrain, cfg)
    m = read_json(paths.model(task.name, model, ".json", root))
    rm = read_json(paths.model(task.name, "retrain", ".json", root))
    res.update({"optimizer_steps": m["optimizer_steps"], "cost_steps_vs_retrain": cost.steps_ratio(m, rm)})
    return {"model": model, **{k: _round(v) for k, v in res.items()}}, hist


def main(argv=None):
    st = Stage("evaluate", __doc__, argv, root=True, task=dict(required=True), model=dict(required=True))
    task = tasks.get(st.args.task, st.params, st.root)
    cfg = st.section("evaluate", SCHEMA)
    res, hist = evaluate(task, st.args.model, cfg, st.root)
    write_json(paths.metrics(task.name, st.args.model, st.root), res)
    write_csv(paths.loss_hist(task.name, st.args.model, st.root), hist, float_format="%.6g")
    st.log.info("%s/%s: %s", task.name, st.args.model, res)


if __name__ == "__main__":
    main()
