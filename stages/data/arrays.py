"""The compact, model-ready format written by the prepare stages and read by every later stage.

Layout of ``data/prepared/<task>/`` (task: ``ltd`` or ``utk``):

- ``<split>.npy``: uint8 images, shape (N, C, H, W), one file per split (train, val, test);
- ``<split>.csv``: one row per image, same order (targets and provenance);
- ``<split>_boxes.csv`` (LTD only): one row per annotated object, ``row`` = index into the split,
  box corners rescaled to the model input size;
- ``meta.json``: channels, image size, per-channel mean/std of the training split (normalisation).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

PREPARED = Path("data/prepared")
SPLITS = ("train", "val", "test")
STATS_CHUNK = 512  # images per chunk when computing channel statistics


@dataclass
class Split:
    images: np.ndarray          # uint8 (N, C, H, W)
    table: pd.DataFrame         # one row per image
    boxes: pd.DataFrame | None  # LTD: one row per object (column ``row`` indexes ``images``)


def task_dir(task: str, root: str | Path = PREPARED) -> Path:
    return Path(root) / task


def load_split(task: str, split: str, root: str | Path = PREPARED, mmap: bool = False) -> Split:
    d = task_dir(task, root)
    images = np.load(d / f"{split}.npy", mmap_mode="r" if mmap else None)
    table = pd.read_csv(d / f"{split}.csv")
    if len(table) != len(images):
        raise ValueError(f"{d}/{split}.csv has {len(table)} rows but {split}.npy has {len(images)} images")
    bpath = d / f"{split}_boxes.csv"
    boxes = pd.read_csv(bpath) if bpath.exists() else None
    return Split(images, table, boxes)


def load_meta(task: str, root: str | Path = PREPARED) -> dict:
    import json

    with open(task_dir(task, root) / "meta.json") as f:
        return json.load(f)


def channel_stats(images: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-channel mean and std (in [0, 1] units) of a uint8 (N, C, H, W) array."""
    n, c = images.shape[:2]
    total, sq, count = np.zeros(c), np.zeros(c), 0
    for i in range(0, n, STATS_CHUNK):  # in chunks: bounded memory at any dataset size
        x = images[i:i + STATS_CHUNK].astype(np.float64) / 255.0
        total += x.sum(axis=(0, 2, 3))
        sq += (x ** 2).sum(axis=(0, 2, 3))
        count += x.shape[0] * x.shape[2] * x.shape[3]
    mean = total / count
    std = np.sqrt(np.maximum(sq / count - mean ** 2, 0))
    return mean.tolist(), np.maximum(std, 1e-6).tolist()


def normalize(batch, meta: dict):
    """uint8 (or float in [0, 255]) tensor (B, C, H, W) -> float tensor normalised with the training split's mean/std."""
    import torch

    mean = torch.tensor(meta["mean"], device=batch.device).view(1, -1, 1, 1)
    std = torch.tensor(meta["std"], device=batch.device).view(1, -1, 1, 1)
    return (batch.float() / 255.0 - mean) / std
