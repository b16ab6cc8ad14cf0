"""The per-task track: digits export/prepare, the two forget requests, the metrics (completeness,
MIA_efficacy, cross-entropy), random labels as another class, and IMU's importance weight I_w."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from stages import tasks
from stages.core.config import ParamError
from stages.data import digits, mnist
from stages.methods import imu
from stages.metrics.families import classification as cls
from tests import tiny
from tests.tolerance import EXP_ROUNDINGS, rel_tol, sum_tol


# ---------------------------------------------------------------------------------------------- data
def test_export_writes_real_digits_as_mnist_idx(tmp_path):
    r = digits.export_sklearn(tmp_path / "raw", seed=0, test_share=0.2)
    x_tr, y_tr, x_te, y_te = mnist.load(tmp_path / "raw")
    assert r["images"] == 1797 and len(y_tr) + len(y_te) == 1797 and len(y_te) == r["test"]
    assert x_tr.shape[1:] == (8, 8) and x_tr.dtype == np.uint8 and x_tr.max() == 255
    # stratified: every class keeps its share in the test files (within one image)
    from sklearn.datasets import load_digits

    full = np.bincount(load_digits().target, minlength=10)
    assert np.all(np.abs(np.bincount(y_te, minlength=10) - 0.2 * full) <= 1)
    # the same seed writes the same bytes (gzip-free, no timestamps)
    digits.export_sklearn(tmp_path / "again", seed=0, test_share=0.2)
    for f in (tmp_path / "raw").iterdir():
        assert f.read_bytes() == (tmp_path / "again" / f.name).read_bytes()


def _cfg(root, **over):
    cfg = {"root": str(root), "format": "mnist", "seed": 0, "image_size": 8, "val_share": 0.2,
           "limit": {"train": 0, "test": 0}, "min_split": {"train": 20, "val": 10, "test": 20}}
    cfg.update(over)
    return cfg


def test_prepare_splits_stratified_and_keeps_provenance(tmp_path):
    digits.export_sklearn(tmp_path / "raw", seed=0, test_share=0.2)
    stats = digits.prepare(_cfg(tmp_path / "raw"), tmp_path / "prep")
    t = {s: pd.read_csv(tmp_path / "prep" / f"{s}.csv") for s in ("train", "val", "test")}
    x = np.load(tmp_path / "prep" / "train.npy")
    assert x.shape == (len(t["train"]), 1, 8, 8)
    assert stats["splits"]["val"]["images"] == len(t["val"])
    # val and train come from the training files, disjoint; test from the test files
    assert set(t["train"].source) == {"train"} and set(t["test"].source) == {"test"}
    assert not set(t["train"].source_row) & set(t["val"].source_row)
    x_tr, y_tr, _, _ = mnist.load(tmp_path / "raw")
    assert np.array_equal(x[0, 0], x_tr[t["train"].source_row[0]])
    assert np.array_equal(t["train"].label, y_tr[t["train"].source_row])
    assert np.bincount(t["val"].label, minlength=10).min() >= 25


def test_prepare_resizes_and_refuses_a_too_small_split(tmp_path):
    digits.export_sklearn(tmp_path / "raw", seed=0, test_share=0.2)
    digits.prepare(_cfg(tmp_path / "raw", image_size=16), tmp_path / "p16")
    assert np.load(tmp_path / "p16" / "test.npy").shape[1:] == (1, 16, 16)
    with pytest.raises(ValueError, match=r"data.digits.min_split.test"):
        digits.prepare(_cfg(tmp_path / "raw", limit={"train": 0, "test": 15}), tmp_path / "small")


# ---------------------------------------------------------------------------------------------- requests
@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params_file = tiny.make_project(tmp_path)
    from stages.core import config

    monkeypatch.setattr(config, "PARAMS_FILE", str(params_file))
    return config.read_params(params_file)


def test_random_request_forgets_the_share_and_validates_on_every_val_row(project):
    t = tasks.get("digits_random", project)
    train, val, test = (t.table(s) for s in ("train", "val", "test"))
    f = t.forget_rows(train)
    assert f.sum() == round(project["tasks"]["digits_random"]["share"] * len(train))
    # a subset of the table gets the same mask (rows keep their index)
    sub = train.iloc[::3]
    assert np.array_equal(t.forget_rows(sub), f[::3])
    assert len(t.role("val").x) == len(val)                 # validation: all val rows
    assert len(t.role("heldout_like_forget").x) == len(test)  # random forget set: every test row is of its kind
    assert len(t.role("retain").x) + len(t.role("forget").x) == len(train)


def test_class_request_forgets_every_row_of_the_class(project):
    t = tasks.get("digits_class", project)
    k = project["tasks"]["digits_class"]["forget_class"]
    assert np.all(t.role("forget").y == k) and not np.any(t.role("retain").y == k)
    assert np.all(t.role("heldout_like_forget").y == k) and not np.any(t.role("val").y == k)
    bad = {**project, "tasks": {**project["tasks"], "digits_class": {"forget_class": 10}}}
    with pytest.raises(ParamError, match=r"tasks\.digits_class\.forget_class = 10"):
        tasks.get("digits_class", bad).forget_rows(t.table("train"))


def test_random_labels_give_another_class(project):
    t = tasks.get("digits_class", project)
    y = torch.arange(10).repeat(50)
    off = torch.randint(1, 10, (500,)) * (torch.randint(0, 2, (500,)) * 2 - 1)
    out = t.shift_target(y, off)
    assert out.dtype == torch.int64 and out.min() >= 0 and out.max() <= 9
    assert not torch.any(out == y)


# ---------------------------------------------------------------------------------------------- metrics
def test_cross_entropy_and_accuracy_by_hand():
    logits = np.array([[0.0, 0.0], [np.log(3.0), 0.0]])
    # float64: the logits' own log, an exp and a log in the cross-entropy, a log in the reference; each a relative
    # error that becomes an absolute one on the log scale, plus a few subtractions of values up to |logit|
    tol = rel_tol(4 * EXP_ROUNDINGS + 6, np.float64) * (1 + 2 * np.abs(logits).max())
    assert np.allclose(cls.cross_entropy(logits, np.array([0, 0])), [np.log(2), np.log(4 / 3)], rtol=0, atol=tol)
    # stable: exp(-1000) underflows to 0 and log(1) = 0, so 1000 comes out up to a few roundings relative to 1000
    # (an unstable formula gives inf)
    big = cls.cross_entropy(np.array([[1000.0, 0.0]]), np.array([1]))[0]
    assert big == pytest.approx(1000.0, rel=rel_tol(2 * EXP_ROUNDINGS + 4, np.float64))
    assert cls.accuracy(logits, np.array([0, 1])) == 0.5


def test_completeness_by_hand():
    assert cls.completeness(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 0])) == 0.5
    assert cls.completeness(np.array([5, 5]), np.array([5, 5])) == 1.0


def test_mia_efficacy_by_hand():
    retain = np.full(40, 0.01) + np.linspace(0, 0.01, 40)   # members: low loss
    test = np.full(40, 2.0) + np.linspace(0, 0.5, 40)        # non-members: high loss
    forgotten = np.full(10, 3.0)                              # looks unseen -> called non-member
    remembered = np.full(10, 0.0)                             # looks trained -> called member
    assert cls.mia_efficacy(retain, test, forgotten) == 1.0
    assert cls.mia_efficacy(retain, test, remembered) == 0.0
    assert cls.mia_efficacy(retain, test, np.r_[forgotten[:3], remembered[:7]]) == 0.3  # 3 / 10 rounded once: the float of the literal
    with pytest.raises(ValueError, match="mia_efficacy"):
        cls.mia_efficacy(retain[:5], test, forgotten)


# ---------------------------------------------------------------------------------------------- IMU
def test_imu_importance_weight_by_hand():
    retain = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    forget = torch.tensor([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]])  # the zero vector: cosine 0, left out of the mean
    rsim = imu.row_similarity(retain, forget)
    # row 0: cos = [1, 0, 0] -> non-zero mean 1; row 1: [0, 1, 0] -> 1; row 2: [1/sqrt2, 1/sqrt2, 0] -> 1/sqrt2
    # computed in float64 (a few roundings, far below float32's), then each side rounded to float32 once
    assert torch.allclose(rsim, torch.tensor([1.0, 1.0, 2 ** -0.5]), rtol=rel_tol(2), atol=0)
    assert imu.row_similarity(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]))[0] == 0  # all zero -> 0
    idx = torch.tensor([0, 2])
    # float32 mean of 2 float32-rounded values: 3 roundings against the exact float64 value
    assert imu.importance_weight(rsim, idx) == pytest.approx((1 + 2 ** -0.5) / 2, rel=rel_tol(3))
    # a slow reference: loop over pairs
    a, b = torch.randn(7, 5), torch.randn(4, 5)
    ref = []
    for r in a:
        s = [float(torch.dot(r, f) / (r.norm() * f.norm())) for f in b]
        s = [v for v in s if v != 0]
        ref.append(np.mean(s) if s else 0.0)
    # the reference's float32 cosine: a dot product of 5 (5 roundings on sum |r_i f_i| <= |r| |f|), two norms (about
    # 7 each, with the square root), a product and a division; plus the float32 rounding of each side: within
    # 2 gamma_22 of the exact cosine (|cos| <= 1), far below the cosines themselves
    assert torch.allclose(imu.row_similarity(a, b), torch.tensor(ref, dtype=torch.float32), rtol=0,
                          atol=sum_tol(5 + 2 * 7 + 3, 1.0))


def test_imu_scales_the_step_by_one_minus_iw(project):
    """One SGD step of IMU = one step of the plain fine-tune with the gradient scaled by 1 - I_w."""
    from stages.models import fitting

    import copy

    torch.manual_seed(0)
    start = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
    plain, scaled = copy.deepcopy(start), copy.deepcopy(start)
    x = np.random.default_rng(0).integers(0, 255, (8, 1, 8, 8)).astype(np.uint8)
    y = np.arange(8) % 10
    meta = {"mean": [0.2], "std": [0.3]}
    recipe = fitting.Recipe.from_params({"epochs": 1, "batch_size": 8, "optimizer": "sgd", "lr": 0.1, "momentum": 0.0,
                                   "weight_decay": 0.0}, loss="mse", augment={}, amp=False, patience=0)
    kw = dict(loss_fn=torch.nn.functional.cross_entropy, val_score=lambda p, t: 0.0)
    fitting.fit(plain, x, y, x[:2], y[:2], meta, recipe, torch.device("cpu"), 0, **kw)
    fitting.fit(scaled, x, y, x[:2], y[:2], meta, recipe, torch.device("cpu"), 0, loss_weight=lambda idx: 0.25, **kw)
    d_plain = plain[1].weight.detach() - start[1].weight.detach()
    d_imu = scaled[1].weight.detach() - start[1].weight.detach()
    assert d_plain.abs().max() > 1e-3
    # 0.25 scales the loss and so every gradient exactly (a power of 2); what remains is the rounding of each update
    # w + step and of the difference (w + step) - w: a few roundings on |w| + |step|
    scale = start[1].weight.detach().abs() + d_plain.abs()
    assert ((d_imu - 0.25 * d_plain).abs() <= rel_tol(2) * scale).all()


def _md5(path) -> str:
    import hashlib

    return hashlib.md5(open(path, "rb").read()).hexdigest()


def _set(params_file, key: str, value) -> None:
    import yaml

    p = yaml.safe_load(open(params_file))
    node = p
    *path, last = key.split(".")
    for part in path:
        node = node[part]
    node[last] = value
    open(params_file, "w").write(yaml.safe_dump(p, sort_keys=False))


@pytest.mark.parametrize("task,source", [("digits_class", "lime"), ("ltd", "gradient"), ("digits_class", "gradient")])
def test_attributions_stage_and_imu_are_deterministic(project, task, source):
    """Stage attributions writes one vector per training image and Original run, the same bytes twice; IMU reads
    them (same params, same bytes) and its weights differ from the plain fine-tune's (the 1 - I_w scaling acts)."""
    from stages import attributions, train, unlearn
    from stages import task as task_stage
    from stages.core import config, paths
    from stages.core.io import read_json

    _set(config.PARAMS_FILE, f"attributions.source.{task}", source)
    t = tasks.get(task, project)
    train.main(["--dataset", t.dataset])
    task_stage.main(["--task", task])
    runs = []
    for _ in range(2):
        attributions.main(["--task", task])
        runs.append(_md5(paths.attributions(task)))
    assert runs[0] == runs[1]
    vec = np.load(paths.attributions(task))
    grid = project["attributions"]["grid"]
    assert vec.shape == (t.repeats, len(t.table("train")), grid[0] * grid[1]) and vec.dtype == np.float32
    assert np.isfinite(vec).all() and (np.linalg.norm(vec, axis=2) > 0).mean() > 0.9
    assert not np.array_equal(vec[0], vec[1])  # each run of the Original explained on its own
    # the cost record IMU counts: per run, every training image times its passes (LIME: n_samples perturbations,
    # gradient: one forward and backward)
    passes = project["attributions"]["n_samples"] if source == "lime" else 1
    assert read_json(paths.attributions_cost(task)) == {"source": source, "runs": t.repeats,
                                                        "training_images": len(t.table("train")),
                                                        "images_per_run": len(t.table("train")) * passes}
    runs = []
    for _ in range(2):
        unlearn.main(["--task", task, "--method", "imu"])
        runs.append(_md5(f"models/{task}/imu_preds.csv"))
    assert runs[0] == runs[1]
    unlearn.main(["--task", task, "--method", "finetune"])
    assert _md5(f"models/{task}/finetune_preds.csv") != runs[0]
    assert "method_record" not in read_json(f"models/{task}/finetune.json")  # a method with nothing to report


def _weights(path) -> list[dict]:
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    return [{k: v for k, v in state.items() if "running_" not in k and "num_batches" not in k}
            for run in ckpt["runs"] for state in run]


def test_imu_reads_the_cached_attributions(tmp_path, monkeypatch):
    """IMU takes I_w from data/tasks/<task>/attributions.npy: identical vectors everywhere (every cosine 1, I_w = 1)
    scale every step to zero, so IMU leaves the Original's weights where they were; the computed vectors do not.
    A missing or stale file stops the stage, naming the file."""
    from stages import attributions, train, unlearn
    from stages import task as task_stage
    from stages.core import config, paths

    monkeypatch.chdir(tmp_path)
    params_file = tiny.make_project(tmp_path, {"unlearn.digits_class.weight_decay": 0.0})
    monkeypatch.setattr(config, "PARAMS_FILE", str(params_file))
    train.main(["--dataset", "digits"])
    task_stage.main(["--task", "digits_class"])
    original = _weights(paths.model("digits_class", "original"))
    with pytest.raises(FileNotFoundError, match=r"attributions\.npy: missing \(run stage attributions@digits_class"):
        unlearn.main(["--task", "digits_class", "--method", "imu"])
    attributions.main(["--task", "digits_class"])
    unlearn.main(["--task", "digits_class", "--method", "imu"])
    moved = _weights(paths.model("digits_class", "imu"))
    assert any(not torch.equal(a[k], b[k]) for a, b in zip(original, moved) for k in a)
    from stages.core.io import file_md5, read_json

    rec = read_json(paths.model("digits_class", "imu", ".json"))["method_record"]  # one per run: what IMU read
    assert [r["attributions"] for r in rec] == ["data/tasks/digits_class/attributions.npy"] * 2
    assert {r["attributions_md5"] for r in rec} == {file_md5(paths.attributions("digits_class"))}
    assert all(-1 <= r["I_w_mean"] <= 1 for r in rec) and rec[0]["I_w_mean"] != rec[1]["I_w_mean"]  # signed vectors
    path = paths.attributions("digits_class")
    vec = np.load(path)
    np.save(path, np.ones_like(vec))
    unlearn.main(["--task", "digits_class", "--method", "imu"])
    still = _weights(paths.model("digits_class", "imu"))
    assert all(torch.equal(a[k], b[k]) for a, b in zip(original, still) for k in a)
    assert [r["I_w_mean"] for r in read_json(paths.model("digits_class", "imu", ".json"))["method_record"]] == [1.0] * 2
    np.save(path, vec[:1])  # one run fewer than repeats: a stale file
    with pytest.raises(ValueError, match=r"attributions\.npy: shape \(1, \d+, 16\), expected \(2 repeats"):
        unlearn.main(["--task", "digits_class", "--method", "imu"])


def test_an_original_with_other_repeats_stops_the_stages_that_read_it(project):
    """The Original's runs are the runs the attributions and the methods start from: a checkpoint with another count
    than ``repeats`` (the param changed, the train stage not rerun) stops them, naming the file."""
    from stages import attributions, train, unlearn
    from stages import task as task_stage
    from stages.core import config

    train.main(["--dataset", "digits"])
    task_stage.main(["--task", "digits_class"])
    attributions.main(["--task", "digits_class"])
    _set(config.PARAMS_FILE, "repeats", 3)
    with pytest.raises(ValueError, match=r"datasets/digits/original\.pt: 2 repeats, but repeats is 3 \(rerun the train"):
        attributions.main(["--task", "digits_class"])
    with pytest.raises(ValueError, match=r"digits_class/original\.pt: 2 repeats, but repeats is 3 \(rerun the train"):
        unlearn.main(["--task", "digits_class", "--method", "imu"])


def test_attribution_settings_are_validated(project):
    from stages.xai import attribution_vectors

    assert attribution_vectors.settings(project, "ltd")["source"] == project["attributions"]["source"]["ltd"]
    bad = {**project, "attributions": {**project["attributions"], "source": {"ltd": "shap"}}}
    with pytest.raises(ParamError, match=r"attributions\.source\.ltd"):
        attribution_vectors.settings(bad, "ltd")
    with pytest.raises(ParamError, match=r"attributions\.source\.utk: missing"):
        attribution_vectors.settings(bad, "utk")
    typo = {**project, "attributions": {**project["attributions"],
                                        "source": {**project["attributions"]["source"], "ldt": "lime"}}}
    with pytest.raises(ParamError, match=r"attributions\.source\.ldt: not a task of any task list"):
        attribution_vectors.settings(typo, "ltd")
    for key, value in (("grid", [4]), ("n_samples", 1), ("keep", 1.0), ("batch_size", 0), ("unknown", 1)):
        with pytest.raises(ParamError, match=rf"attributions\.{key}"):
            attribution_vectors.settings({**project, "attributions": {**project["attributions"], key: value}}, "ltd")


def test_task_models_writes_what_the_separate_stages_write(tmp_path, monkeypatch):
    """Stage per_task_models (python -m stages.task_models): the Original's copy, Retrain and every method of
    the task in one process write the same bytes as stage task (its copy), stage retrain and one unlearn stage per
    method; the per-task track's task stage (--skip-original) leaves models/<task>/ to it."""
    import shutil
    from pathlib import Path

    from stages import retrain, task_models, train, unlearn
    from stages import task as task_stage
    from stages.core import config

    monkeypatch.chdir(tmp_path)
    names = ["finetune", "confuse"]
    params_file = tiny.make_project(tmp_path, {"unlearn.methods": {"finetune": {}, "confuse": {}}})
    monkeypatch.setattr(config, "PARAMS_FILE", str(params_file))
    train.main(["--dataset", "digits"])
    task_stage.main(["--task", "digits_class", "--skip-original"])
    assert not Path("models/digits_class").exists()
    task_models.main(["--task", "digits_class"])
    together = {p.name: p.read_bytes() for p in Path("models/digits_class").iterdir()}
    assert set(together) == {f"{m}{s}" for m in ["original", "retrain", *names]
                             for s in (".pt", ".json", "_preds.csv", "_features.npy")}
    shutil.rmtree("models/digits_class")
    task_stage.main(["--task", "digits_class"])
    retrain.main(["--task", "digits_class"])
    for m in names:
        unlearn.main(["--task", "digits_class", "--method", m])
    apart = {p.name: p.read_bytes() for p in Path("models/digits_class").iterdir()}
    assert set(apart) == set(together)
    assert [n for n in sorted(together) if together[n] != apart[n]] == []
