"""The outputs of a trained model (``repeats`` runs, each an ensemble of members), written by the train, retrain
and unlearn stages.

Outputs of a model (paths from :mod:`stages.core.paths`, named by :func:`output_paths`):
- ``<name>.pt``: spec, per repeat one state dict per member, metadata (params used, epochs, device, optimizer
  steps, images seen), written atomically;
- ``<name>.json``: the same metadata without the weights (read by the metrics, no torch needed);
- ``<name>_preds.csv``: raw predictions on the task's evaluation splits (``repeat``, ``split``, ``row`` into the
  split, ``pred``; ``out_<k>`` for a multi-output model): what the metrics need, so no later stage re-runs a model;
- ``<name>_features.npy``: float16 (R, N, D) penultimate features of the task's probe split (the representation
  probe of evaluate);
- the curve CSV: per-epoch train loss and validation score, averaged over members and repeats (DVC plot);
- the timing JSON (measured wall time): outside DVC's outputs, since it differs from run to run.
"""
from __future__ import annotations

import platform
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from stages.core.io import write_csv, write_json, write_npy
from stages.models import resnet
from stages.models.inference import predict


def curves(fits: list[list[dict]]) -> pd.DataFrame:
    """The training curve: per logged step (about :data:`stages.models.fitting.CURVE_POINTS` per run, and every
    epoch's end) its epoch and mean train loss, and at each epoch's last step the validation score, averaged over the
    members and repeats that logged that step. Columns step, epoch, train_loss, <val metric> (empty between epoch
    ends); no rows when no run took a step."""
    flat = [f for run in fits for f in run]
    metric = flat[0].get("val_metric", "val_mae")
    if not any(f["steps_log"] for f in flat):  # a method that trains nothing (SSD): a curve without points
        return pd.DataFrame(columns=["step", "epoch", "train_loss", metric])
    steps = pd.DataFrame([h for f in flat for h in f["steps_log"]])
    out = steps.groupby("step", as_index=False).agg(epoch=("epoch", "max"), train_loss=("train_loss", "mean"))
    val = pd.DataFrame([h for f in flat for h in f["history"]]).groupby("epoch")[metric].mean()
    last = out.groupby("epoch")["step"].transform("max") == out["step"]
    out[metric] = np.where(last, out["epoch"].map(val), np.nan)
    return out.round(6)


def predictions(task, runs: list[torch.nn.Module], device) -> pd.DataFrame:
    frames = []
    for r, model in enumerate(runs):
        for split in task.EVAL_SPLITS:
            images = task.split(split).images
            pred = predict(model, images, task.meta, device)
            cols = {"pred": pred} if pred.ndim == 1 else {f"out_{k}": pred[:, k] for k in range(pred.shape[1])}
            frames.append(pd.DataFrame({"repeat": r, "split": split, "row": np.arange(len(images)), **cols}))
    return pd.concat(frames, ignore_index=True)


def features(task, runs: list[torch.nn.Module], device) -> np.ndarray:
    """(R, N, D) float16 penultimate features of the task's probe split, per repeat."""
    images = task.split(task.PROBE_SPLIT).images
    return np.stack([predict(m, images, task.meta, device, features=True) for m in runs]).astype(np.float16)


def save_model(task, out: dict, spec: dict, runs: list[list], fits: list[list[dict]], device, params: dict,
         extra: dict | None = None) -> dict:
    """Write the model's outputs; ``out`` maps pt / json / preds / features / curve / timing to paths.

    ``runs`` and ``fits`` hold per repeat the members and their fit records. Everything DVC caches is a function
    of the inputs (same params, same bytes): the measured wall time goes to ``out["timing"]`` only, a file
    outside DVC's outputs."""
    models = [resnet.Ensemble(members).to(device).eval() for members in runs]
    meta = {
        "task": task.name, "dataset": task.dataset, "params": params, "device": str(device),
        "torch": str(torch.__version__), "repeats": len(runs),
        # per repeat (summed over the ensemble's members): the deterministic cost of the model
        "optimizer_steps": [int(sum(f["steps"] for f in run)) for run in fits],
        "images_seen": [int(sum(f["images"] for f in run)) for run in fits],
        "epochs_run": [[len(f["history"]) for f in run] for run in fits],
        "best_epochs": [[f["best_epoch"] for f in run] for run in fits],
        "val_metric": fits[0][0]["val_metric"],
        "best_val": [[round(float(f["best_val"]), 6) for f in run] for run in fits],
        "history": [[f["history"] for f in run] for run in fits], **(extra or {}),
    }
    seconds = sum(f["seconds"] for run in fits for f in run)
    timing = {"wall_time_s": round(seconds, 3), "repeats": len(runs),
              "images_per_s": round(sum(meta["images_seen"]) / max(seconds, 1e-9), 1),
              "device": str(device), "host": platform.node()}
    resnet.save_checkpoint(out["pt"], spec, runs, meta)
    write_json(out["json"], {k: v for k, v in meta.items() if k != "history"})
    write_csv(out["preds"], predictions(task, models, device), float_format="%.6f")
    write_npy(out["features"], features(task, models, device))
    write_csv(out["curve"], curves(fits))
    write_json(out["timing"], timing)
    return {**meta, **timing}


def output_paths(model_path: Path, curve: Path, timing: Path) -> dict:
    """The output paths of a model whose weights go to ``model_path`` (…/<name>.pt)."""
    stem = str(model_path)[: -len(".pt")]
    return {"pt": model_path, "json": Path(stem + ".json"), "preds": Path(stem + "_preds.csv"),
            "features": Path(stem + "_features.npy"), "curve": curve, "timing": timing}
