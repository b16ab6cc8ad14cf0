"""Stage task_models: every model of a task in one process, for the per-task track (DVC stage
per_task_models@<task>): the task's copy of its dataset's Original, its Retrain (stage retrain's code) and
every method of its list (stage unlearn's code, in list order).

    python -m stages.task_models --task digits_random

Why one stage: a digits model trains in one to three seconds, less than starting a stage (~5 s of imports and ~1 s of
DVC bookkeeping), so one stage per model spent most of the track's time starting processes. The files are those the
separate stages write, byte for byte: every model's seeds derive from its own name (tests/test_classification.py
checks it). The price: a setting of one method (``-S unlearn.methods.confuse.sigma=0.1``) reruns the task's Retrain
and every method (~30 s on the digits) instead of one; the per-model track (LTD, UTKFace) keeps one stage per method.
"""
from __future__ import annotations

import subprocess
import sys

from stages import methods, retrain, tasks, unlearn
from stages import task as task_stage
from stages.core.stage import Stage
from stages.models import recipes


def main(argv=None):
    st = Stage("task_models", __doc__, argv, task=dict(required=True, help="a task of tracks.per_task"))
    task = tasks.get(st.args.task, st.params, st.root)
    names = methods.names(st.params, task.METHODS)
    methods.recipes(st.params, tasks.all_names(st.params))
    for name in names:  # every method's settings before the first model trains
        methods.settings(st.params, name, task.name)
    task_stage.copy_original(task, st.root)
    if recipes.load_recipe(st.params, task.recipe_key)["gpus"] > 1:  # torchrun re-launches the retrain module itself
        subprocess.run([sys.executable, "-m", "stages.retrain", "--task", task.name], check=True)
    else:
        retrain.main(["--task", task.name])
    for name in names:
        unlearn.main(["--task", task.name, "--method", name])
    st.log.info("%s: original, retrain and %d methods (%s)", task.name, len(names), ", ".join(names))


if __name__ == "__main__":
    main()
