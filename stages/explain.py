"""Stage ``explain``: SIDU heatmaps of one model on the fixed explanation subset of a task.

    python -m stages.explain --task ltd --model finetune [--root .]

Reads ``models/<task>/<model>.pt``, ``data/xai/<task>/subset.npy`` (stage ``explain_subset``) and the
normalisation of ``data/prepared/<task>/meta.json``; writes ``data/xai/<task>/<model>.npy`` (float32
(n, H, W) heatmaps at input resolution, one packed array per model) and ``<model>.json`` (timing, N, device).
Params: ``explain`` (layer, threshold, batch_size, dedup, autocast, <task>.sigma), ``seed``, ``device``.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from stages import config
from stages.data.arrays import PREPARED, load_meta, normalize
from stages.io import pick_device, seed_everything, setup_logging, write_json, write_npy
from stages.models.resnet import load_checkpoint
from stages.xai.settings import SCHEMA, TASKS, xai_dir
from stages.xai.sidu import explain_model

def main(argv=None):
    ap = argparse.ArgumentParser(description="SIDU heatmaps of one model on the explanation subset")
    ap.add_argument("--task", required=True, choices=TASKS)
    ap.add_argument("--model", required=True, help="models/<task>/<model>.pt")
    ap.add_argument("--root", default=".", help="project root holding data/ and models/")
    a = ap.parse_args(argv)
    log = setup_logging("explain")
    params = config.read_params()
    cfg, glob = config.load("explain", SCHEMA, params), config.load_global(params)
    seed_everything(glob["seed"])
    device = pick_device(glob["device"])
    if device.type == "cuda":
        torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = False, True

    out = xai_dir(a.task, a.root)
    subset = np.load(out / "subset.npy")
    meta = load_meta(a.task, Path(a.root) / PREPARED)
    model, _ = load_checkpoint(Path(a.root) / "models" / a.task / f"{a.model}.pt", device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    images = normalize(torch.from_numpy(subset), meta)
    kw = {k: cfg[k] for k in ("threshold", "batch_size", "dedup", "autocast")}
    kw["sigma"] = cfg[a.task]["sigma"]

    stats: dict = {}
    t0 = time.perf_counter()
    try:
        heat = explain_model(model, images, cfg["layer"], stats=stats, **kw)
    except AttributeError as e:
        raise config.ParamError(f"explain.layer = {cfg['layer']!r}: not a module of the model ({e})") from e
    wall = time.perf_counter() - t0
    write_npy(out / f"{a.model}.npy", heat.numpy().astype(np.float32))
    info = {"task": a.task, "model": a.model, "n_images": len(images), "shape": list(heat.shape),
            "layer": cfg["layer"], "n_masks": stats["n_masks"], "members": stats["members"],
            "n_forward": stats["n_forward"], "wall_s": round(wall, 3),
            "heatmaps_per_s": round(len(images) / wall, 4), "device": str(device), **kw}
    write_json(out / f"{a.model}.json", info)
    log.info("%s/%s: %d heatmaps, N=%d, %d masked forwards (dedup=%s) in %.1f s on %s", a.task, a.model,
             len(images), stats["n_masks"], stats["n_forward"], kw["dedup"], wall, device)


if __name__ == "__main__":
    main()
