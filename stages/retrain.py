"""Stage retrain: the Retrain-from-scratch model of a task (the gold standard every method is compared to).

    python -m stages.retrain --task ltd

Trains ``repeats`` independent runs like the dataset's Original (recipe ``train.<dataset>``) but on the task's retain role only, with the
retain target (LTD: y' on every frame; UTKFace: the faces outside the forget group). Writes
``models/<task>/retrain.*`` and ``reports/<task>/curves/retrain.csv``.
"""
from __future__ import annotations

from stages import tasks
from stages.core import paths, threads
from stages.core.seeds import seed_everything
from stages.models import distributed, outputs, recipes, run
from stages.core.stage import Stage


def main(argv=None):
    st = Stage("retrain", __doc__, argv, task=dict(required=True, help="a task of tasks: in params.yaml"))
    task = tasks.get(st.args.task, st.params, st.root)
    cfg = recipes.load_recipe(st.params, task.recipe_key)
    threads.deterministic_torch()
    device = distributed.init_distributed(cfg["gpus"], "stages.retrain") or st.device()
    seeds = run.repeat_seeds(st.glob["seed"], task.repeats, task.name, "retrain")
    seed_everything(seeds[0])
    data = task.training_data("retrain", "retain")
    spec, runs, fits = run.train_from_scratch(task, data, cfg, device, seeds, st.log)
    if distributed.is_rank0():
        out = outputs.output_paths(paths.model(task.name, "retrain"), paths.curve(task.name, "retrain"),
                                   paths.timing(task.name, "retrain"))
        meta = outputs.save_model(task, out, spec, runs, fits, device, {"train": cfg, "seed": st.glob["seed"]},
                                  extra={"name": "retrain"})
        st.log.info("%s/retrain: %.1f s, %.0f images/s, best %s %s", task.name, meta["wall_time_s"],
                    meta["images_per_s"], meta["val_metric"], meta["best_val"])
    distributed.leave_process_group()


if __name__ == "__main__":
    main()
