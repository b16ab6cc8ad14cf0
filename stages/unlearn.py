"""Stage unlearn: one unlearning method applied to a task's Original model.

    python -m stages.unlearn --task ltd --method confuse

Loads ``models/<task>/original.pt`` and keeps it frozen; for each repeat r (seed derived from task, method and r),
every ensemble member of the Original's repeat r is a copy that the method edits
and fine-tunes (its own loss or loop, see :mod:`stages.methods.base`) with the recipe ``unlearn.<task>`` for
``unlearn.<task>.epochs`` epochs (or the method's own ``epochs.<task>``). Saves ``models/<task>/<method>.*``
(with wall time and optimizer steps, for the cost ratio), its predictions and its curve, like the train stage.
"""
from __future__ import annotations

import copy

import torch

from stages import methods, tasks
from stages.core import config, paths, threads
from stages.core.seeds import seed_everything
from stages.methods.base import Context
from stages.models import outputs, recipes, resnet, run
from stages.models.fitting import Recipe
from stages.core.stage import Stage

def main(argv=None):
    st = Stage("unlearn", __doc__, argv, task=dict(required=True), method=dict(required=True))
    task = tasks.get(st.args.task, st.params, st.root)
    name = st.args.method
    if name not in methods.names(st.params, task.METHODS):
        raise config.ParamError(f"{task.METHODS}: {name!r} is not in the method list of task {task.name}")
    unlearn = methods.recipes(st.params, tasks.all_names(st.params))
    Method = methods.get(name)
    own, epochs = methods.settings(st.params, name, task.name)
    shared = {k: v for k, v in recipes.load_recipe(st.params, task.recipe_key).items() if k in recipes.SHARED}
    recipe_cfg = unlearn[task.name]
    recipe = Recipe.from_params(recipe_cfg, **shared, patience=0, **({"epochs": epochs} if epochs else {}))
    threads.deterministic_torch()
    device = st.device()
    originals, ckpt = resnet.load_checkpoint(paths.model(task.name, "original"), device, repeats=task.repeats)
    seeds = run.repeat_seeds(st.glob["seed"], task.repeats, task.name, name)
    seed_everything(seeds[0])
    roles: dict = {}  # data roles loaded once, shared by the repeats
    runs, fits, records = [], [], []
    for r, (original, seed) in enumerate(zip(originals, seeds)):
        original.requires_grad_(False)  # frozen: methods train copies
        ctx = Context(task=task, original=original, recipe=recipe, device=device, seed=seed,
                      gen=torch.Generator().manual_seed(seed), repeat=r,
                      repeats=len(originals), _roles=roles)
        method = Method(own, ctx)
        records.append(method.record())
        members, member_fits = [], []
        st.log.info("repeat %d/%d", r + 1, len(seeds))
        for k, frozen in enumerate(original.members):
            m = copy.deepcopy(frozen).requires_grad_(True).train()
            method.edit(m, ctx.gen)
            fit = method.fit(m, run.member_seed(seed, k), log=st.log)
            fit["images"] += ctx.extra_images  # the method's own batches go through forward and backward too
            ctx.extra_images = 0
            member_fits.append(fit)
            members.append(m)
        runs.append(members)
        fits.append(member_fits)
    out = outputs.output_paths(paths.model(task.name, name), paths.curve(task.name, name),
                               paths.timing(task.name, name))
    meta = outputs.save_model(task, out, ckpt["spec"], runs, fits, device,
                              {"unlearn": {name: own, task.name: {**recipe_cfg, "epochs": recipe.epochs}},
                               "train": shared, "seed": st.glob["seed"]},
                              extra={"name": name, "method": name, "data": Method.data,
                                     **({"method_record": records} if any(records) else {})})
    st.log.info("%s/%s: %.1f s, optimizer steps %s, best %s %s", task.name, name, meta["wall_time_s"],
                meta["optimizer_steps"], meta["val_metric"], meta["best_val"])


if __name__ == "__main__":
    main()
