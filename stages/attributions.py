"""Stage attributions: the attribution vector of every training image under each run of a task's Original, on a
fixed grid of cells (the input of attribution-guided methods: IMU, seed 003 Algorithm 2).

    python -m stages.attributions --task ltd

Writes ``data/tasks/<task>/attributions.npy``, float32 (repeats, training rows, rows x cols cells): row k is the
training split's row k, the same order as the prepared arrays; and ``attributions.json``, the images it pushed
through each Original run (training images x passes per image), which IMU counts in its cost. Source and grid: the ``attributions`` section of
params.yaml (:mod:`stages.xai.attribution_vectors`). Computed once per Original and cached: the unlearning stages read it,
so a method's fine-tune never recomputes it, and changing a method's or the recipe's settings leaves it alone.
"""
from __future__ import annotations

import numpy as np

from stages import tasks
from stages.core import paths, threads
from stages.core.io import write_json, write_npy
from stages.core.seeds import derive_seed
from stages.core.stage import Stage
from stages.models import resnet
from stages.xai import attribution_vectors


def main(argv=None):
    st = Stage("attributions", __doc__, argv, task=dict(required=True, help="a task of any task list"))
    task = tasks.get(st.args.task, st.params, st.root)
    cfg = attribution_vectors.settings(st.params, task.name)
    threads.deterministic_torch()
    device = st.device()
    originals, _ = resnet.load_checkpoint(task.original_path(".pt"), device, repeats=task.repeats)
    images = task.split("train").images
    target = task.explain_target(task.table("train"))
    out = []
    for r, original in enumerate(originals):
        seed = derive_seed(st.glob["seed"], "attributions", task.name, r)
        out.append(attribution_vectors.vectors(original, images, task.meta, target, cfg, seed, device).numpy())
    vec = np.stack(out).astype(np.float32)
    write_npy(paths.attributions(task.name, st.root), vec)
    write_json(paths.attributions_cost(task.name, st.root),
               {"source": cfg["source"], "runs": len(out), "training_images": len(images),
                "images_per_run": len(images) * attribution_vectors.passes_per_image(cfg)})
    norms = np.linalg.norm(vec, axis=2)
    st.log.info("%s: %s attributions, %d runs x %d training images x %d cells; zero vectors %d, mean norm %.4g",
                task.name, cfg["source"], *vec.shape, int((norms == 0).sum()), float(norms.mean()))


if __name__ == "__main__":
    main()
