"""Training a model of the pipeline: ``repeats`` independent runs, each an ensemble of members (shared by the
train, retrain and unlearn stages).

A model of the pipeline is R = ``repeats`` independent runs of the same recipe with seeds derived from the model's
identity and the repeat index (:func:`repeat_seeds`); repeat r of an unlearning method starts from repeat r of the
Original. Every metric is computed per repeat and its interval combines the repeats with a bootstrap over samples.
The recipes are :mod:`stages.models.recipes`, the loop :mod:`stages.models.fitting`, the written outputs
:mod:`stages.models.outputs`.
"""
from __future__ import annotations

import torch

from stages import models
from stages.core.seeds import derive_seed
from stages.models import resnet
from stages.models.fitting import Recipe, fit


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


def member_seed(seed: int, k: int) -> int:
    """Seed of ensemble member ``k`` (derived by name, so member 0 of two recipes never collide by offset)."""
    return derive_seed(seed, "member", k)


def fit_task(task, model: torch.nn.Module, data, recipe: Recipe, device, seed: int, log=None, **hooks) -> dict:
    """Fit ``model`` in place on ``data`` (a :class:`stages.tasks.base.TaskData`) with the task's loss and
    model-selection score; ``hooks`` (target_fn, batch_loss, post_step) go to :func:`stages.models.fitting.fit`."""
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


