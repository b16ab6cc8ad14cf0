"""IMU, interpretable machine unlearning (seed 003, Algorithms 2 and 3; REFERENCE section 10).

Fine-tune on the retain set; per retain batch, the cosine similarity of each retain image's attribution vector
with every forget image's (b x f), the mean of the non-zero entries of each row, averaged over the batch, is I_w;
every gradient is scaled by (1 - I_w) before the step (here: the batch loss, the same thing for every gradient).
Retain images that the Original explains like the forget images therefore move the weights less.

Attribution vectors: the Original's, one per training image on a fixed grid of cells (the same features in the same
order for every image), computed once per Original run by stage ``attributions`` (:mod:`stages.xai.attribution_vectors`:
Captum's LIME weights or input x gradient pooled on the grid, ``attributions.source.<task>``) and read here from
``data/tasks/<task>/attributions.npy``: the fine-tune never recomputes them, and a change to the attribution
settings reaches IMU through that file. Its cost counts those passes (``attributions.json``: the images they pushed
through the Original per run) besides the fine-tune's images.
"""
from __future__ import annotations

import numpy as np
import torch

from stages.core import paths
from stages.core.io import file_md5, read_json
from stages.methods import base


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


def load_vectors(task, repeat: int, repeats: int, root=".") -> np.ndarray:
    """The attribution vectors (training rows, cells) of run ``repeat`` of ``task``'s Original, checked against the
    task's training split and ``repeats`` (a stale file stops the stage, naming it)."""
    path = paths.attributions(task.name, root)
    if not path.exists():
        raise FileNotFoundError(f"{path}: missing (run stage attributions@{task.name}: dvc repro)")
    vec = np.load(path, mmap_mode="r")
    n = len(task.table("train"))
    if vec.ndim != 3 or vec.shape[0] != repeats or vec.shape[1] != n:
        raise ValueError(f"{path}: shape {vec.shape}, expected ({repeats} repeats, {n} training rows, cells); "
                         f"rerun stage attributions@{task.name}")
    return np.asarray(vec[repeat], dtype=np.float32)


class IMU(base.Method):
    """The fine-tune on retain, each step scaled by 1 - I_w (no settings of its own: the attributions' are in the
    ``attributions`` section of params.yaml)."""

    def __init__(self, cfg, ctx):
        super().__init__(cfg, ctx)
        vec = load_vectors(ctx.task, ctx.repeat, ctx.repeats, ctx.task.root)
        retain, forget = (torch.from_numpy(vec[ctx.role(r).rows]) for r in ("retain", "forget"))
        self.rsim = row_similarity(retain, forget).to(ctx.device)
        self.i_w = float(self.rsim.mean())
        self.source = paths.attributions(ctx.task.name, ctx.task.root)
        # the attribution passes over the training images are part of IMU's work: counted with its own batches
        ctx.extra_images += int(read_json(paths.attributions_cost(ctx.task.name, ctx.task.root))["images_per_run"])

    def record(self) -> dict:
        """The attributions this run read (path and MD5: which settings made them is in stage attributions' lock
        entry) and the mean row similarity I_w over the retain rows."""
        return {"attributions": self.source.relative_to(self.ctx.task.root).as_posix(),
                "attributions_md5": file_md5(self.source), "I_w_mean": round(self.i_w, 6)}

    def fit(self, model, seed, log=None):
        from stages.models import run

        task = self.ctx.task
        fit = run.fit_task(task, model, task.training_data("unlearned", "retain"), self.ctx.recipe, self.ctx.device,
                           seed, log=log, loss_weight=lambda idx: 1 - importance_weight(self.rsim, idx.to(self.rsim.device)))
        if log:
            log.info("IMU: mean row similarity I_w %.4f (attributions %s)", self.i_w, self.source)
        return fit
