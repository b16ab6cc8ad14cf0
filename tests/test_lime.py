"""LIME on a fixed grid (Captum): determinism, known answers on hand-made models, the grid painting, settings."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from stages.core import config
from stages.core.config import ParamError
from stages.models.resnet import Ensemble
from stages.xai.lime import KERNEL_WIDTH, LIME, _masks, cell_index, grid_weights, pooled_grid
from tests.tolerance import EXP_ROUNDINGS, rel_tol, sum_tol

KW = dict(n_samples=64, keep=0.5, batch_size=64)


def ridge_condition(n_cells: int, seed: int, alpha: float = 1.0) -> float:
    """Condition number of the weighted, centred ridge system A = Zc' diag(pi) Zc + alpha I that LIME's surrogate
    solves for ``grid_weights(..., seed=seed, **KW)`` (the same on/off vectors Z and kernel weights pi)."""
    z = _masks(KW["n_samples"], n_cells, KW["keep"], seed).double()
    d = 1 - (z.sum(1) / n_cells).sqrt()
    pi = torch.exp(-d * d / (2 * KERNEL_WIDTH ** 2))
    zc = z - (pi[:, None] * z).sum(0) / pi.sum()
    return torch.linalg.cond(zc.T @ (pi[:, None] * zc) + alpha * torch.eye(n_cells, dtype=torch.float64)).item()


def cnn(outputs: int = 3, seed: int = 0) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.ReLU(),
                      nn.Dropout(0.5), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, outputs))
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    return m


class CellSum(nn.Module):
    """Output = sum of the pixels of one grid cell (a fixed linear layer); a classifier: logits (0, s (sum - mu))."""

    def __init__(self, shape, grid, cell: int, classes: int = 1, scale: float = 1.0, shift: float = 0.0):
        super().__init__()
        C, H, W = shape
        self.fc = nn.Linear(C * H * W, 1)
        with torch.no_grad():
            self.fc.weight.copy_((cell_index(H, W, grid) == cell).float().expand(C, H, W).reshape(1, -1) * scale)
            self.fc.bias.fill_(-shift * scale)
        self.classes = classes

    def forward(self, x):
        s = self.fc(x.flatten(1))
        return s[:, 0] if self.classes == 1 else torch.cat([torch.zeros_like(s), s], 1)


@pytest.fixture
def images():
    return torch.randn(3, 1, 12, 12, generator=torch.Generator().manual_seed(1))


def explainer(grid=None, task="ltd", **cfg) -> LIME:
    cfg = {"grid": {"ltd": [3, 4]} if grid is None else grid, "n_samples": 80, "keep": 0.5, "alpha": 1.0,
           "kernel_width": 0.25, "batch_size": 64, "autocast": "none", **cfg}
    return LIME(cfg, SimpleNamespace(name=task), "explain.lime")


def test_deterministic_and_seeded(images):
    model = cnn()
    a = grid_weights(model, images, (3, 3), seed=0, **KW)
    assert a.shape == (3, 9) and a.dtype == torch.float32 and a.abs().max() > 0
    assert torch.equal(a, grid_weights(model, images, (3, 3), seed=0, **KW))   # bitwise
    other = grid_weights(model, images, (3, 3), seed=1, **KW)
    # other perturbations move some weight by about a tenth of the largest, not by rounding: require a hundredth
    assert (a - other).abs().max() > 0.01 * a.abs().max()
    # shared perturbations: an image's weights do not depend on the rest of the batch
    assert torch.equal(a[1:2], grid_weights(model, images[1:2], (3, 3), seed=0, **KW))
    ex = explainer()
    assert torch.equal(ex.explain(model, images, {}), ex.explain(model, images, {}))


def test_caller_rng_untouched(images):
    model = cnn()
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = grid_weights(model, images, (3, 3), seed=0, **KW)
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(7)  # another global state: same result (only ``seed`` matters)
    assert torch.equal(a, grid_weights(model, images, (3, 3), seed=0, **KW))


@pytest.mark.parametrize("grid,cell", [((3, 3), 5), ((4, 2), 2)])
def test_cell_sum_regression(grid, cell):
    x = torch.rand(4, 2, 12, 12, generator=torch.Generator().manual_seed(2)) + 0.5  # positive pixels
    idx = cell_index(12, 12, grid)
    for model in (CellSum((2, 12, 12), grid, cell), Ensemble([CellSum((2, 12, 12), grid, cell)] * 2)):
        w = grid_weights(model, x, grid, seed=3, alpha=0.01, **KW)  # ~no ridge shrinkage
        assert (w.argmax(1) == cell).all()
        truth = x[:, :, idx == cell].sum((1, 2))  # a linear model: LIME recovers the cell's pixel sum
        # not rounding: the ridge penalty alpha = 0.01 against about 30 (the kernel weights' sum) shrinks the weight
        # by about 0.1 %; 1 % allows that and fails for a weight of another cell or scale
        assert torch.allclose(w[:, cell], truth, rtol=0.01, atol=0)
        assert (grid_weights(model, x, grid, seed=3, **KW).argmax(1) == cell).all()  # default alpha 1
        others = torch.cat([w[:, :cell], w[:, cell + 1:]], 1)
        assert others.abs().max() < 0.02 * truth.min()


def test_cell_sum_classifier_target():
    grid, cell = (3, 3), 4
    x = torch.rand(4, 1, 12, 12, generator=torch.Generator().manual_seed(4)) + 0.5
    cell_sum = x[:, 0, cell_index(12, 12, grid) == cell].sum(1)
    model = CellSum((1, 12, 12), grid, cell, classes=2, scale=0.3, shift=float(cell_sum.mean()))  # unsaturated
    w1 = grid_weights(model, x, grid, target=1, seed=0, **KW)
    w0 = grid_weights(model, x, grid, target=torch.zeros(4, dtype=torch.long), seed=0, **KW)
    assert (w1.argmax(1) == cell).all() and (w1[:, cell] > 0).all()
    assert (w0.argmin(1) == cell).all() and (w0[:, cell] < 0).all()   # evidence against class 0
    # p0 = 1 - p1: w0 + w1 is the ridge fit of p0 + p1 - 1, the softmax's rounding (an exp and a few roundings; the
    # intercept takes the 1), and each float32 fit is within cond(A) gamma_n of its exact weights, n the 64 samples
    # summed into A plus the 9 Cholesky steps; scale: the weights and the fit of a target bounded by 1
    tol = ridge_condition(9, seed=0) * sum_tol(KW["n_samples"] + 9 + EXP_ROUNDINGS + 4, w1.abs().max() + 1)
    assert tol < 1e-3 * w1.abs().max()  # a class mix-up (w0 = w1) is off by twice the weights
    assert torch.allclose(w0, -w1, rtol=0, atol=tol)
    top = (cell_sum > cell_sum.mean()).long()                          # the predicted class
    default = grid_weights(model, x, grid, seed=0, **KW)
    assert torch.equal(default, grid_weights(model, x, grid, target=top, seed=0, **KW))
    assert not torch.equal(default, w1)


def test_heatmap_painted_on_uneven_grid():
    x = torch.randn(2, 1, 13, 11, generator=torch.Generator().manual_seed(5))
    model, ex, stats = cnn(1), explainer(), {}
    heat = ex.explain(model, x, stats)
    assert heat.shape == (2, 13, 11) and heat.dtype == torch.float32 and heat.device.type == "cpu"
    w = grid_weights(model, x, (3, 4), 80, 0.5, seed=ex.seed((3, 4)), batch_size=64)
    idx = cell_index(13, 11, (3, 4))
    sizes = torch.bincount(idx.flatten(), minlength=12).reshape(3, 4)
    assert sorted(set(sizes[:, 0].tolist())) == [12, 15] and sizes.sum() == 143   # rows 5/4/4 x cols 3/3/3/2
    for k in range(12):
        cell = heat[:, idx == k]
        assert torch.equal(cell, w[:, k:k + 1].expand_as(cell))  # constant per cell, = grid_weights
    # the mean of k copies of a float32 value, summed in float64, is exact: bitwise the weights
    assert torch.equal(pooled_grid(heat, (3, 4)), w)
    assert stats["n_forward"] == 2 * 80 and stats["n_cells"] == 12


def test_eval_mode_restored_no_grad(images):
    model = cnn().train()
    model[0].eval()
    with torch.enable_grad():
        w = grid_weights(model, images, (2, 2), seed=0, **KW)
    assert model.training and model[4].training and not model[0].training
    assert not w.requires_grad and all(p.grad is None for p in model.parameters())
    assert torch.equal(w, grid_weights(model.eval(), images, (2, 2), seed=0, **KW))  # no dropout noise


def test_settings_errors(images):
    with pytest.raises(ParamError, match=r"explain\.lime\.grid\.utk: missing"):
        explainer(task="utk").explain(cnn(), images, {})
    with pytest.raises(ParamError, match=r"explain\.lime\.grid\.ltd"):
        explainer(grid={"ltd": [3]}).explain(cnn(), images, {})
    with pytest.raises(ParamError, match=r"explain\.lime\.grid\.ltd"):
        explainer(grid={"ltd": [13, 2]}).explain(cnn(), images, {})  # finer than the 12 x 12 input
    ok = {"grid": {}, "n_samples": 10, "keep": 0.5, "alpha": 1.0, "kernel_width": 0.25}
    for key, bad in [("keep", 1.0), ("keep", 0), ("n_samples", 0), ("kernel_width", 0.0)]:
        with pytest.raises(ParamError, match=rf"explain\.lime\.{key}"):
            config.validate({**ok, key: bad}, LIME.PARAMS, "explain.lime")


def test_report_scores_the_positive_part_of_lime_maps():
    """LIME's maps are signed: the report's HC and AS of a LIME map are those of its positive part (the same
    numbers as for the clipped maps given as unsigned), not of the raw map with its negative cells."""
    import logging

    import pandas as pd

    from stages import explain_report

    boxes = pd.DataFrame({"row": [0, 1], "cls": ["human"] * 2, "x_tl": [0, 2], "y_tl": [0, 1], "x_br": [2, 4],
                          "y_br": [2, 4]})
    rng = np.random.default_rng(0)
    maps = {"original": rng.normal(size=(1, 2, 4, 4)), "finetune": rng.normal(size=(1, 2, 4, 4))}
    args = (["a", "b"], boxes, {"h-HC": ["human"]})
    log = logging.getLogger("test")
    got = explain_report.per_image(maps, *args, LIME.signed, log)[0]
    clipped = explain_report.per_image({m: np.clip(h, 0, None) for m, h in maps.items()}, *args, False, log)[0]
    raw = explain_report.per_image(maps, *args, False, log)[0]
    for m in maps:
        for k in got[m]:  # the same computation on the same clipped values: bitwise
            assert np.array_equal(got[m][k], clipped[m][k], equal_nan=True), (m, k)
    assert not np.array_equal(got["finetune"]["h-HC"], raw["finetune"]["h-HC"], equal_nan=True)


def test_gradient_attributions_of_a_linear_model_by_hand():
    """stages.xai.attribution_vectors.vectors, source gradient: for f(x) = sum(w * x) the input x gradient is x * w;
    summed over channels and averaged per cell of the grid (2 x 2 on a 4 x 6 image: cells of 2 x 3 pixels)."""
    from stages.xai import attribution_vectors

    g = torch.Generator().manual_seed(0)
    w = torch.randn(2, 4, 6, generator=g)

    class Linear(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(w.clone())

        def forward(self, x):
            return (x * self.w).sum((1, 2, 3))[:, None]

    images = torch.randint(0, 256, (5, 2, 4, 6), generator=g).to(torch.uint8).numpy()
    meta = {"mean": [0.5, 0.25], "std": [0.2, 0.4]}
    cfg = {"source": "gradient", "grid": [2, 2], "n_samples": 8, "keep": 0.5, "batch_size": 2}
    got = attribution_vectors.vectors(Linear(), images, meta, None, cfg, 0, torch.device("cpu"))
    x = (images / 255.0 - np.array(meta["mean"])[:, None, None]) / np.array(meta["std"])[:, None, None]
    pix = (x * w.double().numpy()).sum(1)  # (5, 4, 6)
    expected = np.stack([pix[:, r * 2:(r + 1) * 2, c * 3:(c + 1) * 3].mean((1, 2)) for r in range(2) for c in range(2)], 1)
    assert got.shape == (5, 4) and got.dtype == torch.float32
    # float32: normalisation (/255, - mean, / std and the rounding of mean and std: 5), x * gradient (1), the channel
    # sum (1) and the result's rounding (1), on terms bounded by |w| (b / 255 + mean) / std; the pooling is float64
    terms = (np.abs(w.double().numpy()) * (images / 255.0 + np.array(meta["mean"])[:, None, None])
             / np.array(meta["std"])[:, None, None]).sum(1)
    scale = np.stack([terms[:, r * 2:(r + 1) * 2, c * 3:(c + 1) * 3].mean((1, 2))
                      for r in range(2) for c in range(2)], 1)
    assert (np.abs(got.numpy() - expected) <= rel_tol(8) * scale).all()
    with pytest.raises(ParamError, match=r"attributions\.grid = \[5, 2\]: finer than the 4 x 6 input"):
        attribution_vectors.vectors(Linear(), images, meta, None, {**cfg, "grid": [5, 2]}, 0, torch.device("cpu"))
