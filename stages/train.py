"""Stage train: the Original and Retrain-from-scratch models of a task.

    python -m stages.train --task ltd --model original   # LTD: y;  UTKFace: whole training split
    python -m stages.train --task utk --model retrain    # LTD: y'; UTKFace: retain split only

Each model is an ensemble of ``train.<task>.ensemble`` members with different seeds (predictions averaged).
With ``train.gpus > 1`` the stage re-launches itself under torchrun (DistributedDataParallel, rank 0 writes).
"""
from __future__ import annotations

import argparse
import os
import sys

import torch

from stages import config
from stages.config import Bool, Choice, Float, Int, Str
from stages.io import pick_device, seed_everything, setup_logging
from stages.models import resnet, run, tasks
from stages.models.train import Recipe

AUGMENT = {"hflip": Float(min=0, max=1), "rotation": Float(min=0, max=180), "brightness": Float(min=0, max=1),
           "contrast": Float(min=0, max=1), "invert": Float(min=0, max=1)}
SCHEMA = {
    "arch": Choice(*resnet.ARCHS), "weights": Str(allow_empty=True), "epochs": Int(min=1),
    "batch_size": Int(min=1), "optimizer": Choice("sgd", "adam"), "lr": Float(min=0, min_open=True),
    "momentum": Float(min=0, max=1), "weight_decay": Float(min=0), "schedule": Choice("constant", "cosine"),
    "loss": Choice("mse", "mae"),
    "head": Choice("linear", "sigmoid"), "patience": Int(min=0), "ensemble": Int(min=1), "amp": Bool(),
    "augment": AUGMENT,
}
ROLE = {"original": "original", "retrain": "retain"}

log = setup_logging("train")


def model_spec(task: str, cfg: dict, meta: dict) -> dict:
    return {"arch": cfg["arch"], "in_channels": meta["channels"], "head": cfg["head"],
            "target_max": tasks.target_max(task, meta)}


def init_distributed(gpus: int):
    """Re-exec under torchrun when more than one GPU is asked for; returns the device of this rank."""
    if gpus > 1 and "LOCAL_RANK" not in os.environ:
        os.execvp("torchrun", ["torchrun", f"--nproc_per_node={gpus}", "-m", "stages.train", *sys.argv[1:]])
    if "LOCAL_RANK" in os.environ:
        torch.distributed.init_process_group("nccl")
        local = int(os.environ["LOCAL_RANK"])
        torch.cuda.set_device(local)
        return torch.device("cuda", local)
    return None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--task", choices=tasks.TASKS, required=True)
    p.add_argument("--model", choices=tuple(ROLE), required=True)
    args = p.parse_args(argv)
    params = config.read_params()
    glob = config.load_global(params)
    cfg = config.load(f"train.{args.task}", SCHEMA, params)
    gpus = config.load("train", {"gpus": Int(min=1), "ltd": config.Section(), "utk": config.Section()}, params)["gpus"]
    run.set_threads()
    device = init_distributed(gpus) or pick_device(glob["device"])
    seed = glob["seed"] + (1 if args.model == "retrain" else 0)
    seed_everything(seed)

    data = tasks.load(args.task, ROLE[args.model])
    spec = model_spec(args.task, cfg, data.meta)
    members = []
    for k in range(cfg["ensemble"]):
        torch.manual_seed(run.member_seed(seed, k))
        m = resnet.build(spec)
        if cfg["weights"]:
            resnet.load_weights(m, cfg["weights"])
        else:
            m.init_output(float(data.train_y.mean()))
        members.append(m)
    fits = run.train_members(members, data, Recipe.from_params(cfg), device, seed, log=log)
    rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
    if rank == 0:
        meta = run.save(args.task, args.model, spec, members, fits, device,
                        {"train": cfg, "seed": glob["seed"], "gpus": gpus})
        log.info("%s/%s: %.1f s, %.0f images/s, best val MAE %s", args.task, args.model, meta["wall_time_s"],
                 meta["images_per_s"], meta["best_val_mae"])
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
