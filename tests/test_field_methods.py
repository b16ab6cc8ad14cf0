"""The field's standard methods (GA, SCRUB, SalUn, l1-sparse, SSD): each core against a hand computation on a tiny
linear model over the tiny project's data, each method's cost counted image by image, none of them a no-op."""
from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from stages import methods, tasks
from stages.core import config
from stages.core.config import ParamError
from stages.data.arrays import normalize
from stages.methods import base, ga, l1_sparse, salun, scrub, ssd
from stages.models import resnet
from stages.models.fitting import Recipe
from tests.tiny import make_project
from tests.tolerance import EXP_ROUNDINGS, F32, gamma, rel_tol

NEW = ["ga", "scrub", "salun", "l1_sparse", "ssd"]
SETTINGS = {  # test settings: strong enough to act within one epoch of the tiny data
    "ga": {"lr_scale": 1.0},
    "scrub": {"msteps": 1, "gamma": 0.99, "alpha": 0.001, "T": 4.0, "forget_batch": 8, "lr_scale": 1.0},
    "salun": {"ratio": 0.5, "offset": {"ltd": [1, 2], "digits_class": [1, 9]}},
    "l1_sparse": {"alpha": 0.01},
    "ssd": {"alpha": 1.0, "lambda": 1.0},
}


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(config, "PARAMS_FILE", str(make_project(tmp_path)))
    return config.read_params()


def linear(task, seed=0) -> nn.Module:
    """A linear model over the flattened image: K logits for a classifier, one output for a regression task."""
    torch.manual_seed(seed)
    x = task.split("train").images
    k = task.classes if task.VAL_METRIC == "val_error" else 1
    head = [nn.Flatten(0)] if k == 1 else []
    return nn.Sequential(nn.Flatten(), nn.Linear(int(np.prod(x.shape[1:])), k), *head)


def context(task, original: nn.Module, epochs=1, lr=0.05, batch_size=16, seed=0) -> base.Context:
    original = resnet.Ensemble([copy.deepcopy(original)]).eval().requires_grad_(False)
    recipe = Recipe(epochs=epochs, batch_size=batch_size, optimizer="sgd", lr=lr, momentum=0.0, amp=False)
    return base.Context(task=task, original=original, recipe=recipe, device=torch.device("cpu"), seed=seed,
                        gen=torch.Generator().manual_seed(seed))


def flat_x(task, x) -> torch.Tensor:
    """The normalised, flattened images in float64 (the hand computations' input)."""
    return normalize(torch.as_tensor(np.array(x)), task.meta).flatten(1).double()


def params_of(model) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


# ---------------------------------------------------------------------------------------------- SalUn
def test_salun_mask_keeps_the_highest_gradients_over_all_weights():
    # nn.Linear(3, 2): 6 weights and 2 biases, ranked together
    g = [torch.tensor([[0.5, 3.0, 0.1], [2.0, 0.0, 1.0]]), torch.tensor([4.0, 0.2])]
    w, b = salun.saliency_mask(g, 0.5)  # int(0.5 * 8) = 4 kept: 4.0 (a bias), 3.0, 2.0, 1.0
    assert w.tolist() == [[False, True, False], [True, False, True]] and b.tolist() == [True, False]
    w, b = salun.saliency_mask(g, 0.3)  # int(2.4) = 2: 4.0 and 3.0, the two highest of ALL entries
    assert w.tolist() == [[False, True, False], [False, False, False]] and b.tolist() == [True, False]
    # small biases: a per-layer ranking would keep the larger bias, the ranking over all weights keeps none
    w, b = salun.saliency_mask([g[0], torch.tensor([0.05, 0.04])], 0.5)
    assert w.tolist() == [[True, True, False], [True, False, True]] and b.tolist() == [False, False]


def test_salun_saliency_is_the_summed_forget_gradient(project):
    """g = |sum over forget batches of the gradient of -CE| at the current weights: by hand (float64) for a linear
    classifier, whose gradient of -mean CE over a batch of n is -(softmax(z) - onehot(y))^T [x, 1] / n."""
    task = tasks.get("digits_class", project)
    net = linear(task)
    ctx = context(task, net, batch_size=16)
    got = salun.SalUn(SETTINGS["salun"], ctx).saliency(net)
    f = task.role("forget")
    x, y = flat_x(task, f.x), torch.as_tensor(np.array(f.y))
    x1 = torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], 1)  # the bias as a weight on a constant input
    W = torch.cat([p.detach().double().reshape(task.classes, -1) for p in net[1].parameters()], 1)
    want, tol = torch.zeros_like(W), torch.zeros_like(W)
    batches = range(0, len(x), 16)
    for i in batches:
        xb, yb = x1[i:i + 16], y[i:i + 16]
        p = torch.softmax(xb @ W.T, 1)
        d = p - nn.functional.one_hot(yb, task.classes).double()
        want -= d.T @ xb / len(xb)
        # float32 rounding: logits (65-term dot products) off by dz; softmax then off by at most p (2 max dz + its
        # own roundings); the backward sums 16 rows and the batches add up
        dz = gamma(66) * (xb.abs() @ W.abs().T).max(1, keepdim=True).values
        dd = p * (2 * dz + gamma(EXP_ROUNDINGS + 12))
        tol += (dd.T @ xb.abs() + gamma(18) * d.abs().T @ xb.abs()) / len(xb)
    tol += gamma(len(batches) + 1) * want.abs() + F32 * want.abs()
    assert ctx.extra_images == len(x)  # the saliency pass is counted: every forget image once
    flat = torch.cat([got[0].double(), got[1].double()[:, None]], 1)
    assert ((flat - want.abs()).abs() <= tol).all()
    assert want.abs().max() > 100 * tol.max()  # the tolerance is far below the gradients


def test_salun_moves_only_the_masked_weights_and_relabels_the_forget_rows(project):
    task = tasks.get("digits_class", project)
    net = linear(task)
    before = params_of(net)
    method = salun.SalUn(SETTINGS["salun"], context(task, net))
    method.fit(net, seed=0)
    for p0, p, m in zip(before, net.parameters(), method.mask):
        assert torch.equal(p.detach()[~m], p0[~m])  # masked out: the Original's value, bit for bit
    moved = sum(int((p.detach() != p0)[m].sum()) for p0, p, m in zip(before, net.parameters(), method.mask))
    assert moved > 0.5 * sum(int(m.sum()) for m in method.mask)
    y = torch.arange(10).repeat(50)
    forget = torch.arange(500) % 2 == 0
    out = method.target(y, forget, torch.Generator().manual_seed(0))
    assert torch.equal(out[~forget], y[~forget]) and (out[forget] != y[forget]).all()
    assert set(out[forget].tolist()) == set(range(10))  # every other class drawn


# ---------------------------------------------------------------------------------------------- SSD
def test_ssd_dampens_exactly_the_selected_weights():
    p = [torch.tensor([[1.0, 2.0], [3.0, -4.0]]), torch.tensor([5.0, 6.0])]
    i_d = [torch.tensor([[1.0, 1.0], [1.0, 0.0]]), torch.tensor([2.0, 1.0])]
    i_f = [torch.tensor([[20.0, 5.0], [11.0, 3.0]]), torch.tensor([0.0, 10.5])]
    out = [t.clone() for t in p]
    assert ssd.dampen(out, i_d, i_f, alpha=10.0, lam=1.0) == 4
    # selected (I_f > 10 I_D): 20 > 10, 11 > 10, 3 > 0, 10.5 > 10; the rest keep their bits
    want_w = torch.tensor([[1.0 * (1.0 * 1.0 / 20.0), 2.0], [3.0 * (1.0 / 11.0), -4.0 * 0.0]])
    assert torch.equal(out[0], want_w) and torch.equal(out[1], torch.tensor([5.0, 6.0 * (1.0 / 10.5)]))
    # min(lambda I_D / I_f, 1): a large lambda caps the factor at 1 (I_D = 0 still zeroes its weight)
    out = [t.clone() for t in p]
    ssd.dampen(out, i_d, i_f, alpha=10.0, lam=100.0)
    assert torch.equal(out[0], torch.tensor([[1.0, 2.0], [3.0, 0.0]])) and torch.equal(out[1], p[1])


def test_ssd_importance_is_the_mean_squared_batch_gradient(project):
    """I = mean over batches of grad^2 of the task loss (LTD: MSE): by hand (float64), the gradient of the mean of
    ([x, 1] . w - y)^2 over a batch of n is 2 (pred - y)^T [x, 1] / n."""
    task = tasks.get("ltd", project)
    net = linear(task)
    ctx = context(task, net, batch_size=16)
    f = task.role("forget")
    got = ssd.importance(ctx, net, f.x, f.y)
    x, y = flat_x(task, f.x), torch.as_tensor(f.y).double()
    x1 = torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], 1)
    w = torch.cat([p.detach().double().flatten() for p in net[1].parameters()])
    want, tol = torch.zeros_like(w), torch.zeros_like(w)
    batches = range(0, len(x), 16)
    for i in batches:
        xb, yb = x1[i:i + 16], y[i:i + 16]
        r = xb @ w - yb
        g = 2 * r @ xb / len(xb)
        want += g.pow(2) / len(batches)
        # float32: the residual off by its 770-term dot product's rounding, the gradient's 16-term sum; squared
        dr = gamma(770) * (xb.abs() @ w.abs() + yb.abs())
        dg = 2 * (dr + gamma(18) * r.abs()) @ xb.abs() / len(xb)
        tol += (2 * g.abs() * dg + dg.pow(2)) / len(batches)
    tol += gamma(len(batches) + 2) * want
    flat = torch.cat([got[0].double().flatten(), got[1].double()])
    assert ctx.extra_images == len(x)
    assert ((flat - want).abs() <= tol).all()
    assert want.max() > 100 * tol.max()


def test_ssd_changes_only_the_selected_weights_of_a_run(project):
    task = tasks.get("digits_class", project)
    net = linear(task)
    before = params_of(net)
    ctx = context(task, net)
    fit = ssd.SSD(SETTINGS["ssd"], ctx).fit(net, seed=0)
    full = task.training_data("original")
    i_f = ssd.importance(context(task, linear(task)), linear(task), task.role("forget").x, task.role("forget").y)
    i_d = ssd.importance(context(task, linear(task)), linear(task), full.train_x, full.train_y)
    n_chosen = 0
    for p0, p, a, b in zip(before, net.parameters(), i_d, i_f):
        chosen = b > SETTINGS["ssd"]["alpha"] * a
        n_chosen += int(chosen.sum())
        assert torch.equal(p.detach()[~chosen], p0[~chosen])
        assert torch.equal(p.detach()[chosen], p0[chosen] * torch.clamp(a[chosen] / b[chosen], max=1.0))
    assert 0 < n_chosen < sum(p.numel() for p in before)
    assert fit["steps"] == 0 and fit["history"] == [] and np.isfinite(fit["best_val"])
    assert ctx.extra_images == len(task.role("forget").x) + len(full.train_x)


# ---------------------------------------------------------------------------------------------- SCRUB
def test_scrub_divergence_by_hand():
    s = torch.tensor([[1.0, 0.0, -1.0], [0.5, 0.5, 2.0]])
    t = torch.tensor([[0.0, 1.0, 0.0], [2.0, 0.0, 0.0]])
    want = 0.0
    for si, ti in zip(s.tolist(), t.tolist()):  # KL(softmax(t / T) || softmax(s / T)) T^2, T = 2
        ps = [math.exp(v / 2) / sum(math.exp(u / 2) for u in si) for v in si]
        pt = [math.exp(v / 2) / sum(math.exp(u / 2) for u in ti) for v in ti]
        want += sum(q * (math.log(q) - math.log(r)) for q, r in zip(pt, ps)) * 4 / 2
    got = float(scrub.divergence(s, t, 2.0))
    assert abs(got - want) <= rel_tol(3 * EXP_ROUNDINGS + 20) * 4 * 2  # |terms| bounded by T^2 max|log p| per row
    assert float(scrub.divergence(torch.tensor([1.0, 3.0]), torch.tensor([2.0, 0.0]), 4.0)) == (1 + 9) / 2


def test_scrub_max_step_raises_the_divergence_on_forget_data(project):
    task = tasks.get("digits_class", project)
    teacher = linear(task)
    student = copy.deepcopy(teacher)
    with torch.no_grad():  # a student slightly off its teacher (the Original's copy in train mode is, through BN)
        for p in student.parameters():
            p.add_(0.01 * torch.randn(p.shape, generator=torch.Generator().manual_seed(1)))
    ctx = context(task, teacher, lr=0.05)
    method = scrub.SCRUB(SETTINGS["scrub"], ctx)
    f = task.role("forget")
    x = normalize(torch.as_tensor(f.x), task.meta)
    kl = lambda: float(scrub.divergence(student(x), teacher(x), 4.0).detach())  # noqa: E731
    before = kl()
    opt = torch.optim.SGD(student.parameters(), lr=0.05)
    steps = method.epoch_start(1, student, opt, torch.Generator().manual_seed(0))
    # two ascent steps from a divergence of ~1e-3: up by half or more (float32 rounding is ~1e-7 of it)
    assert steps == math.ceil(len(f.x) / 8) and kl() > 1.5 * before
    assert ctx.extra_images == 2 * len(f.x)  # every forget image through the student (fwd + bwd) and the teacher
    frozen = params_of(student)
    assert method.epoch_start(2, student, opt, torch.Generator()) == 0  # msteps = 1: no max pass in epoch 2
    assert all(torch.equal(a, b) for a, b in zip(frozen, student.parameters()))


def test_scrub_min_step_is_the_weighted_sum_and_lowers_the_retain_loss(project):
    task = tasks.get("digits_class", project)
    teacher = linear(task)
    student = linear(task, seed=1)
    ctx = context(task, teacher)
    method = scrub.SCRUB(SETTINGS["scrub"], ctx)
    r = task.role("retain")
    x, y = normalize(torch.as_tensor(np.array(r.x[:32])), task.meta), torch.as_tensor(np.array(r.y[:32]))
    out = student(x)
    ce = task.loss(out, y)
    loss = method.batch_loss(student, ce, torch.Generator(), x=x, out=out)
    kl = scrub.divergence(out, teacher(x), 4.0)
    ce_, kl_ = float(ce.detach()), float(kl.detach())
    assert abs(float(loss.detach()) - (0.99 * ce_ + 0.001 * kl_)) <= rel_tol(4) * (ce_ + kl_)
    assert ctx.extra_images == 32  # the teacher's forward of the batch
    opt = torch.optim.SGD(student.parameters(), lr=0.01)
    opt.zero_grad()
    loss.backward()
    opt.step()
    assert float(task.loss(student(x), y).detach()) < ce_


# ---------------------------------------------------------------------------------------------- l1-sparse
def test_l1_alpha_decays_linearly_and_the_penalty_is_the_l1_norm(project):
    assert [l1_sparse.decayed_alpha(0.2, e, 4) for e in range(4)] == [0.2 * (1 - e / 4) for e in range(4)]
    assert l1_sparse.decayed_alpha(0.2, 3, 4) == pytest.approx(0.05, rel=rel_tol(2))
    task = tasks.get("digits_class", project)
    net = linear(task)
    method = l1_sparse.L1Sparse({"alpha": 0.2}, context(task, net, epochs=4))
    seen = []
    real = method.batch_loss

    def spy(net_, loss, gen, x=None, out=None):
        seen.append(method.alpha_e)
        got = real(net_, loss, gen, x=x, out=out)
        norm = sum(float(p.detach().double().abs().sum()) for p in net_.parameters())
        assert abs(float(got) - (float(loss) + method.alpha_e * norm)) <= rel_tol(650 + 4) * (float(loss) + 0.2 * norm)
        return got
    method.batch_loss = spy
    method.fit(net, seed=0)
    steps = math.ceil(len(task.role("retain").x) / 16)
    assert seen == [0.2 * (1 - e / 4) for e in range(4) for _ in range(steps)]


# ---------------------------------------------------------------------------------------------- GA
@pytest.mark.parametrize("name", ["digits_class", "ltd"])
def test_ga_raises_the_forget_loss(project, name):
    task = tasks.get(name, project)
    net = linear(task)
    f = task.role("forget")
    x, y = normalize(torch.as_tensor(f.x), task.meta), task.target_tensor(f.y)
    before = float(task.loss(net(x), y))
    ctx = context(task, net, epochs=1, lr=0.01)
    fit = ga.GradientAscent({"lr_scale": 0.5}, ctx).fit(net, seed=0)
    with torch.no_grad():
        assert float(task.loss(net(x), y)) > before * 1.01
    assert fit["images"] == len(f.x) and fit["steps"] == math.ceil(len(f.x) / 16)  # the forget rows only


def test_ga_steps_with_its_own_learning_rate(project, monkeypatch):
    from stages.models import run

    task = tasks.get("digits_class", project)
    seen = []
    monkeypatch.setattr(run, "fit_task", lambda task, model, data, recipe, *a, **k: seen.append(recipe.lr) or {})
    ga.GradientAscent({"lr_scale": {"digits_class": 0.25, "ltd": 1.0}}, context(task, linear(task), lr=0.02)).fit(None, 0)
    assert seen == [0.02 * 0.25]


# ---------------------------------------------------------------------------------------------- every new method
def expected_cost(name: str, task, cfg: dict, epochs: int, batch: int) -> tuple[int, int]:
    """(optimizer steps, images) of one member, from the sizes of the roles (a teacher forward counts an image)."""
    n_r, n_f, n = (len(task.role(r).x) for r in ("retain", "forget", "full"))
    steps = lambda rows, b: epochs * math.ceil(rows / b)  # noqa: E731
    if name == "ga":
        return steps(n_f, batch), epochs * n_f
    if name == "scrub":
        m = min(cfg["msteps"], epochs)
        return steps(n_r, batch) + m * math.ceil(n_f / cfg["forget_batch"]), 2 * epochs * n_r + 2 * m * n_f
    if name == "salun":
        return steps(n, batch), n_f + epochs * n
    if name == "l1_sparse":
        return steps(n_r, batch), epochs * n_r
    return 0, n_f + n  # ssd


@pytest.mark.parametrize("name", NEW)
@pytest.mark.parametrize("task_name", ["digits_class", "ltd"])
def test_each_method_moves_the_weights_and_counts_its_cost(project, name, task_name):
    task = tasks.get(task_name, project)
    net = linear(task)
    before = params_of(net)
    ctx = context(task, net, epochs=2)
    fit = methods.get(name)(SETTINGS[name], ctx).fit(net, seed=0)
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters())), f"{name} left the weights as they were"
    assert (fit["steps"], fit["images"] + ctx.extra_images) == expected_cost(name, task, SETTINGS[name], 2, 16)


@pytest.mark.parametrize("name", NEW)
def test_each_method_is_deterministic_from_its_seed(project, name):
    task = tasks.get("digits_class", project)

    def once(seed):
        net = linear(task)
        methods.get(name)(SETTINGS[name], context(task, net, seed=seed)).fit(net, seed=seed)
        return params_of(net)
    a, b, c = once(0), once(0), once(1)
    assert all(torch.equal(p, q) for p, q in zip(a, b))
    if name != "ssd":  # SSD draws nothing: the same weights from every seed
        assert any(not torch.equal(p, q) for p, q in zip(a, c))


def test_per_task_settings_are_checked_before_any_data(project):
    p = copy.deepcopy(project)
    p["unlearn"]["methods"]["ga"]["lr_scale"] = {"ltd": 0.1}
    with pytest.raises(ParamError, match=r"unlearn\.methods\.ga\.lr_scale\.utk: missing"):
        methods.settings(p, "ga", "utk")
    p["unlearn"]["methods"]["scrub"]["lr_scale"] = {"utk": -1}
    with pytest.raises(ParamError, match=r"unlearn\.methods\.scrub\.lr_scale\.utk = -1"):
        methods.settings(p, "scrub", "utk")
    del p["unlearn"]["methods"]["salun"]["offset"]["utk"]
    with pytest.raises(ParamError, match=r"unlearn\.methods\.salun\.offset\.utk: missing"):
        methods.settings(p, "salun", "utk")
    assert methods.settings(p, "ga", "ltd")[0]["lr_scale"] == {"ltd": 0.1}


# ---------------------------------------------------------------------------------------------- the stage
@pytest.mark.parametrize("task_name", ["ltd", "digits_class"])
def test_stage_unlearn_runs_the_new_methods_and_records_their_cost(project, task_name):
    """Stage unlearn with each new method on a trained tiny Original: its outputs, its deterministic cost (the
    images_seen behind cost_images_vs_retrain) as the sizes of the roles give it, and SSD's empty curve."""
    from stages import task as task_stage
    from stages import train, unlearn

    task = tasks.get(task_name, project)
    train.main(["--dataset", task.dataset])
    task_stage.main(["--task", task_name])
    for name in NEW:
        unlearn.main(["--task", task_name, "--method", name])
        meta = json.load(open(f"models/{task_name}/{name}.json"))
        cfg, epochs = methods.settings(project, name, task_name)
        recipe = project["unlearn"][task_name]
        steps, images = expected_cost(name, task, cfg, epochs or recipe["epochs"], recipe["batch_size"])
        assert meta["optimizer_steps"] == [steps] * task.repeats, name
        assert meta["images_seen"] == [images] * task.repeats, name
        assert np.isfinite(meta["best_val"]).all(), name
    curve = open(f"reports/{task_name}/curves/ssd.csv").read().split()
    assert curve == ["step,epoch,train_loss," + task.VAL_METRIC]
