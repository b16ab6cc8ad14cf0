"""Multi-process training (``train.gpus > 1``: torchrun + DistributedDataParallel), run for real on the CPU with
2 processes and the gloo backend.

1. The train stage with ``train.gpus: 2`` on the tiny project re-launches itself under torchrun; an audit hook
   loaded into every process (``sitecustomize`` on PYTHONPATH) records which rank created or renamed files in the
   project: only rank 0 may write, and the outputs are those of a model trained on the global batch.
2. ``fit`` under DDP (tests/ddp_worker.py, per-rank batch 8) against one process with the same global batch 16,
   same seed and data: the weights agree within float rounding. The network there is the pipeline's ResNet with
   GroupNorm for BatchNorm (BatchNorm normalises each rank's half batch on its own, so it is a different
   function of the global batch: SyncBatchNorm is CUDA-only) and the recipe draws no random numbers per batch
   (augmentation would draw per rank). Tolerance (:func:`training_tol`): every weight gradient is a float32 sum
   over the batch's 16 rows and, in a convolution, the positions of its input (n = 16 x 24 x 24 terms at the
   stem); DDP sums two half batches and all-reduces them, another order, so each step may differ by a relative
   rounding error of that sum, and the trained weights by as much of the distance they moved from their initial
   values (to first order: no cancellation inside the gradient sums, no growth of a difference over the 6 steps).
   The worst case 2 gamma_n (1.1e-3) would let the logged train loss pass even when it covered one rank's rows
   only (the half-batch means differ from the full ones by about 0.2 %), so the tolerance is the probabilistic
   bound 2 lam sqrt(n) u with lam = 6 (tests/tolerance.py: 6.9e-5 relative; 2e-5 on the weights, which moved by
   up to 0.29, against a measured 9e-7). A wrong batch (one process with the per-rank batch 8) ends 0.18 away, far
   beyond the tolerance, which the test checks; the logged losses follow the weights and get the same relative
   tolerance (measured: at most 2e-6 on values near 1).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
import yaml

from tests import ddp_worker as worker
from tests.conftest import ROOT
from tests.tiny import make_project
from tests.tolerance import prob_rel_tol

# a hang guard only: a hang in a collective (ranks running different step counts) fails instead of blocking; each
# run takes well under a minute on 2 CPU cores, far below it
TIMEOUT = 900

HOOK = textwrap.dedent('''\
    """Audit hook of tests/test_ddp.py: every file a process of the run creates or renames under DDP_TEST_ROOT."""
    import os
    import sys

    _root, _log = os.environ.get("DDP_TEST_ROOT"), os.environ.get("DDP_TEST_LOG")
    if _root and _log:
        _rank = os.environ.get("RANK", "launcher")
        with open(os.path.join(_log, "started." + _rank), "w"):
            pass

        def _hook(event, args):
            if event == "open":
                path, mode, flags = args
                if mode is None:  # os.open
                    writing = isinstance(flags, int) and bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
                else:
                    writing = any(c in str(mode) for c in "wax+")
            elif event == "os.rename":
                path, writing = args[1], True
            else:
                return
            if not writing or not isinstance(path, (str, bytes, os.PathLike)):
                return
            path = os.path.realpath(os.fsdecode(path))
            if path.startswith(_root + os.sep):
                with open(os.path.join(_log, "writes." + _rank), "a") as f:
                    f.write(os.path.relpath(path, _root) + "\\n")

        sys.addaudithook(_hook)
    ''')


def gradient_terms() -> int:
    """Terms of the longest weight-gradient sum: the global batch's rows times the input's positions (the stem)."""
    height, width = worker.data()[0].shape[-2:]
    return worker.RANK_BATCH * worker.WORLD * height * width


def training_tol(trained) -> float:
    """The probabilistic relative rounding error of a sum of :func:`gradient_terms` terms times the largest distance
    a weight of ``trained`` moved from :func:`ddp_worker.model`'s initial weights."""
    start = worker.model().state_dict()
    moved = max((v - start[k]).abs().max().item() for k, v in trained.state_dict().items() if v.is_floating_point())
    return prob_rel_tol(gradient_terms()) * moved


def env(**extra) -> dict:
    e = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), **extra}
    e.pop("LOCAL_RANK", None)
    return e


def test_train_stage_under_torchrun_only_rank0_writes(tmp_path):
    proj, log, hook = tmp_path / "proj", tmp_path / "log", tmp_path / "hook"
    for d in (proj, log, hook):
        d.mkdir()
    (hook / "sitecustomize.py").write_text(HOOK)
    make_project(proj, {"train.gpus": 2, "repeats": 1})
    params = yaml.safe_load((proj / "params.yaml").read_text())
    cfg, repeats = params["train"]["ltd"], params["repeats"]
    # started plainly: the stage itself re-launches as 2 processes (python -m torch.distributed.run)
    r = subprocess.run(["nice", "-n", "10", sys.executable, "-m", "stages.train", "--dataset", "ltd"], cwd=proj,
                       env=env(PYTHONPATH=f"{hook}{os.pathsep}{ROOT}", DDP_TEST_ROOT=os.path.realpath(proj),
                               DDP_TEST_LOG=str(log)),
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr[-3000:]
    assert {p.name for p in log.glob("started.*")} >= {"started.0", "started.1"}  # both ranks ran
    assert not (log / "writes.1").exists(), (log / "writes.1").read_text()
    assert not (log / "writes.launcher").exists()
    written = set((log / "writes.0").read_text().split())
    outputs = {"models/datasets/ltd/original.pt", "models/datasets/ltd/original.json",
               "models/datasets/ltd/original_preds.csv", "models/datasets/ltd/original_features.npy",
               "reports/ltd/curves/original.csv", "reports/ltd/timings/original.json"}
    assert outputs <= written
    assert all(p in outputs or os.path.basename(p).startswith(".") for p in written)  # else only atomic temp files
    meta = json.loads((proj / "models/datasets/ltd/original.json").read_text())
    assert meta["device"] == "cpu" and meta["params"]["train"]["gpus"] == 2
    # each of the 2 ranks takes half of the 48 training frames per epoch in batches of batch_size: the optimizer
    # steps and images of one process with batch 2 * batch_size
    per_rank = 48 // 2
    steps = cfg["epochs"] * -(-per_rank // cfg["batch_size"]) * cfg["ensemble"]
    assert meta["optimizer_steps"] == [steps] * repeats
    assert meta["images_seen"] == [cfg["epochs"] * 48 * cfg["ensemble"]] * repeats


def test_ddp_fit_matches_one_process_with_the_global_batch(tmp_path):
    r = subprocess.run(["nice", "-n", "10", sys.executable, "-m", "torch.distributed.run", "--standalone",
                        f"--nproc_per_node={worker.WORLD}", str(ROOT / "tests" / "ddp_worker.py"), str(tmp_path)],
                       cwd=ROOT, env=env(), capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{k}.json").read_text()) for k in range(worker.WORLD)]
    assert [x["rank"] for x in ranks] == [0, 1]
    assert all(x["world"] == 2 and x["backend"] == "gloo" and x["device"] == "cpu" for x in ranks)
    ddp = torch.load(tmp_path / "ddp.pt", weights_only=False)

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the workers (OMP_NUM_THREADS=1)
    try:
        one, res = worker.train(worker.RANK_BATCH * worker.WORLD)
        wrong, _ = worker.train(worker.RANK_BATCH)
    finally:
        torch.set_num_threads(threads)

    def max_diff(m):
        return max((v - ddp["state"][k]).abs().max().item() for k, v in m.state_dict().items())

    tol = training_tol(one)
    assert max_diff(one) <= tol
    assert max_diff(wrong) > 100 * tol  # the tolerance tells a different batch apart
    assert ddp["fit"]["steps"] == res["steps"] == 6 and ddp["fit"]["images"] == res["images"] == 96
    assert ddp["fit"]["best_epoch"] == res["best_epoch"]
    loss_tol = prob_rel_tol(gradient_terms())  # relative: the losses follow the weights
    for a, b in zip(ddp["fit"]["history"], res["history"], strict=True):  # train loss over both ranks' rows
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=loss_tol)
        assert a["val_mae"] == pytest.approx(b["val_mae"], rel=loss_tol)
    # 17 rows: the ranks would get 9 and 8 rows (2 and 1 steps, a hang in DDP's all-reduce); both take 8
    assert ddp["odd"]["steps"] == 1 and ddp["odd"]["images"] == 16
