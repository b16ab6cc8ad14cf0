"""Benchmark (not a test): wall time and deterministic cost of each unlearning method of a task on this machine, and
the validation search behind a method's per-task setting.

    python bench/bench_methods.py --task digits_class [--methods finetune ga scrub salun l1_sparse ssd] [--rounds 2]
    python bench/bench_methods.py --task ltd --methods ssd --grid alpha 1 2 3 5 10 30 100

Run from the project root after ``dvc repro`` has made the task's Original (``models/<task>/original.pt``). Each method
(the library's own code, what stage unlearn runs without loading, predictions or writing) edits and fits a copy of
run ``--repeat`` of the Original with the task's recipe and the method's settings from params.yaml. Timing mode: the
methods in turn, ``--rounds`` times (interleaved, so that other load on the machine spreads over all of them); one JSON
line per method with the fastest round's wall time, its ratio to the first method's, the optimizer steps and images
(what ``cost_steps_vs_retrain`` and ``cost_images_vs_retrain`` divide by Retrain's), the validation score and, for a
classifier, the accuracy on the forget rows before and after.

Search mode (``--grid KEY V1 V2 ...``, values from the strongest to the weakest): the first method once per value of
its setting ``KEY`` for this task; a line per value, then the value chosen by the rule of params.yaml: the strongest
whose validation score (retain rows of the validation split, the score every fine-tune's best epoch is chosen by)
stays within the verdict's utility margin (``verdict.margins``: TA for a classifier's error, MAE) of the best score
over the grid. The test split is never read.
"""
from __future__ import annotations

import argparse
import copy
import json
import time

import numpy as np
import torch

from stages import methods, tasks
from stages.core import config, paths, threads
from stages.core.device import pick_device
from stages.methods.base import Context
from stages.metrics import verdict
from stages.models import recipes, resnet, run
from stages.models.fitting import Recipe
from stages.models.inference import predict


def fit_once(params, task, name, original, repeat, device, roles, over=None) -> dict:
    """Method ``name`` (its settings from ``params``, ``over`` replacing some) on a copy of run ``repeat`` of the
    Original: wall time, cost and validation score."""
    own, epochs = methods.settings(params, name, task.name)
    own.update(over or {})
    unlearn = methods.recipes(params, tasks.all_names(params))
    shared = {k: v for k, v in recipes.load_recipe(params, task.recipe_key).items() if k in recipes.SHARED}
    recipe = Recipe.from_params(unlearn[task.name], **shared, patience=0, **({"epochs": epochs} if epochs else {}))
    seed = run.repeat_seeds(config.load_global(params)["seed"], task.repeats, task.name, name)[repeat]
    ctx = Context(task=task, original=original, recipe=recipe, device=device, seed=seed,
                  gen=torch.Generator().manual_seed(seed), repeat=repeat, repeats=task.repeats, _roles=roles)
    method = methods.get(name)(own, ctx)
    m = copy.deepcopy(original.members[0]).requires_grad_(True).train()
    t0 = time.perf_counter()
    method.edit(m, ctx.gen)
    fit = method.fit(m, run.member_seed(seed, 0))
    out = {"method": name, "seconds": round(time.perf_counter() - t0, 2), "epochs": recipe.epochs,
           "steps": fit["steps"], "images": fit["images"] + ctx.extra_images, "best_val": round(float(fit["best_val"]), 4)}
    if task.VAL_METRIC == "val_error":
        forget = ctx.role("forget")
        acc = lambda net: float(np.mean(predict(net, forget.x, task.meta, device).argmax(1) == forget.y))  # noqa: E731
        out.update(forget_acc_before=round(acc(original.members[0]), 4), forget_acc_after=round(acc(m), 4))
    return out


def choose(values: list[float], scores: list[float], margin) -> float:
    """The first of ``values`` (strongest first) whose validation score (lower is better) is within ``margin`` (a
    number, or "N%" of the best) of the best finite score."""
    best = min(v for v in scores if np.isfinite(v))
    limit = best + verdict.margin_value(margin, best)
    return next(v for v, s in zip(values, scores) if np.isfinite(s) and s <= limit)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", required=True)
    p.add_argument("--methods", nargs="+", default=["finetune", "ga", "scrub", "salun", "l1_sparse", "ssd"])
    p.add_argument("--repeat", type=int, default=0)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--grid", nargs="+", metavar="KEY V", help="search mode: a setting of the first method and values,"
                   " the strongest first")
    a = p.parse_args()
    params = config.read_params()
    task = tasks.get(a.task, params)
    device = pick_device(config.load_global(params)["device"])
    threads.apply()  # a stage's share of the cores, as Stage applies it
    threads.deterministic_torch()
    originals, _ = resnet.load_checkpoint(paths.model(task.name, "original"), device, repeats=task.repeats)
    original = originals[a.repeat].requires_grad_(False)
    roles: dict = {}
    if a.grid:
        key, values = a.grid[0], [float(v) for v in a.grid[1:]]
        margin = verdict.settings(params, [task.VERDICT_AXES])[task.VERDICT_AXES["utility"]]
        rows = [fit_once(params, task, a.methods[0], original, a.repeat, device, roles, {key: v}) for v in values]
        for v, r in zip(values, rows):
            print(json.dumps({key: v, **r}))
        print(json.dumps({"margin": margin, "chosen": {key: choose(values, [r["best_val"] for r in rows], margin)}}))
        return
    best: dict = {}
    for _ in range(a.rounds):
        for name in a.methods:
            out = fit_once(params, task, name, original, a.repeat, device, roles)
            if name not in best or out["seconds"] < best[name]["seconds"]:
                best[name] = out
    first = best[a.methods[0]]["seconds"]
    for name in a.methods:
        print(json.dumps({**best[name], f"x_{a.methods[0]}": round(best[name]["seconds"] / first, 2)}))


if __name__ == "__main__":
    main()
