"""SCRUB (Kurmanji et al. 2023, NeurIPS, "Towards unbounded machine unlearning"; meghdadk/SCRUB
``thirdparty/repdistiller/helper/loops.py::train_distill``): a student, started from the Original, is pushed away from
the frozen Original (the teacher) on the forget set while it stays close to it and fits the retain set. Epoch e:

- if e <= ``msteps``, first a max pass over the whole forget set (shuffled, batches of ``forget_batch``, the recipe's
  augmentation): one optimizer step per batch minimising -d(student(x), teacher(x));
- then the min pass, the fine-tune's epoch over the retain set: per batch gamma * L(student(x), y) +
  alpha * d(student(x), teacher(x)).

d is the temperature-scaled distillation divergence KL(softmax(t / T) || softmax(s / T)) * T^2 (batch mean) for a
classifier's logits, as published; for the regression tasks (LTD, UTKFace: one output per image) the squared
difference of the outputs, mean over the batch, takes its place (T unused). L is the task's loss (cross-entropy; MSE or
MAE). One optimizer (the recipe's) serves both passes, as in the authors' loop. The teacher is the Original as the
stage loaded it (an ensemble averages its members). Cost: per epoch the retain set forward and backward plus a teacher
forward of each retain image, and in the first ``msteps`` epochs the forget set forward and backward plus a teacher
forward of each forget image; every teacher forward counts as an image."""
from dataclasses import replace

import torch
from torch.nn import functional as F

from stages.core.config import Float, Int
from stages.methods import base


def divergence(s: torch.Tensor, t: torch.Tensor, T: float) -> torch.Tensor:
    """KL(softmax(t/T) || softmax(s/T)) * T^2, batch mean, for logits (B, K); mean squared difference for (B,)."""
    if s.dim() == 1:
        return (s - t).pow(2).mean()
    return F.kl_div(F.log_softmax(s / T, dim=1), F.softmax(t / T, dim=1), reduction="batchmean") * T * T


LR_SCALE = Float(min=0, min_open=True)


class SCRUB(base.Method):
    PARAMS = {"msteps": Int(min=0), "gamma": Float(min=0), "alpha": Float(min=0), "T": Float(min=0, min_open=True),
              "forget_batch": Int(min=1), "lr_scale": base.PerTask(LR_SCALE)}

    @classmethod
    def check_task(cls, cfg, task):
        base.task_value(cfg, "scrub", "lr_scale", task, LR_SCALE)

    def fit(self, model, seed, log=None, recipe=None):
        recipe = recipe or self.ctx.recipe
        scale = base.task_value(self.cfg, "scrub", "lr_scale", self.ctx.task.name, LR_SCALE)
        return super().fit(model, seed, log, replace(recipe, lr=recipe.lr * scale))

    @torch.no_grad()
    def teacher(self, x: torch.Tensor) -> torch.Tensor:
        """The frozen Original's output on ``x`` (each of its members' forwards counted in the cost)."""
        original = self.ctx.original
        self.ctx.extra_images += len(x) * len(getattr(original, "members", [original]))
        with self.ctx.autocast():
            return original(x).float()

    def epoch_start(self, epoch, net, opt, gen):
        if epoch > self.cfg["msteps"]:
            return 0
        forget, steps = self.ctx.role("forget"), 0
        net.train()
        for x, _ in self.ctx.batches(forget.x, forget.y, self.cfg["forget_batch"], gen=gen, augment=True):
            target = self.teacher(x)
            with self.ctx.autocast():
                out = net(x).float()
            loss = -divergence(out, target, self.cfg["T"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            steps += 1
        return steps

    def batch_loss(self, net, loss, gen, x=None, out=None):
        return self.cfg["gamma"] * loss + self.cfg["alpha"] * divergence(out, self.teacher(x), self.cfg["T"])
