"""SIDU against a slow, obviously-correct per-mask loop, plus its contract (modes, hooks, grads, batching)."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from stages.models.resnet import Ensemble
from stages.xai.sidu import explain_model, sidu, sidu_weights, uniqueness

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


def slow_sidu(model, images, layer, threshold, sigma, target=None):
    """Textbook SIDU: one image, one mask, one forward pass at a time; explicit double loop for U."""
    model.eval()
    heatmaps = []
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
    return torch.stack(heatmaps).float()


@pytest.fixture
def images():
    return torch.randn(3, 1, 16, 16, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("outputs", [1, 3])
def test_matches_slow_loop(images, outputs):
    model = Tiny(outputs)
    fast = sidu(model, images, model.feat, **KW)
    slow = slow_sidu(model, images, model.feat, KW["threshold"], KW["sigma"])
    assert fast.shape == (3, 16, 16) and fast.dtype == torch.float32
    assert fast.max() > 0.01  # not trivially zero
    assert (fast - slow).abs().max() <= 1e-5


def test_classification_target(images):
    model = Tiny(3)
    slow = slow_sidu(model, images, model.feat, KW["threshold"], KW["sigma"], target=2)
    fast = sidu(model, images, model.feat, target=2, **KW)
    assert (fast - slow).abs().max() <= 1e-5
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

    col = Col()
    assert torch.allclose(sidu(col, images, model.feat, **KW), sidu(model, images, model.feat, **KW), atol=1e-7)


def test_mode_restored_no_hooks_no_grad(images):
    model = Tiny(1).train()
    model.c1.eval()  # a submodule with its own mode keeps it
    with torch.enable_grad():
        heat = sidu(model, images, model.feat, **KW)
    assert model.training and model.drop.training and not model.c1.training
    assert all(not m._forward_hooks for m in model.modules())
    assert not heat.requires_grad
    assert all(p.grad is None for p in model.parameters())
    # explained in eval mode: no dropout noise, same as explaining the eval-mode model
    assert torch.allclose(heat, sidu(model.eval(), images, model.feat, **KW), atol=1e-7)


@pytest.mark.parametrize("outputs", [1, 3])
def test_dedup_and_batch_size_do_not_change_result(images, outputs):
    model = Tiny(outputs)
    base, st = sidu(model, images, model.feat, **KW), {}
    dedup = sidu(model, images, model.feat, **{**KW, "dedup": True, "batch_size": 5}, stats=st)
    small = sidu(model, images, model.feat, **{**KW, "batch_size": 3})
    assert (base - dedup).abs().max() <= 1e-6 and (base - small).abs().max() <= 1e-6
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
    assert (dedup - sidu(model, images, model.feat, **KW)).abs().max() <= 1e-6


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
    assert torch.allclose(w, expected, rtol=1e-12, atol=0)
    # classification, 2 masks: U_0 = U_1 -> all weights 0
    w = sidu_weights(torch.tensor([[0.0, 1.0]]), torch.tensor([[[0.0, 1.0], [1.0, 0.0]]]), sigma=0.25)
    assert torch.equal(w, torch.zeros(1, 2, dtype=torch.float64))


@pytest.mark.parametrize("K", [1, 4])
def test_uniqueness_matches_pairwise_sum(K):
    g = torch.Generator().manual_seed(0)
    pk = torch.randn(3, 300, K, generator=g).double().round(decimals=1)  # many ties
    brute = (pk[:, :, None] - pk[:, None]).norm(dim=-1).sum(-1)
    assert torch.allclose(uniqueness(pk, batch_size=64), brute, rtol=1e-12, atol=1e-9)


def test_ensemble_helper(images):
    a, b = Tiny(1, seed=0), Tiny(1, seed=1)
    ens = Ensemble([a, b])
    st = {}
    heat = explain_model(ens, images, "feat", stats=st, **KW)
    ref = (sidu(a, images, a.feat, **KW) + sidu(b, images, b.feat, **KW)) / 2
    assert torch.allclose(heat, ref, atol=1e-7)
    assert st == {"n_masks": 8, "n_forward": 2 * 3 * 8, "members": 2}
    assert torch.equal(explain_model(a, images, "feat", **KW), sidu(a, images, a.feat, **KW))  # plain model


def test_bad_autocast(images):
    model = Tiny(1)
    with pytest.raises(ValueError, match="autocast"):
        sidu(model, images, model.feat, autocast="fp8", **KW)
    # bf16 is CUDA only: on the CPU it is float32
    assert torch.equal(sidu(model, images, model.feat, autocast="bf16", **KW), sidu(model, images, model.feat, **KW))
