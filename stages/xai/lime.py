"""LIME heatmaps on a fixed grid of superpixels, computed with Captum (``captum.attr.Lime``).

LIME (Ribeiro et al. 2016, "Why should I trust you?") explains one output f(x) of a model around one input x:
it switches groups of pixels ("superpixels") on and off at random, runs the model on every perturbed copy and
fits a weighted linear surrogate g(z) = w . z + b on the binary on/off vectors z. Weight w_i is the local effect
of superpixel i on the output; the heatmap paints w_i on the pixels of superpixel i.

- Superpixels: a fixed ``rows x cols`` grid (``explain.lime.grid.<task>``) instead of an image segmentation.
  Cell (i, j), feature index i * cols + j, covers pixel rows [ceil(i H / rows), ceil((i + 1) H / rows)) and the
  same for columns, so cell sizes differ by at most one pixel. The grid is the same for every image, so the
  weight vectors (:func:`grid_weights`) of different images and models are comparable coordinate by coordinate
  (IMU uses them as attribution vectors).
- Perturbation: each cell is kept with probability ``keep``; a dropped cell is set to 0 in the *normalised*
  input space (the per-channel dataset mean), i.e. x * M as SIDU's masks do. Sample 0 is the unperturbed image
  (all cells kept), as in the reference LIME implementation. One set of ``n_samples`` on/off vectors is drawn per
  call from a private generator seeded by ``seed`` and shared by all images (common random numbers: an image's
  weights do not depend on the other images of the batch, and differences between models are less noisy).
- Kernel: the reference LIME image kernel pi(z) = exp(-d(z)^2 / (2 kernel_width^2)), d the cosine distance
  between z and the all-ones vector (1 - sqrt(|z| / n_cells)), default width 0.25 as in ``lime_image``;
  computed in the interpretable space on the device (no host sync per sample).
- Surrogate: Captum's ``SkLearnRidge(alpha)`` (sklearn Ridge with sample weights pi and an intercept), not
  Captum's default ``SkLearnLasso(alpha=0.01)``: Lasso's penalty is in output units, so on softmax
  probabilities (cell effects of a few 0.01) it zeroes most or all cells (all-zero maps, undefined HC/AS) and its
  sparsity changes with the output's scale (years of age vs probabilities). Ridge's weights scale with the
  output, are never all zero, and with alpha ~ 1 against a sum of ~n_samples * keep kernel weights per cell they
  stay close to the weighted least-squares fit while the fit stays well-posed (e.g. a cell that was never or
  always dropped gets weight ~0 instead of an arbitrary one).

Explained output: a scalar-output model ((B,) or (B, 1), regression) -> that scalar; a classifier ((B, K),
K > 1) -> the softmax probability of class ``target`` (int or (B,) tensor; default the argmax of the unperturbed
prediction). An ensemble (``.members``) is explained through its own forward, the mean of the members' outputs
(one LIME fit of the averaged prediction; unlike SIDU, which averages per-member heatmaps, because LIME needs
nothing inside the model).

Sign: the maps are signed (``signed = True``): a positive weight means the cell is evidence *for* the explained
output (removing it lowers it), a negative one evidence against it. The heatmap metrics HC and AS are defined on
non-negative maps and use the positive part (see ``stages/xai/base.py``).

Cost: ``n_samples`` forward passes per image (plus one unperturbed pass per image), run in chunks of
``batch_size`` perturbed images (Captum's ``perturbations_per_eval``), without gradients and in eval mode, on
the model's device; one small sklearn fit per image on the host.
"""
from __future__ import annotations

import torch
from torch import nn

from stages.core import progress
from stages.core.config import Float, Int, List, ParamError, Section
from stages.core.seeds import derive_seed
from stages.xai import base

KERNEL_WIDTH = 0.25  # the reference LIME image explainer's kernel width (cosine distance on the on/off vector)


def _grid(grid) -> tuple[int, int]:
    rows, cols = (int(v) for v in grid)
    if rows < 1 or cols < 1:
        raise ValueError(f"grid = {tuple(grid)}: rows and cols must be >= 1")
    return rows, cols


def cell_index(height: int, width: int, grid) -> torch.Tensor:
    """(H, W) int64 map of the fixed grid: pixel (y, x) -> cell index (y * rows // H) * cols + x * cols // W."""
    rows, cols = _grid(grid)
    if rows > height or cols > width:
        raise ValueError(f"grid {rows} x {cols} is finer than the {height} x {width} image (empty cells)")
    r = torch.arange(height) * rows // height
    c = torch.arange(width) * cols // width
    return r[:, None] * cols + c[None, :]


def paint(weights: torch.Tensor, height: int, width: int, grid) -> torch.Tensor:
    """Heatmaps (B, H, W): each pixel carries the weight (B, rows * cols) of its grid cell."""
    idx = cell_index(height, width, grid).to(weights.device)
    return weights[:, idx]


def pooled_grid(heatmaps: torch.Tensor, grid) -> torch.Tensor:
    """Mean of heatmaps (B, H, W) over each grid cell: (B, rows * cols) float32 (inverse of :func:`paint`)."""
    rows, cols = _grid(grid)
    B, H, W = heatmaps.shape
    idx = cell_index(H, W, grid).to(heatmaps.device).reshape(-1)
    h = heatmaps.reshape(B, -1).double()
    sums = h.new_zeros(B, rows * cols).index_add_(1, idx, h)
    counts = torch.bincount(idx, minlength=rows * cols).to(h)
    return (sums / counts).float()


def _masks(n_samples: int, n_cells: int, keep: float, seed: int) -> torch.Tensor:
    """(n_samples, n_cells) int64 on/off vectors from a private CPU generator; row 0 keeps every cell."""
    g = torch.Generator().manual_seed(int(seed))
    z = (torch.rand(n_samples, n_cells, generator=g) < keep).long()
    z[0] = 1
    return z


def grid_weights(model: nn.Module, images: torch.Tensor, grid=(4, 4), n_samples: int = 500, keep: float = 0.8,
                 target=None, seed: int = 0, batch_size: int = 64, *, alpha: float = 1.0,
                 kernel_width: float = KERNEL_WIDTH, autocast: str | None = None,
                 stats: dict | None = None) -> torch.Tensor:
    """LIME weights (B, rows * cols) float32 on the CPU for normalised images (B, C, H, W) on the fixed grid.

    ``n_samples`` perturbed images per image (cells kept with probability ``keep``, dropped ones set to 0),
    evaluated ``batch_size`` at a time; surrogate Ridge(``alpha``) with the LIME kernel of width ``kernel_width``.
    ``target`` (int or (B,) tensor) picks the explained class of a classifier (default: argmax; ignored for a
    scalar output). ``seed`` fixes the perturbations: the same arguments give bitwise identical weights (on CUDA
    with deterministic cuDNN, as stage explain sets it), and the caller's random state is left as it was.
    ``autocast`` ("none" | "bf16" | "fp16") runs the forwards in mixed precision on CUDA. ``stats``, if given,
    receives n_forward (perturbed images evaluated) and n_cells. Ensembles are explained through their forward
    (mean output). See the module docstring.
    """
    from captum._utils.models.linear_model import SkLearnRidge
    from captum.attr import Lime

    rows, cols = _grid(grid)
    n_cells = rows * cols
    if n_samples < 1 or not 0 < keep < 1 or batch_size < 1:
        raise ValueError(f"n_samples = {n_samples}, keep = {keep}, batch_size = {batch_size}: need n_samples >= 1, "
                         "0 < keep < 1, batch_size >= 1")
    device = base.model_device(model)
    images = images.to(device, torch.float32)
    B, C, H, W = images.shape
    mask = cell_index(H, W, (rows, cols)).to(device)[None, None]  # (1, 1, H, W): broadcast over channels
    amp, fmt = base.amp(device, autocast), base.memory_format(model)
    z = _masks(n_samples, n_cells, keep, seed).to(device)

    def perturb(original, **kw):  # a generator function: Captum draws the samples from it in order
        yield from z[:, None]  # each (1, n_cells)

    def similarity(original, perturbed, interp, **kw):  # LIME kernel on the on/off vector, as a device tensor
        d = 1 - torch.sqrt(interp.sum().float() / n_cells)
        return torch.exp(-d * d / (2 * kernel_width ** 2))

    def run(x):
        with amp:
            return base.outputs(model(x.contiguous(memory_format=fmt)))

    out = torch.empty(B, n_cells)
    cuda = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda), torch.no_grad(), base.eval_mode(model):
        p = torch.cat([run(images[s:s + batch_size]) for s in range(0, B, batch_size)])
        if p.shape[1] > 1:
            c = p.argmax(1) if target is None else torch.as_tensor(target, device=device).long().expand(B)
        for b in progress.bar(range(B), desc="LIME images", unit="image"):
            if p.shape[1] == 1:
                f = lambda x: run(x)[:, 0]  # noqa: E731
            else:
                f = lambda x, cb=c[b]: run(x).softmax(1)[:, cb]  # noqa: E731
            lime = Lime(f, interpretable_model=SkLearnRidge(alpha=alpha), similarity_func=similarity,
                        perturb_func=perturb)
            w = lime.attribute(images[b:b + 1], baselines=0.0, feature_mask=mask, n_samples=n_samples,
                               perturbations_per_eval=min(batch_size, n_samples), return_input_shape=False)
            out[b] = w.reshape(-1).float().cpu()
    if stats is not None:
        stats.update(n_forward=B * n_samples, n_cells=n_cells)
    return out


class LIME(base.Explainer):
    """LIME (Captum) on a fixed ``grid`` of cells per task; Ridge surrogate. Signed maps: HC/AS use the positive
    part. Regression: the scalar output; classification: the softmax probability of ``target`` (default argmax).
    An ensemble is explained through its forward (mean of the members' outputs), not member by member."""
    signed = True
    PARAMS = {"grid": Section(), "n_samples": Int(min=1), "keep": Float(min=0, max=1, min_open=True, max_open=True),
              "alpha": Float(min=0), "kernel_width": Float(min=0, min_open=True)}

    def grid(self) -> tuple[int, int]:
        name = self.task.name
        key = f"{self.key}.grid.{name}"
        if name not in self.cfg["grid"]:
            raise ParamError(f"{key}: missing (the [rows, cols] of the task's LIME grid)")
        rows, cols = List(Int(min=1), length=2).check(key, self.cfg["grid"][name])
        return rows, cols

    def seed(self, grid) -> int:
        """The perturbation seed, derived from the settings (same settings -> same perturbations)."""
        return derive_seed(0, "lime", self.task.name, *grid, self.cfg["n_samples"], self.cfg["keep"])

    def explain(self, model, images, stats, target=None):
        grid = self.grid()
        H, W = images.shape[-2:]
        if grid[0] > H or grid[1] > W:
            raise ParamError(f"{self.key}.grid.{self.task.name} = {list(grid)}: finer than the {H} x {W} input")
        seed = self.seed(grid)
        w = grid_weights(model, images, grid, self.cfg["n_samples"], self.cfg["keep"], target=target, seed=seed,
                         batch_size=self.cfg["batch_size"], alpha=self.cfg["alpha"],
                         kernel_width=self.cfg["kernel_width"], autocast=self.cfg["autocast"], stats=stats)
        stats.update(seed=seed, members=len(getattr(model, "members", [model])))
        return paint(w, H, W, grid)
