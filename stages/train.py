"""Stage train: the Original model of a dataset, shared by every task (forget request) on it.

    python -m stages.train --dataset ltd

Trains ``repeats`` independent runs (seeds derived from the dataset, "original" and the repeat), each of
``train.<dataset>.ensemble`` members on the whole training split with the dataset's full target (LTD:
y, every object; UTKFace: every face), predictions averaged. Writes ``models/datasets/<dataset>/original.*``
and ``reports/<dataset>/curves/original.csv``; stage ``task`` copies the Original into each task's folder.
With ``train.gpus > 1`` the stage re-launches itself under torchrun (DistributedDataParallel, rank 0 writes).
"""
from __future__ import annotations

import torch

from stages import tasks
from stages.core import paths
from stages.core.io import seed_everything
from stages.models import run
from stages.core.stage import Stage


def main(argv=None):
    st = Stage("train", __doc__, argv, dataset=dict(required=True, help="a section of data: in params.yaml"))
    ds = st.args.dataset
    cfg = run.load_recipe(st.params, ds)
    task = tasks.for_dataset(ds, st.params)
    run.set_threads()
    device = run.init_distributed(cfg["gpus"], "stages.train") or st.device()
    seeds = run.repeat_seeds(st.glob["seed"], st.glob["repeats"], ds, "original")
    seed_everything(seeds[0])
    spec, runs, fits = run.train_from_scratch(task, task.training_data("original"), cfg, device, seeds, st.log)
    if run.is_rank0():
        out = run.outputs(paths.dataset_model(ds), paths.curve(ds, "original"), paths.timing(ds, "original"))
        meta = run.save(task, out, spec, runs, fits, device, {"train": cfg, "seed": st.glob["seed"]},
                        extra={"name": "original"})
        st.log.info("%s/original: %.1f s, %.0f images/s, best %s %s", ds, meta["wall_time_s"], meta["images_per_s"],
                    meta["val_metric"], meta["best_val"])
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
