"""Unlearning methods on a tiny model."""
import copy

import numpy as np
import torch
from torch import nn

from types import SimpleNamespace

from stages import methods
from stages.core import config
from stages.methods import base, confuse, prune, random_labels, reinit
from stages.models.fitting import Recipe, fit
from tests.conftest import ROOT
from tests.tolerance import rel_tol, sum_tol


def fake_ctx(task="t", target_range=(0.0, 10.0)):
    """The part of a method's context the edits and relabelling read: the task's name, target range and shift."""
    from stages.tasks.base import Task

    t = SimpleNamespace(name=task, target_range=target_range)
    t.shift_target = lambda y, off: Task.shift_target(t, y, off)  # the regression tasks' rule (clip to the range)
    return SimpleNamespace(task=t)


def tiny(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 6, 3),
                         nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 1), nn.Flatten(0))


def pooled(model):
    return torch.cat([getattr(m, n).detach().flatten() for m, n in base.prunable(model)])


def test_prune_zeroes_exact_fraction_of_pooled_weights():
    m = tiny()
    before = pooled(m)
    bn = copy.deepcopy(m[1].state_dict())
    prune.global_prune(m, 0.6)
    after = pooled(m)
    k = int(round(0.6 * len(before)))
    assert int((after == 0).sum()) == k
    # the zeroed ones are the smallest magnitudes of the pool, the others are unchanged
    order = torch.argsort(before.abs())
    assert (after[order[:k]] == 0).all() and torch.equal(after[order[k:]], before[order[k:]])
    assert all(torch.equal(v, bn[key]) for key, v in m[1].state_dict().items())  # BatchNorm untouched
    assert not any(hasattr(mod, "weight_mask") for mod in m.modules())  # zeros permanent, no mask kept


def test_reinit_redraws_every_zero_and_keeps_others():
    m = tiny()
    prune.global_prune(m, 0.7)
    pruned = pooled(m)
    reinit.reinit_zeros(m, torch.Generator().manual_seed(0))
    after = pooled(m)
    weights = torch.cat([getattr(mod, n).detach().flatten() for mod, n in base.prunable(m) if n == "weight"])
    assert not (weights == 0).any()  # every zeroed weight redrawn (biases: see the test below)
    keep = pruned != 0
    assert torch.equal(after[keep], pruned[keep])
    for mod, name in base.prunable(m):  # redrawn values within U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        # (2 r - 1) is exact for torch.rand's float32 r; the bound's rounding to float32 and the product: 2 roundings
        bound = max(1 / mod.weight[0].numel() ** 0.5, pruned.abs().max().item())
        assert getattr(mod, name).abs().max() <= bound * (1 + rel_tol(2))


def test_reinit_leaves_pruned_biases_at_zero_like_the_authors():
    # the authors' code redraws only pruned weights; a pruned bias (here every bias, forced to
    # the smallest magnitudes) stays zero, and unpruned biases keep their values
    m = tiny()
    with torch.no_grad():
        for mod, n in base.prunable(m):
            if n == "bias":
                mod.bias.fill_(1e-9)
        m[3].bias[0] = 5.0  # large: survives the pruning
    prune.global_prune(m, 0.5)
    biases = [mod.bias for mod, n in base.prunable(m) if n == "bias"]
    assert len(biases) == 3 and m[7].bias.item() == 0  # the last layer's bias is pruned too
    before = [b.detach().clone() for b in biases]
    reinit.reinit_zeros(m, torch.Generator().manual_seed(0))
    for b0, b in zip(before, biases):
        assert torch.equal(b, b0)
    assert m[7].bias.item() == 0 and m[3].bias[0].item() == 5.0 and (m[3].bias[1:] == 0).all()
    for mod, n in base.prunable(m):
        if n == "weight":
            assert not (mod.weight == 0).any()


def test_confuse_transposes_exactly_and_adds_noise_of_requested_std():
    m = tiny()
    convs = [copy.deepcopy(c.weight.detach()) for c in m if isinstance(c, nn.Conv2d)]
    confuse.confuse(m, 0.0, torch.Generator().manual_seed(0))
    for w0, c in zip(convs, [c for c in m if isinstance(c, nn.Conv2d)]):
        assert torch.equal(c.weight, w0.transpose(-1, -2))
    big = nn.Sequential(nn.Conv2d(64, 64, 3), nn.Flatten(), nn.Linear(4, 1))
    w0 = big[0].weight.detach().clone()
    confuse.confuse(big, 0.05, torch.Generator().manual_seed(1))
    noise = big[0].weight.detach() - w0.transpose(-1, -2)
    # sampling, not rounding: 36864 draws give standard errors of 0.0002 (std) and 0.0003 (mean); 0.002 is 7 or more
    assert abs(noise.std().item() - 0.05) < 0.002 and abs(noise.mean().item()) < 0.002
    assert (big[2].bias == 0).all()
    bound = (6 / (4 + 1)) ** 0.5
    assert big[2].weight.abs().max() <= bound


def test_random_labels_never_touch_retain_and_stay_in_range():
    meth = random_labels.RandomLabels({"offset": {"utk": [3, 6]}}, fake_ctx("utk", (20.0, 60.0)))
    gen = torch.Generator().manual_seed(0)
    y = torch.tensor([20.0, 25.0, 40.0, 60.0] * 250)
    forget = torch.tensor([True, True, False, False] * 250)
    out = meth.target(y, forget, gen)
    assert torch.equal(out[~forget], y[~forget])
    assert out.min() >= 20 and out.max() <= 60
    inner = forget & (y == 25.0)  # far enough from the bounds: offsets are exactly +-[3, 6]
    assert set((out - y)[inner].abs().tolist()) == {3.0, 4.0, 5.0, 6.0}
    assert not torch.equal(meth.target(y, forget, gen), out)  # a fresh draw every batch
    off = random_labels.random_offsets(1000, 3, 6, torch.Generator().manual_seed(0))
    assert set(off.tolist()) == {-6.0, -5.0, -4.0, -3.0, 3.0, 4.0, 5.0, 6.0}


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 255, (n, 1, 8, 8), dtype=np.uint8)
    y = x.reshape(n, -1).mean(1).astype(np.float32) / 50
    return x, y


META = {"mean": [0.5], "std": [0.25]}


def _finetune(method, seed=0, epochs=2):
    m = tiny()
    x, y = _data()
    method.edit(m, torch.Generator().manual_seed(seed))
    r = Recipe(epochs=epochs, batch_size=16, optimizer="sgd", lr=0.05, loss="mse", amp=False)
    fit(m, x, y, x[:16], y[:16], META, r, torch.device("cpu"), seed, target_fn=method.target,
        post_step=method.post_step_for(m, r.lr), forget_mask=np.arange(len(x)) % 2 == 0)
    return m


def test_anchored_with_huge_lambda_stays_at_original_weights():
    A = methods.get("anchored")
    m0 = tiny()
    m = _finetune(A({"lambda": 1e12}, fake_ctx()))
    # after each step the anchor sets p = p0 + (p - p0) / (1 + 0.1 lambda): the rounding of (p - p0) and of the
    # final add, a few ulps of the largest weight; the shrunk step itself (1e-11 times lr |grad|) is far smaller
    tol = sum_tol(3, max(p0.abs().max().item() for p0 in m0.parameters()))
    for p0, p in zip(m0.parameters(), m.parameters()):
        assert torch.allclose(p, p0, rtol=0, atol=tol)
    m_free = _finetune(A({"lambda": 0.0}, fake_ctx()))
    # without the anchor some weight moves by more than 1e-3, thousands of times the tolerance above
    assert tol < 1e-6
    assert any(not torch.allclose(p, p0, rtol=0, atol=1e-3) for p0, p in zip(m0.parameters(), m_free.parameters()))


def test_every_method_is_deterministic_from_its_seed():
    # (the field's methods' own loops and losses: tests/test_field_methods.py, on the tiny project's data)
    cfg = {"amount": 0.5, "sigma": 0.05, "lambda": 0.1, "offset": {"t": [3, 6]}, "alpha": 0.9, "lr_scale": 0.1,
           "msteps": 1, "gamma": 0.99, "T": 4.0, "forget_batch": 8, "ratio": 0.5}
    for name in methods.names(config.read_params(ROOT / "params.yaml")):
        M = methods.get(name)
        # skipped: a method whose __init__ reads the task's data and Original (IMU: tests/test_classification.py), and
        # SalUn, whose post-step keeps the saliency mask its own fit draws (tests/test_field_methods.py)
        if "__init__" in M.__dict__ or name == "salun":
            continue
        make = lambda seed: _finetune(M({k: cfg[k] for k in (*M.PARAMS, *M.SHARED)}, fake_ctx("t", (0.0, 10.0))),
                                      seed=seed)
        a, b, c = make(0), make(0), make(1)
        assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values())), name
        assert any(not torch.equal(p, q) for p, q in zip(a.state_dict().values(), c.state_dict().values())), name
