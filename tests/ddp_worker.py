"""Worker of tests/test_ddp.py (not a test): fit the test's network under ``torchrun`` and save what rank 0 got.

    python -m torch.distributed.run --standalone --nproc_per_node=2 tests/ddp_worker.py OUT_DIR

Every rank joins the process group through :func:`stages.models.distributed.init_distributed` (gloo on the CPU) and runs
:func:`stages.models.fitting.fit` with the per-rank batch :data:`RANK_BATCH`; rank 0 saves the weights and the fit
record to ``OUT_DIR/ddp.pt``, every rank writes ``OUT_DIR/rank<r>.json`` (its rank, world size and device). A
second fit on a training set of odd size (ranks would get 9 and 8 rows, 2 and 1 batches) checks that an uneven
split neither hangs nor errs.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stages.core import threads  # noqa: E402
from stages.models import distributed, resnet  # noqa: E402
from stages.models.fitting import Recipe, fit  # noqa: E402
from tests.test_train import blobs  # noqa: E402  (the same data as the single-process tests)

META = {"mean": [0.5], "std": [0.25]}
N_TRAIN, N_VAL, RANK_BATCH, WORLD = 48, 16, 8, 2
RECIPE = dict(epochs=2, optimizer="sgd", lr=0.02, momentum=0.9, weight_decay=1e-4, schedule="cosine", loss="mse",
              amp=False, augment={})
SEED = 3


def data():
    x, y = blobs(N_TRAIN + N_VAL)
    return x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:]


def model() -> nn.Module:
    """The pipeline's small-stem ResNet-10 with every BatchNorm replaced by GroupNorm (one group: per-sample
    statistics). BatchNorm would normalise each rank's half batch on its own, which is a different function of the
    global batch than one process's BatchNorm (SyncBatchNorm is CUDA-only)."""
    torch.manual_seed(0)
    m = resnet.build({"arch": "resnet10", "stem": "small", "width": 8, "in_channels": 1, "head": "linear",
                      "target_max": 4.0})
    for parent in list(m.modules()):
        for name, child in parent.named_children():
            if isinstance(child, nn.BatchNorm2d):
                setattr(parent, name, nn.GroupNorm(1, child.num_features))
    return m


def train(batch_size: int, device=torch.device("cpu"), n_train: int | None = None, epochs: int | None = None):
    x, y, vx, vy = data()
    n = n_train or N_TRAIN
    m = model()
    rec = Recipe(batch_size=batch_size, **{**RECIPE, **({"epochs": epochs} if epochs else {})})
    res = fit(m, x[:n], y[:n], vx, vy, META, rec, device, seed=SEED)
    return m, res


def main(out: Path):
    threads.apply()  # a stage's share of the cores, as Stage applies it
    threads.deterministic_torch()
    device = distributed.init_distributed(WORLD, "tests.ddp_worker")
    rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
    (out / f"rank{rank}.json").write_text(json.dumps({"rank": rank, "world": world, "device": str(device),
                                                      "backend": torch.distributed.get_backend()}))
    m, res = train(RANK_BATCH, device)
    _, odd = train(RANK_BATCH, device, n_train=2 * RANK_BATCH + 1, epochs=1)
    if distributed.is_rank0():
        torch.save({"state": m.state_dict(), "fit": res, "odd": odd}, out / "ddp.pt")
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
