"""Stage unlearn: one unlearning method applied to a task's Original model.

    python -m stages.unlearn --task ltd --method confuse

Loads ``models/<task>/original.pt``; for every ensemble member, the method edits the weights and/or picks
its data and labels, then fine-tunes with the recipe ``unlearn.<task>`` for ``unlearn.<task>.epochs.<method>``
epochs. Saves ``models/<task>/<method>.pt`` (with wall time and optimizer steps, for the cost ratio), its
predictions and its curve, like the train stage.
"""
from __future__ import annotations

import argparse

import torch

from stages import config, methods, train
from stages.config import Choice, Float, Int
from stages.io import pick_device, seed_everything, setup_logging
from stages.models import resnet, run, tasks
from stages.models.train import Recipe

RECIPE = {
    "epochs": {name: Int(min=1) for name in methods.NAMES},
    "batch_size": Int(min=1), "optimizer": Choice("sgd", "adam"), "lr": Float(min=0, min_open=True),
    "momentum": Float(min=0, max=1), "weight_decay": Float(min=0),
}
SHARED = ("loss", "augment")  # read from train.<task>
METHOD_SEED_OFFSET = 100  # unlearning seeds are seed + offset + index of the method (distinct from training)

log = setup_logging("unlearn")


def schema() -> dict:
    """The ``unlearn`` section: the union of every method's own keys, plus one recipe per task."""
    out = {key: spec for name in methods.NAMES for key, spec in methods.get(name).PARAMS.items()}
    return {**out, **{task: RECIPE for task in tasks.TASKS}}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--task", choices=tasks.TASKS, required=True)
    p.add_argument("--method", choices=methods.NAMES, required=True)
    args = p.parse_args(argv)
    params = config.read_params()
    glob = config.load_global(params)
    cfg = config.load("unlearn", schema(), params)
    # the task's loss and train-time augmentation are shared with the train stage
    tcfg = config.validate({k: config.get(params, f"train.{args.task}.{k}") for k in SHARED},
                           {k: train.SCHEMA[k] for k in SHARED}, f"train.{args.task}")
    recipe_cfg = cfg[args.task]
    epochs = recipe_cfg["epochs"][args.method]
    run.set_threads()
    device = pick_device(glob["device"])
    seed = glob["seed"] + METHOD_SEED_OFFSET + methods.NAMES.index(args.method)
    seed_everything(seed)

    original, ckpt = resnet.load_checkpoint(f"models/{args.task}/original.pt")
    Method = methods.get(args.method)
    data = tasks.load(args.task, Method.data)
    own = {k: cfg[k][args.task] if isinstance(Method.PARAMS[k], dict) else cfg[k] for k in Method.PARAMS}
    method = Method(own, data.target_range)
    gen = torch.Generator().manual_seed(seed)
    members = list(original.members)
    for m in members:
        method.edit(m, gen)
    recipe = Recipe.from_params(recipe_cfg, epochs=epochs, patience=0, **tcfg)
    fits = run.train_members(members, data, recipe, device, seed, log=log, target_fn=method.target,
                             post_step_factory=lambda m: method.post_step_for(m, recipe.lr))
    meta = run.save(args.task, args.method, ckpt["spec"], members, fits, device,
                    {"unlearn": {**own, args.task: {**recipe_cfg, "epochs": epochs}},
                     "train": tcfg,
                     "seed": glob["seed"]}, extra={"method": args.method, "data": Method.data})
    log.info("%s/%s: %.1f s, %d optimizer steps, best val MAE %s", args.task, args.method, meta["wall_time_s"],
             meta["optimizer_steps"], meta["best_val_mae"])


if __name__ == "__main__":
    main()
