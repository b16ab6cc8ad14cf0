"""Attribution vectors of a task's Original on a fixed grid of cells, one per training image (IMU's input).

A vector has ``rows x cols`` entries, cell i * cols + j of the fixed grid of :func:`stages.xai.lime.cell_index`:
the same features in the same order for every image, so vectors of different images compare coordinate by
coordinate (IMU's cosine similarities, seed 003 Algorithm 2). The explained output is the explainers' (a
regressor's scalar, a classifier's true class: ``Task.explain_target``). ``source``:

- ``lime``: Captum's LIME weights on the grid (:func:`stages.xai.lime.grid_weights`, ``n_samples`` perturbations,
  cells kept with probability ``keep``), the paper's choice; ~20 ms per image on this CPU;
- ``gradient``: Captum's input x gradient summed over channels and averaged per cell (one backward pass per
  batch), for tasks where LIME over every training image would break the budget.

Settings: the ``attributions`` section of params.yaml (:data:`SCHEMA`); the source is chosen per task.
"""
from __future__ import annotations

import numpy as np
import torch

from stages import tasks
from stages.core import config, progress
from stages.core.config import Choice, Float, Int, List, ParamError, Section
from stages.data.arrays import normalize
from stages.xai import base, lime

SECTION = "attributions"
SOURCES = ("lime", "gradient")
SCHEMA = {"source": Section(), "grid": List(Int(min=1), length=2), "n_samples": Int(min=2),
          "keep": Float(min=0, max=1, min_open=True, max_open=True), "batch_size": Int(min=1)}


def settings(params: dict, task: str) -> dict:
    """The validated ``attributions`` section, with ``source`` resolved for ``task``."""
    cfg = config.load(SECTION, SCHEMA, params)
    known = tasks.all_names(params)
    for name in cfg["source"]:  # a misspelt task would otherwise be ignored while its real name stays unset
        if name not in known:
            raise ParamError(f"{SECTION}.source.{name}: not a task of any task list (known: {', '.join(known)})")
    key = f"{SECTION}.source.{task}"
    if task not in cfg["source"]:
        raise ParamError(f"{key}: missing ({' | '.join(SOURCES)} for this task)")
    return {**cfg, "source": Choice(*SOURCES).check(key, cfg["source"][task])}


def input_x_gradient(model, x: torch.Tensor, target) -> torch.Tensor:
    """Captum's input x gradient of the explained output, summed over channels: (B, H, W)."""
    from captum.attr import InputXGradient

    with base.eval_mode(model):
        a = InputXGradient(model).attribute(x.clone().requires_grad_(True), target=target)
    return a.detach().sum(1)


def passes_per_image(cfg: dict) -> int:
    """Images through the model per training image: LIME's ``n_samples`` perturbations (forward passes), or one
    forward and backward pass (gradient)."""
    return cfg["n_samples"] if cfg["source"] == "lime" else 1


def vectors(model, images: np.ndarray, meta: dict, target, cfg: dict, seed: int, device) -> torch.Tensor:
    """(N, rows * cols) float32 attribution vectors of ``model`` for uint8 ``images`` (N, C, H, W), explaining
    ``target`` (None: the scalar output; else one class per image), in batches of ``cfg["batch_size"]``. LIME's
    perturbations of batch starting at row i are seeded with ``seed + i``: the same arguments give the same
    vectors."""
    grid = tuple(cfg["grid"])
    H, W = images.shape[-2:]
    if grid[0] > H or grid[1] > W:
        raise ParamError(f"{SECTION}.grid = {list(grid)}: finer than the {H} x {W} input")
    out, step = [], cfg["batch_size"]
    for i in progress.bar(range(0, len(images), step), desc=f"attributions ({cfg['source']})", unit="batch"):
        x = normalize(torch.as_tensor(np.asarray(images[i:i + step])).to(device), meta)
        t = None if target is None else torch.as_tensor(np.array(target[i:i + step]), device=device)
        if cfg["source"] == "lime":
            w = lime.grid_weights(model, x, grid=grid, n_samples=cfg["n_samples"], keep=cfg["keep"], target=t,
                                  seed=seed + i)
        else:
            w = lime.pooled_grid(input_x_gradient(model, x, t), grid)
        out.append(w.float().cpu())
    return torch.cat(out) if out else torch.zeros(0, int(np.prod(grid)))
