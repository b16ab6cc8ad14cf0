"""Stage train: the Original model of a dataset, shared by every task (forget request) on it, or the Original of a
task that trains its own (a task of ``tracks.agents``: its own model family).

    python -m stages.train --dataset ltd
    python -m stages.train --task agents_gru

Trains ``repeats`` independent runs (seeds derived from the dataset or task, "original" and the repeat), each of
``ensemble`` members on the whole training split with the full target (LTD: y, every object; UTKFace: every face),
predictions averaged, with the recipe ``train.<dataset>`` (a task's own: its ``recipe_key``, e.g. ``agents.train``).
Writes ``models/datasets/<dataset>/original.*`` and ``reports/<dataset>/curves/original.csv`` (stage ``task`` copies
them into each task's folder), or ``models/<task>/original.*`` and ``reports/<task>/curves/original.csv``.
With ``train.gpus > 1`` the stage re-launches itself under torchrun (DistributedDataParallel, rank 0 writes).
"""
from __future__ import annotations

from stages import tasks
from stages.core import paths, threads
from stages.core.seeds import seed_everything
from stages.models import distributed, outputs, recipes, run
from stages.core.stage import Stage


def main(argv=None):
    st = Stage("train", __doc__, argv, dataset=dict(help="a section of data: in params.yaml"),
               task=dict(help="a task that trains its own Original (tracks.agents: in params.yaml)"))
    if (st.args.dataset is None) == (st.args.task is None):
        raise SystemExit("train: give exactly one of --dataset or --task")
    if st.args.task:
        task = tasks.get(st.args.task, st.params)
        if not task.OWN_ORIGINAL:
            raise SystemExit(f"train: task {task.name} shares its dataset's Original: use --dataset {task.dataset}")
    else:
        task = tasks.for_dataset(st.args.dataset, st.params)
    owner, model_path = task.original_owner, task.original_path()
    cfg = recipes.load_recipe(st.params, task.recipe_key)
    threads.deterministic_torch()
    device = distributed.init_distributed(cfg["gpus"], "stages.train") or st.device()
    seeds = run.repeat_seeds(st.glob["seed"], task.repeats, owner, "original")
    seed_everything(seeds[0])
    spec, runs, fits = run.train_from_scratch(task, task.training_data("original"), cfg, device, seeds, st.log)
    if distributed.is_rank0():
        out = outputs.output_paths(model_path, paths.curve(owner, "original"), paths.timing(owner, "original"))
        meta = outputs.save_model(task, out, spec, runs, fits, device, {"train": cfg, "seed": st.glob["seed"]},
                                  extra={"name": "original"})
        st.log.info("%s/original: %.1f s, %.0f images/s, best %s %s", owner, meta["wall_time_s"], meta["images_per_s"],
                    meta["val_metric"], meta["best_val"])
    distributed.leave_process_group()


if __name__ == "__main__":
    main()
