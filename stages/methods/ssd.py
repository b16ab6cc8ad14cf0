"""SSD, selective synaptic dampening (Foster et al. 2024, AAAI; if-loops/selective-synaptic-dampening ``ssd.py``):
no training. Two importance passes at the Original's weights (eval mode, no augmentation, the recipe's batch size):
I_D = mean over the batches of the whole training set (the Original's targets) of grad^2, I_f the same over the
forget set (the diagonal of the Fisher information, per parameter). Every parameter with I_f > alpha * I_D is
specialised to the forget set and is dampened,

    theta <- theta * min(lambda * I_D / I_f, 1),

every other parameter keeps its value bit for bit (BatchNorm's running statistics too). The gradients are those of the
task's loss: cross-entropy on the classifiers, as published; the task's own MSE or MAE on LTD and UTKFace in its place.
Cost: one forward and backward pass over the training set and one over the forget set, no optimizer step."""
from __future__ import annotations

import time

import torch

from stages.core.config import Float
from stages.methods import base
from stages.models.inference import predict


def importance(ctx: base.Context, model, x, y) -> list[torch.Tensor]:
    """Mean over the batches of (x, y) of the squared gradient of the task loss, per parameter."""
    params = [p for p in model.parameters() if p.requires_grad]
    total = [torch.zeros_like(p) for p in params]
    n = 0
    for xb, yb in ctx.batches(x, y):
        model.zero_grad(set_to_none=True)
        with ctx.autocast():
            out = model(xb).float()
        ctx.task.loss(out, yb).backward()
        for t, p in zip(total, params):
            if p.grad is not None:
                t += p.grad.pow(2)
        n += 1
    model.zero_grad(set_to_none=True)
    return [t / max(n, 1) for t in total]


@torch.no_grad()
def dampen(params, full: list[torch.Tensor], forget: list[torch.Tensor], alpha: float, lam: float) -> int:
    """theta *= min(lam * I_D / I_f, 1) where I_f > alpha * I_D (in place); returns how many entries were dampened."""
    count = 0
    for p, i_d, i_f in zip(params, full, forget):
        chosen = i_f > alpha * i_d
        factor = torch.clamp(lam * i_d / torch.where(chosen, i_f, torch.ones_like(i_f)), max=1.0)
        p.copy_(torch.where(chosen, p * factor, p))
        count += int(chosen.sum())
    return count


ALPHA = Float(min=0)


class SSD(base.Method):
    PARAMS = {"alpha": base.PerTask(ALPHA), "lambda": Float(min=0)}   # alpha: one value, or {task: value}

    @classmethod
    def check_task(cls, cfg, task):
        base.task_value(cfg, "ssd", "alpha", task, ALPHA)

    def fit(self, model, seed, log=None, recipe=None):
        ctx, task = self.ctx, self.ctx.task
        t0 = time.time()
        model.to(ctx.device).eval()
        forget, full = ctx.role("forget"), task.training_data("original")
        i_f = importance(ctx, model, forget.x, forget.y)
        i_d = importance(ctx, model, full.train_x, full.train_y)
        params = [p for p in model.parameters() if p.requires_grad]
        alpha = base.task_value(self.cfg, "ssd", "alpha", task.name, ALPHA)
        n = dampen(params, i_d, i_f, alpha, self.cfg["lambda"])
        val = ctx.role("val")  # model selection's data: the score the fine-tunes' best epoch is chosen by
        score = task.val_score(predict(model, val.x, task.meta, ctx.device), val.y)
        model.train()
        if log:
            log.info("SSD: %d of %d weights dampened; %s %.4f", n, sum(p.numel() for p in params), task.VAL_METRIC,
                     score)
        seconds = time.time() - t0
        return {"history": [], "steps_log": [], "best_epoch": 0, "best_val": score, "val_metric": task.VAL_METRIC,
                "steps": 0, "images": 0, "seconds": seconds, "images_per_s": 0.0}
