"""IMU, interpretable machine unlearning (seed 003, Algorithms 2 and 3; REFERENCE section 10).

Fine-tune on the retain set; per retain batch, the cosine similarity of each retain image's attribution vector
with every forget image's (b x f), the mean of the non-zero entries of each row, averaged over the batch, is I_w;
every gradient is scaled by (1 - I_w) before the step (here: the batch loss, the same thing for every gradient).
Retain images that the Original explains like the forget images therefore move the weights less.

Attribution vectors are computed once per Original run, before the fine-tune, on a fixed grid of cells (the same
features in the same order for every image) for the explained output (the true class of a classifier, the scalar
of a regressor). ``source`` per task: ``lime`` (Captum's LIME weights, :func:`stages.xai.lime.grid_weights`; the
paper's choice) or ``gradient`` (Captum's input x gradient summed per cell: one backward pass per image, for
tasks where LIME over every training image would break the budget).
"""
from __future__ import annotations

import numpy as np
import torch

from stages.core import progress
from stages.core.config import Choice, Float, Int, List, ParamError, Section
from stages.data.arrays import normalize
from stages.methods import base

SOURCES = ("lime", "gradient")


def row_similarity(retain: torch.Tensor, forget: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
    """Per retain row: mean of the non-zero cosine similarities with the forget rows (0 when all are zero)."""
    f = torch.nn.functional.normalize(forget.double(), dim=1)
    out = []
    for i in range(0, len(retain), chunk):
        sim = torch.nn.functional.normalize(retain[i:i + chunk].double(), dim=1) @ f.T
        nz = (sim != 0).sum(1)
        out.append(torch.where(nz > 0, sim.sum(1) / nz.clamp(min=1), torch.zeros_like(sim[:, 0])))
    return torch.cat(out).float() if out else torch.zeros(0)


def importance_weight(rsim: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """I_w of a batch: the mean of its rows' similarities."""
    return rsim[idx].mean()


class Method(base.Method):
    PARAMS = {"source": Section(), "grid": List(Int(min=1), length=2), "n_samples": Int(min=2),
              "keep": Float(min=0, max=1, min_open=True, max_open=True)}

    def __init__(self, cfg, ctx):
        super().__init__(cfg, ctx)
        key = f"unlearn.methods.imu.source.{ctx.task.name}"
        if ctx.task.name not in cfg["source"]:
            raise ParamError(f"{key}: missing (lime | gradient for this task)")
        self.source = Choice(*SOURCES).check(key, cfg["source"][ctx.task.name])
        retain, forget = self.attributions("retain"), self.attributions("forget")
        self.rsim = row_similarity(retain, forget).to(ctx.device)
        self.stats = {"source": self.source, "I_w_mean": round(float(self.rsim.mean()), 6)}

    @torch.no_grad()
    def _images(self, role: str, i: int, j: int) -> torch.Tensor:
        return normalize(torch.as_tensor(np.asarray(self.ctx.role(role).x[i:j])).to(self.ctx.device), self.ctx.task.meta)

    def attributions(self, role: str, batch: int = 256) -> torch.Tensor:
        """(N, rows x cols) attribution vectors of the Original for the rows of ``role``."""
        from stages.xai import lime

        d, task, model = self.ctx.role(role), self.ctx.task, self.ctx.original
        target = task.explain_target(task.table(d.split).iloc[d.rows])
        out = []
        for i in progress.bar(range(0, len(d.x), batch), desc=f"IMU attributions ({role})", unit="batch"):
            x = self._images(role, i, i + batch)
            t = None if target is None else torch.tensor(target[i:i + batch], device=x.device)
            if self.source == "lime":
                w = lime.grid_weights(model, x, grid=tuple(self.cfg["grid"]), n_samples=self.cfg["n_samples"],
                                      keep=self.cfg["keep"], target=t, seed=self.ctx.seed + i)
            else:
                w = lime.pooled_grid(input_x_gradient(model, x, t), tuple(self.cfg["grid"]))
            out.append(w.float().cpu())
        return torch.cat(out) if out else torch.zeros(0, int(np.prod(self.cfg["grid"])))

    def fit(self, model, seed, log=None):
        from stages.models import run

        task = self.ctx.task
        fit = run.fit_task(task, model, task.training_data("unlearned", "retain"), self.ctx.recipe, self.ctx.device,
                           seed, log=log, loss_weight=lambda idx: 1 - importance_weight(self.rsim, idx.to(self.rsim.device)))
        if log:
            log.info("IMU attributions (%s): mean row similarity I_w %.4f", self.source, self.stats["I_w_mean"])
        return fit


def input_x_gradient(model, x: torch.Tensor, target) -> torch.Tensor:
    """Captum's input x gradient of the explained output, summed over channels: (B, H, W)."""
    from captum.attr import InputXGradient

    was = model.training
    model.eval()
    try:
        a = InputXGradient(model).attribute(x.clone().requires_grad_(True), target=target)
    finally:
        model.train(was)
    return a.detach().sum(1)
