"""Train a model (``repeats`` independent runs, each an ensemble of members) and write its outputs (shared by the
train, retrain and unlearn stages).

A model of the pipeline is R = ``repeats`` independent runs of the same recipe with seeds derived from the model's
identity and the repeat index (:func:`repeat_seeds`); repeat r of an unlearning method starts from repeat r of the
Original. Every metric is computed per repeat and its interval combines the repeats with a bootstrap over samples.

Outputs of a model (paths from :mod:`stages.paths`):
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

import os
import platform
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from stages.core import threads
from stages.core.config import Bool, Choice, Float, Int, Str
from stages.core.io import write_csv, write_json, write_npy
from stages.core.seeds import derive_seed
from stages import models
from stages.models import resnet
from stages.models.train import Recipe, fit, predict

AUGMENT = {"hflip": Float(min=0, max=1), "rotation": Float(min=0, max=180), "brightness": Float(min=0, max=1),
           "contrast": Float(min=0, max=1), "invert": Float(min=0, max=1)}
SCHEMA = {  # train.<dataset>: the recipe of the dataset's Original and of every Retrain on it
    "arch": Choice(*resnet.ARCHS), "stem": Choice(*resnet.STEMS), "width": Int(min=4),
    "weights": Str(allow_empty=True), "epochs": Int(min=1),
    "batch_size": Int(min=1), "optimizer": Choice("sgd", "adam"), "lr": Float(min=0, min_open=True),
    "momentum": Float(min=0, max=1), "weight_decay": Float(min=0), "schedule": Choice("constant", "cosine"),
    "loss": Choice("mse", "mae", "cross_entropy"),  # regression: mse | mae; classification: cross_entropy
    "head": Choice("linear", "sigmoid"), "patience": Int(min=0), "ensemble": Int(min=1), "amp": Bool(),
    "augment": AUGMENT,
}
# agents.train: seed 003's multi-agent classifier (stages/models/agents.py), trained with MA-REINFORCE
AGENTS = {
    "family": Choice("agents"), "canvas": Int(min=4), "agents": Int(min=1), "steps": Int(min=1),
    "window": Int(min=1), "hidden": Int(min=4), "start": Choice("fixed", "random"), "epochs": Int(min=1),
    "batch_size": Int(min=1),
    "optimizer": Choice("sgd", "adam"), "lr": Float(min=0, min_open=True), "momentum": Float(min=0, max=1),
    "weight_decay": Float(min=0), "schedule": Choice("constant", "cosine"), "loss": Choice("cross_entropy"),
    "patience": Int(min=0), "ensemble": Int(min=1), "amp": Bool(), "augment": AUGMENT,
}
FAMILIES = {"resnet": SCHEMA, "agents": AGENTS}   # recipe schema by the recipe's ``family`` (default resnet)
SHARED = ("loss", "augment", "amp")  # recipe keys the unlearning fine-tunes share with training


def load_recipe(params: dict, key: str) -> dict:
    """Validated recipe ``key`` (``train.<dataset>``, or a task's own such as ``agents.train``) and ``train.gpus``."""
    from stages.core import config

    train = config.get(params, "train")
    schema = {"gpus": Int(min=1), **{k: config.Section() for k in train if k != "gpus"}}
    gpus = config.validate(train, schema, "train")["gpus"]
    raw = config.get(params, key)
    family = raw.get("family", "resnet") if isinstance(raw, dict) else "resnet"
    if family not in FAMILIES:
        raise config.ParamError(f"{key}.family = {family!r}: unknown model family (known: {', '.join(FAMILIES)})")
    return {**config.load(key, FAMILIES[family], params), "gpus": gpus}


def init_distributed(gpus: int, module: str):
    """Re-exec under torchrun when more than one process is asked for; returns the device of this rank.

    ``gpus > 1`` without ``LOCAL_RANK`` re-launches ``module`` as ``gpus`` processes on this machine
    (``python -m torch.distributed.run --standalone``: the same interpreter, a free rendezvous port). Under
    torchrun (``LOCAL_RANK`` set, also when started by hand for several nodes) each rank joins the process group:
    NCCL on CUDA device ``LOCAL_RANK``, or gloo on the CPU where CUDA is unavailable (how tests/test_ddp.py runs
    it). ``batch_size`` is per process: one optimizer step sees ``batch_size * world size`` images."""
    import sys

    if gpus > 1 and "LOCAL_RANK" not in os.environ:
        os.execv(sys.executable, [sys.executable, "-m", "torch.distributed.run", "--standalone",
                                  f"--nproc_per_node={gpus}", "-m", module, *sys.argv[1:]])
    if "LOCAL_RANK" in os.environ:
        local = int(os.environ["LOCAL_RANK"])
        if not torch.cuda.is_available():
            torch.distributed.init_process_group("gloo")
            return torch.device("cpu")
        torch.distributed.init_process_group("nccl")
        torch.cuda.set_device(local)
        return torch.device("cuda", local)
    return None


def repeat_seeds(seed: int, repeats: int, *identity) -> list[int]:
    """The seed of each repeat of a model, derived from its identity (e.g. task, method) and the repeat index."""
    return [derive_seed(seed, *identity, "repeat", r) for r in range(repeats)]


def train_from_scratch(task, data, cfg: dict, device, seeds: list[int], log=None):
    """Per seed (repeat), ``cfg["ensemble"]`` fresh members (or from ``cfg["weights"]``) fitted on ``data``;
    returns (spec, runs: per repeat the members, fits: per repeat the members' fit records)."""
    spec = task.model_spec(cfg)
    runs, fits = [], []
    for r, seed in enumerate(seeds):
        members = []
        for k in range(cfg["ensemble"]):
            torch.manual_seed(member_seed(seed, k))
            m = models.build(spec)
            if cfg.get("weights"):
                resnet.load_weights(m, cfg["weights"])
            else:
                task.init_output(m, data.train_y)
            members.append(m)
        if log:
            log.info("repeat %d/%d", r + 1, len(seeds))
        fits.append(train_members(members, task, data, Recipe.from_params(cfg), device, seed, log=log))
        runs.append(members)
    return spec, runs, fits


def is_rank0() -> bool:
    return not torch.distributed.is_initialized() or torch.distributed.get_rank() == 0


def member_seed(seed: int, k: int) -> int:
    """Seed of ensemble member ``k`` (derived by name, so member 0 of two recipes never collide by offset)."""
    return derive_seed(seed, "member", k)


def set_threads(log=None) -> int:
    """Deterministic CPU math with this stage's share of the cores (:mod:`stages.core.threads`); returns the count."""
    return threads.set_torch_threads(log)[0]


def fit_task(task, model: torch.nn.Module, data, recipe: Recipe, device, seed: int, log=None, **hooks) -> dict:
    """Fit ``model`` in place on ``data`` (a :class:`stages.tasks.base.TaskData`) with the task's loss and
    model-selection score; ``hooks`` (target_fn, batch_loss, post_step) go to :func:`stages.models.train.fit`."""
    return fit(model, data.train_x, data.train_y, data.val_x, data.val_y, data.meta, recipe, device, seed,
               forget_mask=data.forget, loss_fn=task.loss, val_score=task.val_score, val_metric=task.VAL_METRIC,
               log=log, **hooks)


def train_members(members: list[torch.nn.Module], task, data, recipe: Recipe, device, seed: int,
                  log=None) -> list[dict]:
    """Fit each member in place with its own seed on ``data`` (a :class:`stages.tasks.base.TaskData`)."""
    fits = []
    for k, m in enumerate(members):
        if log:
            log.info("member %d/%d: %d training images", k + 1, len(members), len(data.train_x))
        m.to(device)
        fits.append(fit_task(task, m, data, recipe, device, member_seed(seed, k), log=log))
    return fits


def curves(fits: list[list[dict]]) -> pd.DataFrame:
    """The training curve: per logged step (about :data:`stages.models.train.CURVE_POINTS` per run, and every
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


def save(task, out: dict, spec: dict, runs: list[list], fits: list[list[dict]], device, params: dict,
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


def outputs(model_path: Path, curve: Path, timing: Path) -> dict:
    """The output paths of a model whose weights go to ``model_path`` (…/<name>.pt)."""
    stem = str(model_path)[: -len(".pt")]
    return {"pt": model_path, "json": Path(stem + ".json"), "preds": Path(stem + "_preds.csv"),
            "features": Path(stem + "_features.npy"), "curve": curve, "timing": timing}
