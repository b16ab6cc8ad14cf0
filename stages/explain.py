"""Stage explain: heatmaps of one model of a task by one explainer, on the task's explanation subset.

    python -m stages.explain --task ltd --model finetune --explainer sidu
    python -m stages.explain --task agents_gru --model all --explainer lime


Reads ``models/<task>/<model>.pt`` and ``data/xai/<task>/subset.npy`` (and subset.csv: a classifier explains each image's true class); writes
``data/xai/<task>/<explainer>/<model>.npy`` (float32 (R, n, H, W) heatmaps at input resolution, one set per explained run: the first ``explain.repeats``) and ``<model>.json``
(counts, device). ``--model all`` explains every model of the task (Original, Retrain and the task's methods) in one
process, saving the start-up of one stage per model where explaining is cheap (the multi-agent track). Params: ``explain.<explainer>``, ``explain.repeats``, ``explain.batch_size``, ``explain.autocast``, ``seed``, ``device``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from stages import methods, tasks, xai
from stages.core import paths
from stages.data.arrays import normalize
from stages.core.io import write_json, write_npy
from stages.core.seeds import seed_everything
from stages.models.resnet import load_checkpoint
from stages.core.stage import Stage

ALL = "all"  # --model all: every model of the task (Original, Retrain, its methods) in one process


def main(argv=None):
    st = Stage("explain", __doc__, argv, root=True, task=dict(required=True), model=dict(required=True),
               explainer=dict(required=True))
    a = st.args
    task = tasks.get(a.task, st.params, st.root)
    if a.explainer not in xai.names(st.params, task.EXPLAINERS):
        raise ValueError(f"{task.EXPLAINERS}: {a.explainer!r} is not in the explainer list of task {task.name}")
    cfg = xai.settings(st.params, a.explainer)
    explainer = xai.get(a.explainer)(cfg, task, f"explain.{a.explainer}")
    seed_everything(st.glob["seed"])
    device = st.device()
    if device.type == "cuda":
        torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = False, True
    subset = np.load(paths.xai_dir(task.name, st.root) / "subset.npy")
    images = normalize(torch.from_numpy(subset), task.meta)
    target = task.explain_target(pd.read_csv(paths.xai_dir(task.name, st.root) / "subset.csv"))
    target = None if target is None else torch.as_tensor(target, device=device)
    n_runs = st.section("explain", xai.explain_schema(st.params))["repeats"]
    models = methods.task_models(st.params, task) if a.model == ALL else [a.model]
    for name in models:
        runs, _ = load_checkpoint(paths.model(task.name, name, ".pt", st.root), device)
        runs = runs[:n_runs]  # the first explain.repeats runs
        stats: dict = {}
        heat = []
        for model in runs:  # every explained run: the heatmap metrics' intervals span them too
            model = model.to(memory_format=torch.channels_last)  # CPU: 2x faster with small batches (bench_arch.py)
            heat.append(explainer.explain(model, images, stats, target=target))
        heat = torch.stack(heat)
        write_npy(paths.heatmaps(task.name, a.explainer, name, st.root), heat.numpy().astype(np.float32))
        write_json(paths.heatmaps(task.name, a.explainer, name, st.root).with_suffix(".json"),
                   {"task": task.name, "model": name, "explainer": a.explainer, "n_images": len(images),
                    "repeats": len(runs), "shape": list(heat.shape), "device": str(device), **cfg, **stats})
        st.log.info("%s/%s/%s: %d heatmaps %s", task.name, a.explainer, name, len(images), stats)


if __name__ == "__main__":
    main()
