"""The training loop shared by training and unlearning, on in-memory uint8 tensors.

One loop serves Original, Retrain and every unlearning method's fine-tune. The task gives the loss
(``loss_fn``) and the model-selection score (``val_score``, lower is better); a method hooks in through
``target_fn`` (relabel a batch, e.g. random labels), ``batch_loss`` (its own loss of a batch, e.g. NegGrad+),
``post_step`` (e.g. the anchored proximal step) and ``epoch_start`` (work of its own before each epoch, e.g. SCRUB's
max steps on the forget set). Validation always runs with ``model.eval()`` and without augmentation. The best
validation epoch is kept. Under ``torchrun`` (``torch.distributed`` initialised) the model is wrapped in
DistributedDataParallel and every rank trains on its own slice of each epoch's permutation.

DDP semantics: ``batch_size`` is per rank. Rank r takes rows r, r + W, r + 2W, ... of the epoch's permutation
(the same on every rank: same seed), so step i of the W ranks together sees exactly the rows of step i of one
process with batch ``batch_size * W``, and DDP's all-reduce averages the ranks' mean-loss gradients: the same
step as that single process (up to float rounding), provided the number of training rows is a multiple of W
(otherwise the last len % W rows of each permutation are left out, see below), the model has no batch statistics
(BatchNorm normalises each rank's batch on its own: SyncBatchNorm is CUDA-only) and no augmentation or
``target_fn`` draws random numbers (each rank draws from its own copy of the generator). tests/test_ddp.py checks
this on 2 CPU processes (gloo).

The loop in named steps: :func:`start_loop` (seeds, optimizer, schedule: a :class:`Loop`), per epoch
:func:`train_epoch` (its :func:`train_step` per batch), :func:`epoch_loss`, the validation score and
:func:`keep_best` (best weights, early stopping).
"""
from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from stages.core import progress
from stages.data.arrays import normalize
from stages.models.augment import augment_batch, has_augment
from stages.models.distributed import rank_and_world
from stages.models.inference import predict
from stages.core.model_selection import mae_score


@dataclass
class Recipe:
    """How a model is fitted (the keys of a ``train.<dataset>`` or ``unlearn.<task>`` recipe the loop reads)."""
    epochs: int
    batch_size: int
    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 0.0
    loss: str = "mse"
    schedule: str = "constant" # constant | cosine (per step, to 0 at the last planned step)
    patience: int = 0          # early stopping on validation MAE, 0 = off
    amp: bool = True           # bf16 autocast (CUDA, and CPUs: ~1.7x faster where the CPU has native bf16)
    augment: dict = field(default_factory=dict)

    @classmethod
    def from_params(cls, cfg: dict, **over) -> "Recipe":
        keys = cls.__dataclass_fields__
        return cls(**{k: v for k, v in {**cfg, **over}.items() if k in keys})


def make_optimizer(params, r: Recipe):
    """The recipe's optimizer (SGD with momentum and weight decay, or Adam) over ``params``."""
    if r.optimizer == "sgd":
        return torch.optim.SGD(params, lr=r.lr, momentum=r.momentum, weight_decay=r.weight_decay)
    if r.optimizer == "adam":
        return torch.optim.Adam(params, lr=r.lr, weight_decay=r.weight_decay)
    raise ValueError(f"unknown optimizer {r.optimizer!r}: sgd | adam")


def make_scheduler(opt, r: Recipe, steps_per_epoch: int):
    """The per-step learning-rate schedule: None for ``constant``, cosine annealing to 0 at the last planned step."""
    if r.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, r.epochs * steps_per_epoch))
    if r.schedule != "constant":
        raise ValueError(f"unknown schedule {r.schedule!r}: constant | cosine")
    return None


LOSSES = {"mse": nn.functional.mse_loss, "mae": nn.functional.l1_loss}
CURVE_POINTS = 25  # training-curve points per run (see fit)


@dataclass
class Hooks:
    """A method's ways into the loop, each optional (their signatures: :func:`fit`)."""
    target_fn: Callable | None = None
    batch_loss: Callable | None = None
    loss_weight: Callable | None = None
    post_step: Callable | None = None
    epoch_start: Callable | None = None


@dataclass
class Loop:
    """What every step of one fit reads, fixed before its first epoch."""
    model: nn.Module            # the model fitted in place
    net: nn.Module              # what the steps call: the model, or its DistributedDataParallel wrapper
    opt: torch.optim.Optimizer
    sched: object | None        # the per-step learning-rate schedule, None: constant
    recipe: Recipe
    device: torch.device
    meta: dict                  # the dataset's normalisation
    gen: torch.Generator        # every random draw of the loop: permutations, augmentation, the hooks'
    loss_fn: Callable           # the task loss of a batch
    aux_loss: Callable | None   # the model's own extra term (the agents' policy gradient)
    hooks: Hooks
    rank: int
    world: int
    per_rank: int               # training rows each rank takes per epoch
    steps_per_epoch: int
    log_every: int              # steps per training-curve point
    augment: bool               # whether the recipe augments the training images


@dataclass
class TrainRows:
    """The training split as host tensors: uint8 images, targets (float32 or int64), forget flags (or None)."""
    x: torch.Tensor
    y: torch.Tensor
    forget: torch.Tensor | None

    @classmethod
    def of(cls, train_x, train_y, forget_mask) -> "TrainRows":
        y_np = np.asarray(train_y)
        return cls(torch.as_tensor(np.asarray(train_x)),
                   torch.as_tensor(y_np.astype(np.float32) if y_np.dtype.kind == "f" else y_np.astype(np.int64)),
                   torch.as_tensor(np.array(forget_mask, bool)) if forget_mask is not None else None)


@dataclass
class Tally:
    """What the loop counts and keeps as it runs: optimizer steps, images, the curves and the best epoch."""
    steps: int = 0
    seen: int = 0
    history: list = field(default_factory=list)    # per epoch: train loss and validation score
    step_log: list = field(default_factory=list)   # the training curve's points
    best: float = np.inf
    best_state: dict | None = None
    best_epoch: int = 0
    bad: int = 0                                    # epochs since the best one


def fit(model: nn.Module, train_x, train_y, val_x, val_y, meta: dict, recipe: Recipe, device, seed: int,
        target_fn=None, post_step=None, forget_mask=None, log=None, loss_fn=None, val_score=None,
        val_metric: str = "val_mae", batch_loss=None, loss_weight=None, epoch_start=None) -> dict:
    """Train ``model`` in place; returns its fit record {history, steps_log, best_epoch, best_val, val_metric, steps,
    images, seconds, images_per_s}.

    ``train_x``/``val_x``: uint8 arrays (N, C, H, W); ``*_y``: targets (float: regression, int: classes).
    ``loss_fn(out, y)`` defaults to ``recipe.loss`` (mse | mae), ``val_score(pred, y)`` to the MAE, logged as
    ``val_metric``. ``target_fn(y, forget, gen)`` may relabel each batch (``forget``: the batch's rows of
    ``forget_mask``); ``batch_loss(net, loss, gen, x=..., out=...)`` returns the loss to minimise given the batch's
    task loss (``x``: the batch's normalised, augmented images, ``out``: the model's output on them);
    ``loss_weight(idx)`` scales the batch's loss by a factor computed from its rows ``idx`` (indices into
    ``train_x``; e.g. IMU's 1 - I_w, which scales every gradient alike); ``post_step(model)`` runs after every
    optimizer step; ``epoch_start(epoch, net, opt, gen)`` runs before each epoch with the loop's optimizer and
    generator and returns the optimizer steps it took (added to ``steps``; the images it pushes are the caller's to
    count). A model with an ``auxiliary_loss(out, y)`` method adds that term to the task loss of each
    batch (the multi-agent classifier's REINFORCE policy term, :mod:`stages.models.agents`; it is part of the logged
    train loss). The best validation epoch's weights are restored.
    """
    hooks = Hooks(target_fn, batch_loss, loss_weight, post_step, epoch_start)
    val_score = val_score or mae_score
    loop = start_loop(model, len(train_x), meta, recipe, device, seed, loss_fn, hooks)
    rows = TrainRows.of(train_x, train_y, forget_mask)
    tally = Tally()
    pbar = progress.bar(total=recipe.epochs * loop.steps_per_epoch, desc="fit", unit="step")
    t0 = time.time()
    for epoch in range(1, recipe.epochs + 1):
        train_loss = epoch_loss(loop, *train_epoch(loop, rows, epoch, tally, pbar))
        score = val_score(predict(model, val_x, meta, device), val_y)
        tally.history.append({"epoch": epoch, "train_loss": train_loss, val_metric: score})
        pbar.set_postfix({"epoch": epoch, "loss": f"{train_loss:.4f}", val_metric: f"{score:.4f}"}, refresh=False)
        if log:
            log.info("epoch %d: train loss %.4f, %s %.4f", epoch, train_loss, val_metric, score)
        if keep_best(tally, model, epoch, score, recipe.patience):
            break
    pbar.close()
    if tally.best_state is not None:
        model.load_state_dict(tally.best_state)
    seconds = time.time() - t0
    world = loop.world
    return {"history": tally.history, "steps_log": tally.step_log, "best_epoch": tally.best_epoch,
            "best_val": tally.best, "val_metric": val_metric, "steps": tally.steps, "images": tally.seen * world,
            "seconds": seconds, "images_per_s": tally.seen * world / max(seconds, 1e-9)}


def start_loop(model: nn.Module, n_train: int, meta: dict, recipe: Recipe, device, seed: int, loss_fn,
               hooks: Hooks) -> Loop:
    """Seed the loop's generator and torch's, put the model in training mode on ``device`` (wrapped in
    DistributedDataParallel under torchrun) and set up its optimizer, schedule and step counts."""
    loss_fn = loss_fn or LOSSES[recipe.loss]
    aux_loss = getattr(model, "auxiliary_loss", None)
    rank, world = rank_and_world()
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model.to(device).train()
    net = model
    if world > 1:
        net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    opt = make_optimizer(net.parameters(), recipe)
    # Under DDP every rank takes the same number of samples per epoch (len // world; the last len % world of
    # each epoch's permutation are left out, at most world - 1 images): ranks that ran a different number of
    # steps would wait forever in DDP's gradient all-reduce. One process (world 1) uses every sample.
    per_rank = n_train // world
    steps_per_epoch = -(-per_rank // recipe.batch_size)
    sched = make_scheduler(opt, recipe, steps_per_epoch)
    # the training curve: mean loss of every ``log_every`` steps of an epoch (and of the epoch's last steps): about
    # CURVE_POINTS points per run however few epochs it has (a 2-epoch fine-tune still draws a curve), at least one
    # per epoch
    log_every = min(steps_per_epoch, max(1, recipe.epochs * steps_per_epoch // CURVE_POINTS))
    return Loop(model, net, opt, sched, recipe, device, meta, gen, loss_fn, aux_loss, hooks, rank, world, per_rank,
                steps_per_epoch, log_every, has_augment(recipe.augment))


def train_epoch(loop: Loop, rows: TrainRows, epoch: int, tally: Tally, pbar) -> tuple:
    """The epoch's optimizer steps over this rank's slice of a fresh permutation, after the ``epoch_start`` hook;
    returns this rank's summed batch loss (a device tensor: no per-step host sync) and its number of samples."""
    if loop.hooks.epoch_start is not None:
        tally.steps += loop.hooks.epoch_start(epoch, loop.net, loop.opt, loop.gen)
        loop.net.train()
    perm = torch.randperm(len(rows.x), generator=loop.gen)[:loop.per_rank * loop.world][loop.rank::loop.world]
    batch = loop.recipe.batch_size
    total, count = 0.0, 0
    window, window_n, pending = 0.0, 0, []
    for i in range(0, len(perm), batch):
        idx = perm[i:i + batch]
        loss = train_step(loop, rows, idx)
        tally.steps += 1
        tally.seen += len(idx)
        pbar.update(1)
        total += loss.detach() * len(idx)
        count += len(idx)
        window, window_n = window + loss.detach(), window_n + 1
        if (i // batch + 1) % loop.log_every == 0 or i + batch >= len(perm):
            pending.append((tally.steps, window / window_n))
            window, window_n = 0.0, 0
    tally.step_log += [{"step": s_, "epoch": epoch, "train_loss": float(v)} for s_, v in pending]  # one sync per epoch
    return total, count


def train_step(loop: Loop, rows: TrainRows, idx: torch.Tensor) -> torch.Tensor:
    """One optimizer step on the training rows ``idx``; returns the batch's loss."""
    xb = batch_images(loop, rows, idx)
    yb = batch_targets(loop, rows, idx)
    with torch.autocast(loop.device.type, dtype=torch.bfloat16, enabled=loop.recipe.amp):
        out = loop.net(xb).float()
    loss = batch_loss(loop, xb, out, yb, idx)
    loop.opt.zero_grad(set_to_none=True)
    loss.backward()
    loop.opt.step()
    if loop.sched is not None:
        loop.sched.step()
    if loop.hooks.post_step is not None:
        loop.hooks.post_step(loop.model)
    return loss


def batch_images(loop: Loop, rows: TrainRows, idx: torch.Tensor) -> torch.Tensor:
    """The batch's images on the device, augmented (when the recipe asks) and normalised."""
    xb = rows.x[idx].to(loop.device, non_blocking=True)
    if loop.augment:
        xb = augment_batch(xb, loop.recipe.augment, loop.gen)
    return normalize(xb, loop.meta)


def batch_targets(loop: Loop, rows: TrainRows, idx: torch.Tensor) -> torch.Tensor:
    """The batch's targets on the device, relabelled by the ``target_fn`` hook when there is one."""
    yb = rows.y[idx]
    if loop.hooks.target_fn is not None:
        yb = loop.hooks.target_fn(yb, rows.forget[idx] if rows.forget is not None else None, loop.gen)
    return yb.to(loop.device, non_blocking=True)


def batch_loss(loop: Loop, xb: torch.Tensor, out: torch.Tensor, yb: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """The loss to minimise: the task loss, plus the model's auxiliary term, through the ``batch_loss`` hook,
    scaled by the ``loss_weight`` hook."""
    loss = loop.loss_fn(out, yb)
    if loop.aux_loss is not None:
        loss = loss + loop.aux_loss(out, yb)
    if loop.hooks.batch_loss is not None:
        loss = loop.hooks.batch_loss(loop.net, loss, loop.gen, x=xb, out=out)
    if loop.hooks.loss_weight is not None:
        loss = loss * loop.hooks.loss_weight(idx)
    return loss


def epoch_loss(loop: Loop, total, count: int) -> float:
    """The epoch's mean train loss over every rank's samples, as one process with the global batch logs it."""
    if loop.world > 1:
        sums = torch.tensor([float(total), float(count)], dtype=torch.float64, device=loop.device)
        torch.distributed.all_reduce(sums)
        total, count = sums.tolist()
    return float(total) / max(count, 1)


def keep_best(tally: Tally, model: nn.Module, epoch: int, score: float, patience: int) -> bool:
    """Keep the model's weights when ``score`` beats the best so far; True when early stopping ends the fit
    (``patience`` epochs without a better score; 0: never)."""
    if score < tally.best:
        tally.best, tally.best_epoch, tally.bad = score, epoch, 0
        tally.best_state = copy.deepcopy(model.state_dict())
        return False
    tally.bad += 1
    return bool(patience and tally.bad >= patience)
