"""Train an ensemble of members and write its outputs (shared by the train and unlearn stages).

Outputs of model ``name`` of ``task``:
- ``models/<task>/<name>.pt``: spec, one state dict per member, metadata (params used, epochs, device, wall
  time, images/s, optimizer steps), written atomically;
- ``models/<task>/<name>.json``: the same metadata without the weights (read by the metrics, no torch needed);
- ``models/<task>/<name>_preds.csv``: raw predictions on the test split (UTKFace: and the training split, whose
  forget rows are the forget set): what the metrics need, so no later stage re-runs a model;
- ``reports/<task>/curves/<name>.csv``: per-epoch train loss and validation MAE (DVC plot, x: epoch).
"""
from __future__ import annotations

import os
import platform
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from stages.data import arrays
from stages.io import write_csv, write_json
from stages.models import resnet, tasks
from stages.models.train import Recipe, fit, predict

MEMBER_SEED_STRIDE = 1000  # member k of an ensemble trains with seed + k * stride


def member_seed(seed: int, k: int) -> int:
    return seed + k * MEMBER_SEED_STRIDE


def set_threads():
    """Deterministic CPU math: a fixed thread count (all cores unless OMP_NUM_THREADS says otherwise)."""
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1)))
    torch.use_deterministic_algorithms(True, warn_only=True)


def train_members(members: list[torch.nn.Module], data: tasks.TaskData, recipe: Recipe, device, seed: int,
                  log=None, target_fn=None, post_step_factory=None) -> list[dict]:
    """Fit each member in place with its own seed; ``post_step_factory(member)`` builds its post-step hook."""
    fits = []
    for k, m in enumerate(members):
        if log:
            log.info("member %d/%d: %d training images", k + 1, len(members), len(data.train_x))
        m.to(device)
        fits.append(fit(m, data.train_x, data.train_y, data.val_x, data.val_y, data.meta, recipe, device,
                        member_seed(seed, k), target_fn=target_fn,
                        post_step=post_step_factory(m) if post_step_factory else None,
                        forget_mask=data.forget, log=log))
    return fits


def curves(fits: list[dict]) -> pd.DataFrame:
    """Per-epoch train loss and validation MAE, averaged over the members that ran that epoch."""
    rows = pd.DataFrame([{**h, "member": k} for k, f in enumerate(fits) for h in f["history"]])
    return rows.groupby("epoch", as_index=False)[["train_loss", "val_mae"]].mean().round(6)


def predictions(task: str, model: torch.nn.Module, device) -> pd.DataFrame:
    frames = []
    for split, (images, targets) in tasks.eval_sets(task).items():
        pred = predict(model, images, arrays.load_meta(task), device)
        frames.append(pd.DataFrame({"split": split, "row": np.arange(len(images)), "pred": pred, **targets}))
    return pd.concat(frames, ignore_index=True)


def save(task: str, name: str, spec: dict, members: list, fits: list[dict], device, params: dict,
         extra: dict | None = None, root: str | Path = ".") -> dict:
    root = Path(root)
    model = resnet.Ensemble(members).to(device).eval()
    meta = {
        "task": task, "name": name, "params": params, "device": str(device),
        "host": platform.node(), "torch": torch.__version__,
        "wall_time_s": round(sum(f["seconds"] for f in fits), 3),
        "optimizer_steps": int(sum(f["steps"] for f in fits)),
        "images_seen": int(sum(f["images"] for f in fits)),
        "images_per_s": round(sum(f["images"] for f in fits) / max(sum(f["seconds"] for f in fits), 1e-9), 1),
        "epochs_run": [len(f["history"]) for f in fits], "best_epochs": [f["best_epoch"] for f in fits],
        "best_val_mae": [round(float(f["best_val_mae"]), 6) for f in fits],
        "history": [f["history"] for f in fits], **(extra or {}),
    }
    resnet.save_checkpoint(root / "models" / task / f"{name}.pt", spec, members, meta)
    write_json(root / "models" / task / f"{name}.json", {k: v for k, v in meta.items() if k != "history"})
    preds = predictions(task, model, device)
    write_csv(root / "models" / task / f"{name}_preds.csv", preds, float_format="%.6f")
    write_csv(root / "reports" / task / "curves" / f"{name}.csv", curves(fits))
    return meta
