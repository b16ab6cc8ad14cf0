"""The multi-agent RL classifier (stages/models/agents.py): geometry, the REINFORCE term, gradients, determinism,
and a tiny learning check."""
import pytest
import torch
import torch.nn.functional as F

from stages.models import agents
from stages.models.agents import (AgentClassifier, build, extract_patches, reinforce_loss, start_positions,
                                  step_positions)
from tests.tolerance import EXP_ROUNDINGS, rel_tol, sum_tol


def small(**kw):
    args = dict(in_channels=1, classes=3, canvas=12, agents=3, steps=3, window=4, hidden=16, feature=16,
                position=8, message=8)
    return AgentClassifier(**{**args, **kw})


def test_step_positions_moves_and_clips_at_all_borders():
    canvas, window = 10, 4  # positions in [0, 6]
    pos = torch.tensor([[[3, 3], [3, 3], [3, 3], [3, 3]]])
    moved = step_positions(pos, torch.tensor([[0, 1, 2, 3]]), canvas, window)
    assert moved.tolist() == [[[2, 3], [4, 3], [3, 2], [3, 4]]]
    border = torch.tensor([[[0, 2], [6, 2], [2, 0], [2, 6]]])  # top, bottom, left, right edges
    assert step_positions(border, torch.tensor([[0, 1, 2, 3]]), canvas, window).tolist() == border.tolist()
    assert step_positions(border, torch.tensor([[1, 0, 3, 2]]), canvas, window).tolist() == \
        [[[1, 2], [5, 2], [2, 1], [2, 5]]]


def test_extract_patches_matches_slicing():
    g = torch.Generator().manual_seed(0)
    B, C, S, w = 3, 2, 9, 4
    images = torch.randn(B, C, S, S, generator=g)
    pos = torch.tensor([[[0, 0], [5, 5], [0, 5]], [[5, 0], [2, 3], [1, 1]], [[4, 2], [0, 0], [5, 5]]])
    got = extract_patches(images, pos, w)
    assert got.shape == (B, 3, C * w * w)
    for b in range(B):
        for n in range(3):
            r, c = pos[b, n].tolist()
            assert torch.equal(got[b, n], images[b, :, r:r + w, c:c + w].flatten())


def test_start_positions_train_in_range_eval_fixed():
    g = torch.Generator().manual_seed(1)
    pos = start_positions(50, 4, 28, 6, train=True, generator=g)
    assert pos.shape == (50, 4, 2) and pos.dtype == torch.long
    assert pos.min() >= 0 and pos.max() <= 22 and len(set(map(tuple, pos.view(-1, 2).tolist()))) > 20
    a, b = start_positions(5, 3, 28, 6, train=False), start_positions(5, 3, 28, 6, train=False)
    assert torch.equal(a, b) and (a == a[:1]).all()  # same on every call and for every image
    assert a[0].tolist() == [[0, 0], [11, 11], [22, 22]]  # spread along the diagonal
    assert start_positions(2, 1, 10, 4, train=False).tolist() == [[[3, 3]], [[3, 3]]]


def test_reinforce_loss_by_hand():
    log_prob = torch.tensor([-1.0, -2.0, -0.5], requires_grad=True)
    reward = torch.tensor([-0.2, -1.0, -0.6], requires_grad=True)
    # baseline = mean(reward) = -0.6; advantage = [0.4, -0.4, 0.0]
    # loss = -mean([-1 * 0.4, -2 * -0.4, -0.5 * 0.0]) = -mean([-0.4, 0.8, 0.0]) = -0.4 / 3
    loss = reinforce_loss(log_prob, reward)
    # float32 against exact: the rewards' own rounding, the mean of 3 and its division, the subtraction (4 + 1),
    # then the product, the mean of 3 and the division (4); scale: the same expression on absolute values
    r, lp = reward.detach().abs(), log_prob.detach().abs()
    assert loss.item() == pytest.approx(-0.4 / 3, abs=sum_tol(9, (lp * (r + r.mean())).mean()))
    loss.backward()
    grad_tol = sum_tol(6, (r + r.mean()).max() / 3)  # the advantage (5 roundings), times the mean's 1 / 3
    assert torch.allclose(log_prob.grad, torch.tensor([-0.4, 0.4, 0.0]) / 3, rtol=0, atol=grad_tol)  # -advantage / B
    assert reward.grad is None or torch.all(reward.grad == 0)  # the advantage is detached


def test_forward_returns_log_probabilities():
    torch.manual_seed(0)
    model = small().eval()
    x, y = torch.randn(6, 1, 12, 12), torch.tensor([0, 1, 2, 0, 1, 2])
    out = model(x)
    assert out.shape == (6, 3) and model.log_prob is None
    run = model.trajectory(x)  # log p̄ is the log of the agents' mean softmax
    # float32 log-probabilities: log_softmax and logsumexp (2 exp and 2 log), the test's exp, and cross_entropy's own
    # log_softmax (an exp and a log), each a relative error that becomes an absolute one on the log scale, plus
    # about 20 sums, subtractions and divisions on values up to the largest |logit|; a missing normalisation
    # (log 3) or a mean of logits instead of probabilities is off by a tenth or more
    scale = 1 + 2 * max(run["logits"].abs().max().item(), out.abs().max().item())
    tol = rel_tol(6 * EXP_ROUNDINGS + 20) * scale
    assert tol < 1e-3
    assert torch.allclose(out.exp().sum(1), torch.ones(6), rtol=0, atol=tol)
    assert torch.allclose(F.cross_entropy(out, y), -out[torch.arange(6), y].mean(), rtol=0, atol=tol)
    assert torch.allclose(out.exp(), run["logits"].softmax(-1).mean(1), rtol=0, atol=tol)
    assert model.auxiliary_loss(out, y).item() == 0.0


@pytest.mark.parametrize("rnn", ["gru", "lstm"])
def test_every_part_gets_a_gradient(rnn):
    torch.manual_seed(0)
    model = small(rnn=rnn).train()
    assert isinstance(model.belief, torch.nn.GRUCell if rnn == "gru" else torch.nn.LSTMCell)
    assert type(model.decision) is type(model.belief)
    x, y = torch.randn(8, 1, 12, 12), torch.randint(0, 3, (8,))
    out = model(x)
    assert model.log_prob.shape == (8,) and model.log_prob.requires_grad
    (F.cross_entropy(out, y) + model.auxiliary_loss(out, y)).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    parts = {name.split(".")[0] for name, _ in model.named_parameters()}
    assert parts == {"b", "q", "m", "d", "belief", "decision", "policy", "head"}


def test_policy_learns_only_from_the_auxiliary_term():
    torch.manual_seed(0)
    model = small().train()
    x, y = torch.randn(8, 1, 12, 12), torch.randint(0, 3, (8,))
    F.cross_entropy(model(x), y).backward()  # moves are discrete: CE alone cannot reach the policy
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in model.policy.parameters())
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in model.decision.parameters())


def test_messages_come_from_the_other_agents():
    torch.manual_seed(0)
    model = small()
    h = torch.randn(2, 3, 16)
    decoded = model.d(model.m(h))
    heard = model._listen(h)
    # _listen: (sum of the 3 messages - own) / 2, the reference: mean of the 2 others: 4 roundings on terms whose
    # absolute values sum to sum_j |d_j| / 2
    tol = rel_tol(4) * decoded.abs().sum(1) / 2
    for i in range(3):
        others = [j for j in range(3) if j != i]
        assert ((heard[:, i] - decoded[:, others].mean(1)).abs() <= tol).all()
    assert torch.equal(small(agents=1)._listen(h[:, :1]), torch.zeros(2, 1, 8))  # a lone agent hears nothing


def test_trajectory_shapes_and_moves():
    torch.manual_seed(0)
    model = small().train()
    run = model.trajectory(torch.randn(5, 1, 12, 12))
    pos, moves = run["positions"], run["moves"]
    assert pos.shape == (5, 4, 3, 2) and moves.shape == (5, 3, 3)
    assert pos.min() >= 0 and pos.max() <= 8
    for t in range(3):  # each step is the policy's move, clipped
        assert torch.equal(pos[:, t + 1], step_positions(pos[:, t], moves[:, t], 12, 4))


def test_determinism():
    torch.manual_seed(3)
    a = small(rnn="lstm")
    torch.manual_seed(3)
    b = small(rnn="lstm")
    for (na, pa), (nb, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert na == nb and torch.equal(pa, pb)
    x = torch.randn(4, 1, 12, 12)
    a.eval()
    assert torch.equal(a(x), a(x))
    a.train()
    torch.manual_seed(7)
    first, lp1 = a(x), a.log_prob
    torch.manual_seed(7)
    second, lp2 = a(x), a.log_prob
    assert torch.equal(first, second) and torch.equal(lp1, lp2)
    torch.manual_seed(8)
    assert not torch.equal(a.trajectory(x)["positions"], a.trajectory(x)["positions"])  # train mode explores


def test_features_and_input_sizes():
    torch.manual_seed(0)
    model = build({"family": "agents", "in_channels": 1, "outputs": 10, "canvas": 28, "agents": 3, "steps": 2,
                   "window": 6, "hidden": 64, "rnn": "gru"}).eval()
    for size in (8, 28):  # 8x8 digits are upsampled to the canvas; canvas-size input is used as is
        x = torch.randn(4, 1, size, size)
        f = model.features(x)
        assert f.shape == (4, 64) and torch.equal(f, model.features(x))
        assert model(x).shape == (4, 10)
    x8 = torch.randn(2, 1, 8, 8)
    up = F.interpolate(x8, size=(28, 28), mode="bilinear", align_corners=False)
    assert torch.equal(model(x8), model(up))  # the model upsamples with this same call: bitwise the same


def test_build_rejects_bad_specs():
    spec = {"family": "agents", "in_channels": 1, "outputs": 10, "canvas": 28, "agents": 3, "steps": 5,
            "window": 6, "hidden": 64, "rnn": "lstm", "message": 16}
    model = build(spec)
    assert model.lstm and model.m.out_features == 16 and model.head.out_features == 10
    with pytest.raises(ValueError, match="unknown keys"):
        build({**spec, "arch": "resnet10"})
    with pytest.raises(ValueError, match="missing keys"):
        build({k: v for k, v in spec.items() if k != "steps"})
    with pytest.raises(ValueError, match="family"):
        build({**spec, "family": "resnet"})
    with pytest.raises(ValueError, match="rnn"):
        build({**spec, "rnn": "transformer"})


@pytest.mark.parametrize("rnn", ["gru", "lstm"])
def test_learns_a_toy_problem(rnn):
    """Class 0: the top-left quarter is bright, class 1: the bottom-right quarter; noisy background."""
    g = torch.Generator().manual_seed(0)
    n, size = 256, 16
    y = torch.arange(n) % 2
    x = 0.3 * torch.randn(n, 1, size, size, generator=g) - 1
    x[y == 0, :, :8, :8] += 2
    x[y == 1, :, 8:, 8:] += 2
    torch.manual_seed(0)
    model = AgentClassifier(classes=2, canvas=size, agents=2, steps=3, window=4, hidden=32, feature=32,
                            position=8, message=8, rnn=rnn)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        batch = torch.randint(0, n, (64,))
        model.train()
        out = model(x[batch])
        loss = F.cross_entropy(out, y[batch]) + model.auxiliary_loss(out, y[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    assert accuracy >= 0.9, accuracy
