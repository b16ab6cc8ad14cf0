"""Models and the training loop on tiny data."""
import numpy as np
import torch

from stages.models import resnet, run
from stages.models.fitting import Recipe, fit
from stages.models.inference import predict
from tests.tolerance import EXP_ROUNDINGS, sum_tol

META = {"mean": [0.5], "std": [0.25]}
CPU = torch.device("cpu")


def blobs(n, seed=0, size=24):
    """Images with k bright squares; target k."""
    rng = np.random.default_rng(seed)
    x = np.full((n, 1, size, size), 40, np.uint8)
    y = rng.integers(0, 4, n)
    for i in range(n):
        for _ in range(y[i]):
            r, c = rng.integers(0, size - 4, 2)
            x[i, 0, r:r + 4, c:c + 4] = 220
    return x, y.astype(np.float32)


def spec(**kw):
    return {"arch": "resnet10", "in_channels": 1, "head": "linear", "target_max": 4.0, **kw}


def test_architectures_build_with_channels_and_heads():
    """Each arch is torchvision's block layout (known: resnet10 one BasicBlock per stage, resnet18 2-2-2-2,
    resnet34 3-4-6-3 BasicBlocks, resnet50 3-4-6-3 Bottlenecks), the stem takes in_channels, the head has one output
    and the sigmoid head is target_max * sigmoid(trunk output)."""
    from torchvision.models.resnet import BasicBlock, Bottleneck

    layout = {"resnet10": (BasicBlock, [1, 1, 1, 1], 512), "resnet18": (BasicBlock, [2, 2, 2, 2], 512),
              "resnet34": (BasicBlock, [3, 4, 6, 3], 512), "resnet50": (Bottleneck, [3, 4, 6, 3], 2048)}
    x = torch.randn(2, 3, 32, 32)
    for arch, (block, blocks, width) in layout.items():
        m = resnet.build(spec(arch=arch, in_channels=3, head="sigmoid", target_max=60.0)).eval()
        stages = [m.layer1, m.layer2, m.layer3, m.layer4]
        assert [len(s) for s in stages] == blocks and all(isinstance(b, block) for s in stages for b in s), arch
        assert m.conv1.in_channels == 3 and (m.fc.in_features, m.fc.out_features) == (width, 1)
        assert m.layer4 is m.net.layer4
        with torch.no_grad():
            # the same float32 operations as the forward (trunk, squeeze, sigmoid, times the float32 60): bitwise
            assert torch.equal(m(x), torch.tensor(60.0) * torch.sigmoid(m.net(x).squeeze(1)))
    for arch in ("resnet10", "resnet18", "resnet34"):  # the pipeline's small stem and narrow width, built here
        m = resnet.build(spec(arch=arch, stem="small", width=8))
        blocks = layout[arch][1]
        assert [len(s) for s in (m.layer1, m.layer2, m.layer3, m.layer4)] == blocks, arch
        assert [s[0].conv1.out_channels for s in (m.layer1, m.layer2, m.layer3, m.layer4)] == [8, 16, 32, 64]
        assert (m.conv1.kernel_size, m.conv1.stride, m.fc.in_features) == ((3, 3), (1, 1), 64)
    one = resnet.build(spec(in_channels=1)).eval()  # linear head: the trunk's single output itself
    assert one.conv1.in_channels == 1
    x1 = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        assert torch.equal(one(x1), one.net(x1).squeeze(1))


def test_training_lowers_the_loss_and_is_deterministic():
    x, y = blobs(96)
    r = Recipe(epochs=3, batch_size=16, optimizer="adam", lr=0.002, loss="mse", amp=False,
               augment={"hflip": 0.5, "rotation": 5, "brightness": 0.1, "contrast": 0.1, "invert": 0.0})
    torch.manual_seed(0)
    a = resnet.build(spec())
    before = np.mean((predict(a, x, META, CPU) - y) ** 2)
    res = fit(a, x, y, x[:32], y[:32], META, r, CPU, seed=0)
    assert res["history"][-1]["train_loss"] < res["history"][0]["train_loss"]
    assert np.mean((predict(a, x, META, CPU) - y) ** 2) < before
    torch.manual_seed(0)
    b = resnet.build(spec())
    fit(b, x, y, x[:32], y[:32], META, r, CPU, seed=0)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert res["steps"] == 3 * 6


def test_validation_runs_in_eval_mode_and_model_restored():
    """predict normalises (x / 255 - mean) / std and runs the model in eval mode: BatchNorm uses its running
    statistics (train mode would use the batch's, far from them), updates nothing, and the model keeps its mode."""
    x = (np.arange(6 * 16) * 7 % 256).astype(np.uint8).reshape(6, 1, 4, 4)
    m = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.BatchNorm1d(16), torch.nn.Linear(16, 1), torch.nn.Flatten(0))
    with torch.no_grad():
        m[1].running_mean.fill_(3.0)
        m[1].running_var.fill_(4.0)
    m.train()
    got = predict(m, x, META, CPU)
    assert m.training and torch.equal(m[1].running_mean, torch.full((16,), 3.0))
    assert m[1].num_batches_tracked.item() == 0
    xn = (torch.as_tensor(x).float() / 255.0 - 0.5) / 0.25
    with torch.no_grad():
        want = m.eval()(xn).numpy()  # the same operations on the same values: bitwise
        batch_stats = m.train()(xn).numpy()
    assert np.array_equal(got, want)
    assert np.abs(batch_stats - want).max() > 0.1  # the running statistics (3, 4) are far from the batch's


def test_saved_model_reloads_and_predicts_the_same(tmp_path):
    x, _ = blobs(8)
    members = [resnet.build(spec()), resnet.build(spec())]
    other = [resnet.build(spec())]
    resnet.save_checkpoint(tmp_path / "m.pt", spec(), [members, other], {"wall_time_s": 1.0})
    (model, second), ckpt = resnet.load_checkpoint(tmp_path / "m.pt")
    assert np.array_equal(predict(second, x, META, CPU), predict(resnet.Ensemble(other).eval(), x, META, CPU))
    ens = resnet.Ensemble(members).eval()
    assert np.array_equal(predict(model, x, META, CPU), predict(ens, x, META, CPU))
    assert ckpt["meta"]["wall_time_s"] == 1.0


def test_ensemble_member_seeds_differ():
    """Member k's seed is the name-derived seed (seed, "member", k): the first 8 bytes of sha256("<seed>/member/<k>")
    modulo 2**31 (known answers from hashlib), so members of one recipe differ and never collide with a method's."""
    import hashlib

    def ref(seed, k):
        return int.from_bytes(hashlib.sha256(f"{seed}/member/{k}".encode()).digest()[:8], "big") % 2**31

    seeds = [run.member_seed(s, k) for s in (0, 1) for k in range(3)]
    assert seeds == [ref(s, k) for s in (0, 1) for k in range(3)]
    assert len(set(seeds)) == 6


def test_augment_batch_flip_invert_identity_and_determinism():
    from stages.models.augment import augment_batch

    x = torch.zeros(3, 1, 12, 16, dtype=torch.uint8)
    x[:, :, 2:6, 1:5] = 200
    g = torch.Generator().manual_seed(0)
    off = {"hflip": 0.0, "rotation": 0, "brightness": 0.0, "contrast": 0.0, "invert": 0.0}
    assert torch.equal(augment_batch(x, off, g), x.float())
    # the flip goes through grid_sample: about 16 float32 roundings on coordinates up to 2 W pixels move each
    # sampling point by at most sum_tol(16, 2 W) pixels, which changes a bilinear value by at most that times the
    # largest pixel (a wrong flip is off by 200)
    flip_tol = sum_tol(16, 2 * x.shape[-1]) * float(x.max())
    assert torch.allclose(augment_batch(x, {**off, "hflip": 1.0}, g), x.float().flip(-1), rtol=0, atol=flip_tol)
    assert torch.equal(augment_batch(x, {**off, "invert": 1.0}, g), 255 - x.float())
    rot = augment_batch(x, {**off, "rotation": 5}, g)
    assert rot.shape == x.shape and not torch.equal(rot, x.float()) and rot.min() >= 0 and rot.max() <= 255
    full = {"hflip": 0.5, "rotation": 5, "brightness": 0.15, "contrast": 0.2, "invert": 0.2}
    a = augment_batch(x, full, torch.Generator().manual_seed(1))
    b = augment_batch(x, full, torch.Generator().manual_seed(1))
    assert torch.equal(a, b)


def test_init_output_starts_at_the_target_mean():
    x = torch.zeros(2, 1, 32, 32)
    for head, tmax in (("linear", 1.0), ("sigmoid", 60.0)):
        m = resnet.build(spec(head=head, target_max=tmax)).eval()
        with torch.no_grad():
            m.net.fc.weight.zero_()
        want = 37.5 if head == "sigmoid" else 2.5
        m.init_output(want)
        # linear: zero weights, the output is the bias itself (exact); sigmoid: 60 sigmoid(logit(0.625)) in float32,
        # an exp and a log and a few roundings relative to the output (the head's effect is a shift of several units)
        tol = 0.0 if head == "linear" else sum_tol(2 * EXP_ROUNDINGS + 8, want)
        assert torch.allclose(m(x), torch.full((2,), want), rtol=0, atol=tol)


def test_fit_shows_a_progress_bar_only_where_asked(monkeypatch, capsys):
    """tqdm over the training steps: on with UNLEARN_PROGRESS=1 (stderr), off with 0; the fit itself is unchanged."""
    from stages.core import progress

    x = (np.arange(40 * 16) % 255).astype(np.uint8).reshape(40, 1, 4, 4)
    y = np.linspace(0, 1, 40).astype(np.float32)
    meta = {"mean": [100.0], "std": [50.0]}
    out = {}
    for flag in ("1", "0"):
        monkeypatch.setenv("UNLEARN_PROGRESS", flag)
        assert progress.enabled() is (flag == "1")
        torch.manual_seed(0)
        m = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 1), torch.nn.Flatten(0))
        fit(m, x, y, x[:8], y[:8], meta, Recipe(epochs=2, batch_size=8, amp=False), torch.device("cpu"), 0)
        out[flag] = (capsys.readouterr().err, m[1].weight.detach().clone())
    assert "fit" in out["1"][0] and "step" in out["1"][0]
    assert out["0"][0] == ""
    assert torch.equal(out["1"][1], out["0"][1])
