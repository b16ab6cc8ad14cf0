"""SalUn, saliency unlearning (Fan et al. 2024, ICLR; OPTML-Group/Unlearn-Saliency ``Classification/generate_mask.py``,
``unlearn/RL.py``): random-label training restricted to the weights that matter most for the forget set.

1. Saliency: g = |sum over forget batches of the gradient of -L(f(x_f), y_f)| at the Original's weights (eval mode,
   no augmentation; the authors' script also takes an SGD step after each batch), y_f the target the Original learned. The mask is 1 on the ``ratio`` share of entries with the
   HIGHEST g, ranked over all parameters together (the first release kept the lowest, a bug fixed later), 0 elsewhere.
2. Random-label training on every training row (``data: full``, the authors' ImageNet-style concatenation of the forget
   and retain loaders): forget rows get a random target, fresh every batch, retain rows their own; only the masked
   weights move. The gradient is masked before the step in the authors' code, and the later release also puts the
   masked-out weights back after it (weight decay, momentum); here they are put back after every step, which is the
   same for the element-wise optimizers of the recipes (SGD, Adam: a kept weight's step never depends on another
   weight's gradient).

Random targets as the random_labels method draws them (``offset.<task>``: an offset in [lo, hi] with a random sign
through the task's ``shift_target``): classifiers, another class uniformly (the paper; the authors' code also draws
the true class); LTD and UTKFace, the regression tasks: y plus a random offset in the target's units, clipped to its
range, where the paper draws a random class. L is the task's loss (cross-entropy; MSE or MAE on LTD and UTKFace).
Cost: the forget rows once (the saliency pass) and every training row per epoch."""
import torch

from stages.core.config import Float
from stages.methods import base


def saliency_mask(grads: list[torch.Tensor], ratio: float) -> list[torch.Tensor]:
    """Per parameter a bool mask: True on the int(ratio * n) entries with the highest ``grads`` of all n entries
    ranked together (ties: the earlier entry in parameter order)."""
    flat = torch.cat([g.flatten() for g in grads])
    keep = torch.zeros(len(flat), dtype=torch.bool)
    keep[torch.argsort(flat.cpu(), descending=True, stable=True)[: int(ratio * len(flat))]] = True
    out, start = [], 0
    for g in grads:
        out.append(keep[start:start + g.numel()].view(g.shape).to(g.device))
        start += g.numel()
    return out


class SalUn(base.RandomTargets):
    PARAMS = {"ratio": Float(min=0, max=1, min_open=True), **base.RandomTargets.PARAMS}   # offset: {task: [lo, hi]}

    def saliency(self, model) -> list[torch.Tensor]:
        """|sum over the forget batches of the gradient of -L| per parameter, at the current weights."""
        forget = self.ctx.role("forget")
        params = [p for p in model.parameters() if p.requires_grad]
        total = [torch.zeros_like(p) for p in params]
        model.eval()
        for x, y in self.ctx.batches(forget.x, forget.y):
            model.zero_grad(set_to_none=True)
            with self.ctx.autocast():
                out = model(x).float()
            (-self.ctx.task.loss(out, y)).backward()
            for t, p in zip(total, params):
                if p.grad is not None:
                    t += p.grad
        model.zero_grad(set_to_none=True)
        model.train()
        return [t.abs() for t in total]

    def fit(self, model, seed, log=None, recipe=None):
        self.mask = saliency_mask(self.saliency(model), self.cfg["ratio"])
        if log:
            kept = sum(int(m.sum()) for m in self.mask)
            log.info("SalUn: %d of %d weights free to move", kept, sum(m.numel() for m in self.mask))
        return super().fit(model, seed, log, recipe)

    def post_step_for(self, model, lr):
        params = [p for p in model.parameters() if p.requires_grad]
        frozen = [(p, m, p.detach().clone()) for p, m in zip(params, self.mask)]

        @torch.no_grad()
        def post_step(_model):
            for p, m, p0 in frozen:
                p.copy_(torch.where(m, p, p0))
        return post_step
