"""The training loop shared by training and unlearning, on in-memory uint8 tensors.

One loop serves Original, Retrain and every unlearning method's fine-tune. The task gives the loss
(``loss_fn``) and the model-selection score (``val_score``, lower is better); a method hooks in through
``target_fn`` (relabel a batch, e.g. random labels), ``batch_loss`` (its own loss of a batch, e.g. NegGrad+),
``post_step`` (e.g. the anchored proximal step) and ``epoch_start`` (work of its own before each epoch, e.g. SCRUB's
max steps on the forget set). Validation always runs with ``model.eval()`` and without
augmentation. The best validation epoch is kept. Under ``torchrun`` (``torch.distributed`` initialised) the model is wrapped in DistributedDataParallel
and every rank trains on its own slice of each epoch's permutation.

DDP semantics: ``batch_size`` is per rank. Rank r takes rows r, r + W, r + 2W, ... of the epoch's permutation
(the same on every rank: same seed), so step i of the W ranks together sees exactly the rows of step i of one
process with batch ``batch_size * W``, and DDP's all-reduce averages the ranks' mean-loss gradients: the same
step as that single process (up to float rounding), provided the number of training rows is a multiple of W
(otherwise the last len % W rows of each permutation are left out, see below), the model has no batch statistics
(BatchNorm normalises each rank's batch on its own: SyncBatchNorm is CUDA-only) and no augmentation or
``target_fn`` draws random numbers (each rank draws from its own copy of the generator). tests/test_ddp.py checks this on 2 CPU processes (gloo).
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from stages.core import progress
from stages.data.arrays import normalize


@dataclass
class Recipe:
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


def augment_batch(x: torch.Tensor, aug: dict, gen: torch.Generator) -> torch.Tensor:
    """Train-only augmentation (REFERENCE section 2), drawn per image but applied to the whole batch at once.

    ``x``: uint8 (B, C, H, W) on any device -> float (B, C, H, W) in [0, 255]. Per image: horizontal flip with
    probability ``hflip``, rotation by U(-rotation, rotation) degrees (bilinear, zero fill, like torchvision's
    RandomRotation), brightness factor U(1-b, 1+b), contrast factor U(1-c, 1+c) around the image mean (like
    ColorJitter), inversion with probability ``invert``. Random numbers come from ``gen`` (CPU), so the result is
    deterministic and identical on CPU and GPU.
    """
    b = len(x)
    u = torch.rand(b, 6, generator=gen).to(x.device)
    out = x.float()
    flip = u[:, 0] < aug.get("hflip", 0)
    angle = torch.deg2rad((u[:, 1] * 2 - 1) * aug.get("rotation", 0))
    if flip.any() or aug.get("rotation", 0) > 0:
        cos, sin = torch.cos(angle), torch.sin(angle)
        sx = torch.where(flip, -1.0, 1.0)
        h, w = x.shape[-2:]
        # rotation about the centre in pixel units (aspect-correct), then the flip of the output x axis
        theta = torch.stack([torch.stack([cos * sx, -sin * h / w * sx, torch.zeros_like(cos)], 1),
                             torch.stack([sin * w / h, cos, torch.zeros_like(cos)], 1)], 1)
        grid = torch.nn.functional.affine_grid(theta, list(out.shape), align_corners=False)
        out = torch.nn.functional.grid_sample(out, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    view = (b, 1, 1, 1)
    if aug.get("brightness", 0) > 0:
        out = out * (1 + (u[:, 2] * 2 - 1) * aug["brightness"]).view(view)
    if aug.get("contrast", 0) > 0:
        mean = out.mean(dim=(1, 2, 3), keepdim=True)
        out = (out - mean) * (1 + (u[:, 3] * 2 - 1) * aug["contrast"]).view(view) + mean
    out = out.clamp(0, 255)
    if aug.get("invert", 0) > 0:
        out = torch.where((u[:, 4] < aug["invert"]).view(view), 255 - out, out)
    return out


def has_augment(aug: dict) -> bool:
    return any(v > 0 for v in aug.values())


def make_optimizer(params, r: Recipe):
    if r.optimizer == "sgd":
        return torch.optim.SGD(params, lr=r.lr, momentum=r.momentum, weight_decay=r.weight_decay)
    if r.optimizer == "adam":
        return torch.optim.Adam(params, lr=r.lr, weight_decay=r.weight_decay)
    raise ValueError(f"unknown optimizer {r.optimizer!r}: sgd | adam")


LOSSES = {"mse": nn.functional.mse_loss, "mae": nn.functional.l1_loss}
CURVE_POINTS = 25  # training-curve points per run (see fit)


def inference_copy(model: nn.Module) -> nn.Module:
    """An eval-mode copy in channels_last memory format for inference: on the 2-core CPU 2.2x faster than the
    default layout for the quick profile's networks (measured, bench/bench_arch.py); outputs agree to ~1e-6. A
    copy, so training (which stays in the default layout: bf16 autocast backward in channels_last crashed the
    CPU build) never sees the change."""
    return copy.deepcopy(model).eval().to(memory_format=torch.channels_last)


@torch.no_grad()
def predict(model: nn.Module, images, meta: dict, device, batch_size: int = 64, features: bool = False) -> np.ndarray:
    """Raw (unrounded) predictions of ``model`` in eval mode for uint8 images (N, C, H, W); with ``features``
    its penultimate features (``model.features``) instead. Small batches: the activations of a stride-1 stem stay
    in cache (batch 64 ran 1.8x faster than 256 on the CPU)."""
    net = inference_copy(model)
    outs = []
    for i in range(0, len(images), batch_size):
        x = normalize(torch.as_tensor(np.asarray(images[i:i + batch_size])).to(device), meta)
        x = x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x
        outs.append((net.features(x) if features else net(x)).float())
    return torch.cat(outs).cpu().numpy() if outs else np.zeros(0, np.float32)


def _dist():
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def mae_score(pred, y) -> float:
    return float(np.abs(np.asarray(pred) - np.asarray(y)).mean())


def fit(model: nn.Module, train_x, train_y, val_x, val_y, meta: dict, recipe: Recipe, device, seed: int,
        target_fn=None, post_step=None, forget_mask=None, log=None, loss_fn=None, val_score=None,
        val_metric: str = "val_mae", batch_loss=None, loss_weight=None, epoch_start=None) -> dict:
    """Train ``model`` in place; returns {history, best_epoch, steps, images, seconds}.

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
    loss_fn = loss_fn or LOSSES[recipe.loss]
    aux_loss = getattr(model, "auxiliary_loss", None)  # a model's own extra term (the agents' policy gradient)
    val_score = val_score or mae_score
    rank, world = _dist()
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
    per_rank = len(train_x) // world
    steps_per_epoch = -(-per_rank // recipe.batch_size)
    sched = None
    if recipe.schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, recipe.epochs * steps_per_epoch))
    elif recipe.schedule != "constant":
        raise ValueError(f"unknown schedule {recipe.schedule!r}: constant | cosine")
    augment = has_augment(recipe.augment)
    use_amp = recipe.amp
    x_all = torch.as_tensor(np.asarray(train_x))
    y_np = np.asarray(train_y)
    y_all = torch.as_tensor(y_np.astype(np.float32) if y_np.dtype.kind == "f" else y_np.astype(np.int64))
    f_all = torch.as_tensor(np.array(forget_mask, bool)) if forget_mask is not None else None
    history, best, best_state, best_epoch, bad, steps, seen = [], np.inf, None, 0, 0, 0, 0
    # the training curve: mean loss of every ``log_every`` steps of an epoch (and of the epoch's last steps): about
    # CURVE_POINTS points per run however few epochs it has (a 2-epoch fine-tune still draws a curve), at least one
    # per epoch
    log_every = min(steps_per_epoch, max(1, recipe.epochs * steps_per_epoch // CURVE_POINTS))
    step_log = []
    pbar = progress.bar(total=recipe.epochs * steps_per_epoch, desc="fit", unit="step")
    t0 = time.time()
    for epoch in range(1, recipe.epochs + 1):
        if epoch_start is not None:
            steps += epoch_start(epoch, net, opt, gen)
            net.train()
        perm = torch.randperm(len(x_all), generator=gen)[:per_rank * world][rank::world]
        total, count = 0.0, 0
        window, window_n, pending = 0.0, 0, []
        for i in range(0, len(perm), recipe.batch_size):
            idx = perm[i:i + recipe.batch_size]
            xb = x_all[idx].to(device, non_blocking=True)
            if augment:
                xb = augment_batch(xb, recipe.augment, gen)
            xb = normalize(xb, meta)
            yb = y_all[idx]
            if target_fn is not None:
                yb = target_fn(yb, f_all[idx] if f_all is not None else None, gen)
            yb = yb.to(device, non_blocking=True)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                out = net(xb).float()
            loss = loss_fn(out, yb)
            if aux_loss is not None:
                loss = loss + aux_loss(out, yb)
            if batch_loss is not None:
                loss = batch_loss(net, loss, gen, x=xb, out=out)
            if loss_weight is not None:
                loss = loss * loss_weight(idx)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            if post_step is not None:
                post_step(model)
            steps += 1
            seen += len(idx)
            pbar.update(1)
            total += loss.detach() * len(idx)  # stays on the device: no per-step host sync
            count += len(idx)
            window, window_n = window + loss.detach(), window_n + 1
            if (i // recipe.batch_size + 1) % log_every == 0 or i + recipe.batch_size >= len(perm):
                pending.append((steps, window / window_n))
                window, window_n = 0.0, 0
        step_log += [{"step": s_, "epoch": epoch, "train_loss": float(v)} for s_, v in pending]  # one sync per epoch
        if world > 1:  # the epoch's loss over every rank's samples, as one process with the global batch logs it
            sums = torch.tensor([float(total), float(count)], dtype=torch.float64, device=device)
            torch.distributed.all_reduce(sums)
            total, count = sums.tolist()
        train_loss = float(total) / max(count, 1)
        val_pred = predict(model, val_x, meta, device)
        score = val_score(val_pred, val_y)
        history.append({"epoch": epoch, "train_loss": train_loss, val_metric: score})
        pbar.set_postfix({"epoch": epoch, "loss": f"{train_loss:.4f}", val_metric: f"{score:.4f}"}, refresh=False)
        if log:
            log.info("epoch %d: train loss %.4f, %s %.4f", epoch, train_loss, val_metric, score)
        if score < best:
            best, best_epoch, bad = score, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            bad += 1
            if recipe.patience and bad >= recipe.patience:
                break
    pbar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    seconds = time.time() - t0
    return {"history": history, "steps_log": step_log, "best_epoch": best_epoch, "best_val": best, "val_metric": val_metric, "steps": steps,
            "images": seen * world, "seconds": seconds, "images_per_s": seen * world / max(seconds, 1e-9)}
