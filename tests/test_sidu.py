"""SIDU against a slow, obviously-correct per-mask loop, plus its contract (modes, hooks, grads, batching).

Tolerances: two SIDU runs that batch the masked images differently get float32 model outputs that differ by
rounding, and SIDU amplifies that: the uniqueness U_k sums N - 1 output differences and is min-max normalised, so
an output change dP moves a weight by up to about 8 (N - 1) dP / (max U - min U). :func:`heat_tol` bounds the
heatmap difference from the outputs the two runs actually got, after checking that those differ by no more than
float32 rounding of the network can explain (:func:`output_tol`); outputs of another image or mask differ by far
more and fail that check. Each test also checks that its tolerance stays below a tenth of the heatmap's maximum:
a de-duplication that mixes up images (the all-ones grid of one image run for all three) moves the heatmap by
about a third of its maximum (0.08 of 0.26), and its outputs by 15 times :func:`output_tol`.
"""
import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from stages.models.resnet import Ensemble
from stages.xai.sidu import explain_model, feature_grids, masked_outputs, sidu, sidu_weights, uniqueness
from tests.tolerance import EXP_ROUNDINGS, rel_tol, sum_tol

KW = dict(threshold=0.1, sigma=0.5, batch_size=1000)


class Tiny(nn.Module):
    """Two conv layers; ``feat`` is the post-ReLU feature layer (8 maps of 8 x 8 for a 16 x 16 input)."""

    def __init__(self, outputs: int = 1, seed: int = 0, channels: int = 8):
        super().__init__()
        torch.manual_seed(seed)
        self.c1 = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU())
        self.feat = nn.Sequential(nn.Conv2d(4, channels, 3, stride=2, padding=1), nn.ReLU())
        self.drop = nn.Dropout(0.5)  # makes train mode visible in the outputs
        self.fc = nn.Linear(channels, outputs)
        self.outputs = outputs

    def forward(self, x):
        y = self.fc(self.drop(self.feat(self.c1(x)).mean((2, 3))))
        return y[:, 0] if self.outputs == 1 else y


# Roundings along Tiny's forward, input to output: the bilinear mask value and x * mask (about 8), conv 3x3x1 + bias
# (10 terms), conv 3x3x4 + bias (37), mean over 8 x 8 (64 + 1 division), linear 8 + bias (9).
TINY_CHAIN = 8 + 10 + 37 + 65 + 9


def output_tol(model, images) -> float:
    """How far two float32 evaluations of ``model`` (a :class:`Tiny`) on ``images`` or their masked copies can be
    apart, whatever the batching and summation order: 2 gamma_n times Tiny's forward on absolute values (|weights|,
    |biases|, |x|; the ReLUs then pass everything), which bounds every intermediate sum of absolute values and,
    being monotone in x, covers every mask (0 <= M <= 1)."""
    m = copy.deepcopy(model).eval()
    with torch.no_grad():
        for p in m.parameters():
            p.abs_()
        scale = m(images.abs()).abs().max().item()
    return sum_tol(TINY_CHAIN, scale)


def fast_outputs(model, images, batch_size=KW["batch_size"], dedup=False):
    """The raw outputs P (B, K) and P_k (B, N, K) that :func:`sidu` computes with these settings (same functions,
    same chunks, so bitwise the same)."""
    with torch.no_grad():
        grids, p = feature_grids(model.eval(), images, model.feat, KW["threshold"], batch_size)
        return p, masked_outputs(model, images, grids, batch_size, dedup)


def heat_tol(model, images, a, b, sigma=KW["sigma"]) -> float:
    """Bound on the difference of two SIDU heatmaps whose runs got the raw outputs ``a`` and ``b`` ((P, P_k) each).

    With dP the largest output difference (2 dP for softmax probabilities: |d p_c| <= 2 p_c max |d z|):
    SD = exp(-t^2 / (2 sigma^2)) has slope at most 1 / (sigma sqrt(e)) and t = P - P_k moves by 2 dP;
    U_k = sum_j ||P_k - P_j|| moves by dU = 2 (N - 1) sqrt(K) dP, and its min-max normalisation (U_k - lo) / d
    by at most 4 dU / (d - 2 dU); SD and the normalised U lie in [0, 1], so a weight moves by at most the sum,
    and the heatmap, a mean of weights times masks in [0, 1], by no more. Plus float32 rounding: the slow loop
    sums N weighted masks in float32 (N + 3 roundings of terms below 1) and each heatmap is rounded to float32."""
    (p, pk), (q, qk) = a, b
    dp = max((p - q).abs().max().item(), (pk - qk).abs().max().item())
    assert dp <= output_tol(model, images)  # rounding, not the outputs of another image or mask
    B, N, K = pk.shape
    probs = pk.double()
    if K > 1:
        dp, probs = 2 * dp, probs.softmax(-1)
    u = uniqueness(probs)
    d = (u.max(1).values - u.min(1).values).min().item()
    du = 2 * (N - 1) * math.sqrt(K) * dp
    assert d > 4 * du  # the U range dwarfs the rounding: the bound below is meaningful
    return 2 * dp / (sigma * math.sqrt(math.e)) + 4 * du / (d - 2 * du) + sum_tol(N + 3, 1.0)


def slow_sidu(model, images, layer, threshold, sigma, target=None):
    """Textbook SIDU: one image, one mask, one forward pass at a time; explicit double loop for U.
    Returns the heatmaps and the raw outputs P (B, K) and P_k (B, N, K) it used."""
    model.eval()
    heatmaps, outs, mask_outs = [], [], []
    for b in range(len(images)):
        x = images[b:b + 1]
        feats = []
        hook = layer.register_forward_hook(lambda m, i, o: feats.append(o))
        with torch.no_grad():
            p = model(x)
        hook.remove()
        A = feats[0][0]
        N = A.shape[0]
        masks, probs = [], []
        for k in range(N):
            grid = (A[k] > threshold).float()[None, None]
            mask = F.interpolate(grid, size=x.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
            with torch.no_grad():
                out = model(x * mask)
            masks.append(mask)
            probs.append(out.reshape(-1).double())
        outs.append(p.reshape(-1))
        mask_outs.append(torch.stack(probs).float())
        p = p.reshape(-1).double()
        if len(p) > 1:  # classification: softmax probabilities
            p, probs = p.softmax(0), [q.softmax(0) for q in probs]
            c = int(p.argmax()) if target is None else int(target)
            y, yk = p[c], [q[c] for q in probs]
        else:
            y, yk = p[0], [q[0] for q in probs]
        sd = [math.exp(-float(y - v) ** 2 / (2 * sigma ** 2)) for v in yk]
        u = [sum(float(torch.linalg.norm(probs[k] - probs[j])) for j in range(N)) for k in range(N)]
        u = [(v - min(u)) / (max(u) - min(u) + 1e-13) for v in u]
        heatmaps.append(sum(sd[k] * u[k] * masks[k] for k in range(N)) / N)
    return torch.stack(heatmaps).float(), torch.stack(outs), torch.stack(mask_outs)


@pytest.fixture
def images():
    return torch.randn(3, 1, 16, 16, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("outputs", [1, 3])
def test_matches_slow_loop(images, outputs):
    model = Tiny(outputs)
    fast = sidu(model, images, model.feat, **KW)
    slow, *slow_outputs = slow_sidu(model, images, model.feat, KW["threshold"], KW["sigma"])
    assert fast.shape == (3, 16, 16) and fast.dtype == torch.float32
    assert fast.max() > 0.01  # not trivially zero
    tol = heat_tol(model, images, fast_outputs(model, images), slow_outputs)
    assert tol < 0.1 * fast.max()  # far below the heatmap itself (see the module docstring)
    assert (fast - slow).abs().max() <= tol


def test_classification_target(images):
    model = Tiny(3)
    slow, *slow_outputs = slow_sidu(model, images, model.feat, KW["threshold"], KW["sigma"], target=2)
    fast = sidu(model, images, model.feat, target=2, **KW)
    tol = heat_tol(model, images, fast_outputs(model, images), slow_outputs)
    assert tol < 0.1 * fast.max()
    assert (fast - slow).abs().max() <= tol
    # explicit argmax target == default
    with torch.no_grad():
        top = model.eval()(images).argmax(1)
    assert torch.equal(sidu(model, images, model.feat, target=top, **KW), sidu(model, images, model.feat, **KW))


def test_output_shape_b1_is_regression(images):
    model = Tiny(1)

    class Col(nn.Module):  # same model, output (B, 1)
        def __init__(self):
            super().__init__()
            self.m = model

        def forward(self, x):
            return self.m(x)[:, None]

    col = Col()  # the same forward passes, only reshaped: bitwise the same heatmaps
    assert torch.equal(sidu(col, images, model.feat, **KW), sidu(model, images, model.feat, **KW))


def test_mode_restored_no_hooks_no_grad(images):
    model = Tiny(1).train()
    model.c1.eval()  # a submodule with its own mode keeps it
    with torch.enable_grad():
        heat = sidu(model, images, model.feat, **KW)
    assert model.training and model.drop.training and not model.c1.training
    assert all(not m._forward_hooks for m in model.modules())
    assert not heat.requires_grad
    assert all(p.grad is None for p in model.parameters())
    # explained in eval mode: no dropout noise, the same computation as explaining the eval-mode model (bitwise)
    assert torch.equal(heat, sidu(model.eval(), images, model.feat, **KW))


@pytest.mark.parametrize("outputs", [1, 3])
def test_dedup_and_batch_size_do_not_change_result(images, outputs):
    model = Tiny(outputs)
    base, st = sidu(model, images, model.feat, **KW), {}
    dedup = sidu(model, images, model.feat, **{**KW, "dedup": True, "batch_size": 5}, stats=st)
    small = sidu(model, images, model.feat, **{**KW, "batch_size": 3})
    ref = fast_outputs(model, images)
    for heat, bs, dd in ((dedup, 5, True), (small, 3, False)):
        tol = heat_tol(model, images, ref, fast_outputs(model, images, bs, dd))
        assert tol < 0.1 * base.max()
        assert (base - heat).abs().max() <= tol
    assert st["n_masks"] == 8 and st["n_forward"] <= 3 * 8


def test_dedup_runs_identical_grids_once(images):
    model = Tiny(1)
    with torch.no_grad():  # channels 1..7 copy channel 0: every image has one distinct grid
        model.feat[0].weight[1:] = model.feat[0].weight[0]
        model.feat[0].bias[1:] = model.feat[0].bias[0]
    st = {}
    heat = sidu(model, images, model.feat, dedup=True, stats=st, **KW)
    assert st["n_forward"] == 3  # one forward per image
    assert torch.equal(heat, torch.zeros_like(heat))  # all U_k equal -> normalised to 0


def test_dedup_keeps_images_apart(images):
    model = Tiny(1)
    with torch.no_grad():  # channel 0 always on (all-ones grid in every image), 1 and 2 always off
        model.feat[0].bias[0], model.feat[0].bias[1:3] = 100.0, -100.0
    st = {}
    dedup = sidu(model, images, model.feat, dedup=True, stats=st, **KW)
    assert st["n_forward"] <= 3 * 7  # the two all-zero grids of an image run once
    base = sidu(model, images, model.feat, **KW)
    # the outputs of the all-ones grid differ between images by far more than rounding (heat_tol checks)
    tol = heat_tol(model, images, fast_outputs(model, images), fast_outputs(model, images, dedup=True))
    assert tol < 0.1 * base.max()
    assert (dedup - base).abs().max() <= tol


def test_identical_masks_identical_contributions():
    torch.manual_seed(0)
    p = torch.randn(2, 1)
    pk = torch.randn(2, 6, 1)
    pk[:, 4] = pk[:, 1]  # masks 1 and 4 gave the same output
    w = sidu_weights(p, pk, sigma=1.0)
    assert torch.equal(w[:, 1], w[:, 4])
    pc = torch.randn(2, 6, 3)
    pc[:, 5] = pc[:, 0]
    w = sidu_weights(torch.randn(2, 3), pc, sigma=0.25)
    assert torch.equal(w[:, 0], w[:, 5])


def test_weights_hand_computed():
    # P = 1, P_k = 1, 2, 4, sigma 1: SD = 1, e^-0.5, e^-4.5; U = 4, 3, 5 -> (0.5, 0, 1)
    w = sidu_weights(torch.tensor([[1.0]]), torch.tensor([[[1.0], [2.0], [4.0]]]), sigma=1.0)
    expected = torch.tensor([[0.5 * (1 - 1e-13 / 2), 0.0, math.exp(-4.5) * 2 / (2 + 1e-13)]], dtype=torch.float64)
    # float64 both: an exp and about 8 roundings per weight; the 0 is exact (U_k - min U = 0)
    assert torch.allclose(w, expected, rtol=rel_tol(EXP_ROUNDINGS + 8, torch.float64), atol=0)
    # classification, 2 masks: U_0 = U_1 -> all weights 0
    w = sidu_weights(torch.tensor([[0.0, 1.0]]), torch.tensor([[[0.0, 1.0], [1.0, 0.0]]]), sigma=0.25)
    assert torch.equal(w, torch.zeros(1, 2, dtype=torch.float64))


@pytest.mark.parametrize("K", [1, 4])
def test_uniqueness_matches_pairwise_sum(K):
    g = torch.Generator().manual_seed(0)
    pk = torch.randn(3, 300, K, generator=g).double().round(decimals=1)  # many ties
    brute = (pk[:, :, None] - pk[:, None]).norm(dim=-1).sum(-1)
    # float64 sums of N norms (brute) or prefix sums over N values (K = 1): N + K + 6 roundings on terms whose absolute
    # values sum to at most N |x_k| + sum_j |x_j| per row, twice (the K = 1 path subtracts two such sums); the values
    # lie on a 0.1 grid, so a missed or doubled pair would be off by far more
    N = pk.shape[1]
    norm1 = pk.abs().sum(-1)
    scale = 2 * (N * norm1 + norm1.sum(1, keepdim=True))
    assert (uniqueness(pk, batch_size=64) - brute).abs().le(rel_tol(N + K + 6, torch.float64) * scale).all()


def test_ensemble_helper(images):
    a, b = Tiny(1, seed=0), Tiny(1, seed=1)
    ens = Ensemble([a, b])
    st = {}
    heat = explain_model(ens, images, "feat", stats=st, **KW)
    ref = (sidu(a, images, a.feat, **KW) + sidu(b, images, b.feat, **KW)) / 2
    assert torch.equal(heat, ref)  # the same member heatmaps, summed and halved in the same float32 operations
    assert st == {"n_masks": 8, "n_forward": 2 * 3 * 8, "members": 2}
    assert torch.equal(explain_model(a, images, "feat", **KW), sidu(a, images, a.feat, **KW))  # plain model


def test_bad_autocast(images):
    model = Tiny(1)
    with pytest.raises(ValueError, match="autocast"):
        sidu(model, images, model.feat, autocast="fp8", **KW)
    # bf16 is CUDA only: on the CPU it is float32
    assert torch.equal(sidu(model, images, model.feat, autocast="bf16", **KW), sidu(model, images, model.feat, **KW))
