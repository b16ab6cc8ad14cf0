"""A tiny project on disk: prepared LTD-like and UTKFace-like arrays and a params.yaml scaled down from the real
one, so that every model stage (train, task, retrain, unlearn, explain, explain_report, evaluate, report) runs in
seconds in a temporary folder. Images carry the target (bright blobs per object, brightness per age), so the tiny
models learn something."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from stages.core import config

ROOT = Path(__file__).resolve().parents[1]
CLASSES = ("human", "bicycle", "motorcycle", "vehicle")
LTD_HW, UTK_HW = (24, 32), (24, 24)
SIZES = {"train": 48, "val": 16, "test": 64}  # test: >= 10 members and non-members for the attacks


def _ltd_split(name: str, n: int, rng) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    counts = rng.integers(0, 3, size=(n, 4))
    counts[::2, 0] = np.maximum(counts[::2, 0], 1)   # half the frames hold a human ...
    counts[1::2, 0] = 0                               # ... the others none
    x = np.full((n, 1, *LTD_HW), 30, np.uint8)
    boxes = []
    for i, row in enumerate(counts):
        for c, k in zip(CLASSES, row):
            for _ in range(k):
                r, col = rng.integers(0, LTD_HW[0] - 6), rng.integers(0, LTD_HW[1] - 4)
                x[i, 0, r:r + 6, col:col + 4] = 200 + 10 * CLASSES.index(c)
                boxes.append((i, c, col, r, col + 4, r + 6))
    t = pd.DataFrame(counts, columns=list(CLASSES))
    t.insert(0, "file_name", [f"{name}/image_{i:04d}.jpg" for i in range(n)])
    t["y"] = t[list(CLASSES)].sum(axis=1)
    t["y_prime"] = t["y"] - t["human"]
    return x, t, pd.DataFrame(boxes, columns=["row", "cls", "x_tl", "y_tl", "x_br", "y_br"])


def _utk_split(n: int, rng, augmented: bool) -> tuple[np.ndarray, pd.DataFrame]:
    ages = np.resize(np.arange(20, 61, 3), n)
    rng.shuffle(ages)
    x = (rng.integers(0, 30, size=(n, 3, *UTK_HW)) + (ages * 3)[:, None, None, None]).astype(np.uint8)
    group = np.minimum((ages - 20) // 8, 4)
    aug = np.zeros(n, bool)
    if augmented:
        aug[-4:] = True
    t = pd.DataFrame({"file_name": [f"{a}_0_0_{i}.jpg.chip.jpg" for i, a in enumerate(ages)], "age": ages,
                      "group": group, "forget": group == 0, "augmented": aug})
    return x, t


def _digits_split(name: str, n: int, rng) -> tuple[np.ndarray, pd.DataFrame]:
    """8x8 grey 'digits' whose class c is a bright 2x2 patch at cell c of a 4x4 grid (classes 0..9)."""
    labels = np.resize(np.arange(10), n)
    rng.shuffle(labels)
    x = rng.integers(0, 40, size=(n, 1, 8, 8)).astype(np.uint8)
    for i, c in enumerate(labels):
        r, col = divmod(int(c), 4)
        x[i, 0, 2 * r:2 * r + 2, 2 * col:2 * col + 2] = 220
    t = pd.DataFrame({"label": labels, "split": name, "source": "train" if name != "test" else "test",
                      "source_row": np.arange(n)})
    return x, t


def make_project(root: Path, params_over: dict | None = None) -> Path:
    """Write data/prepared/{ltd,utk,digits} and params.yaml under ``root``; point config.PARAMS_FILE at it."""
    rng = np.random.default_rng(0)
    d = root / "data" / "prepared" / "ltd"
    d.mkdir(parents=True)
    for split, n in SIZES.items():
        x, t, b = _ltd_split(split, n, rng)
        np.save(d / f"{split}.npy", x)
        t.to_csv(d / f"{split}.csv", index=False)
        b.to_csv(d / f"{split}_boxes.csv", index=False)
    (d / "meta.json").write_text(json.dumps({"task": "ltd", "channels": 1, "image_size": list(LTD_HW),
                                             "mean": [0.2], "std": [0.25], "forget_class": "human",
                                             "target_max": 8.0}))
    d = root / "data" / "prepared" / "utk"
    d.mkdir(parents=True)
    for split, n in SIZES.items():
        x, t = _utk_split(n, rng, augmented=split == "train")
        np.save(d / f"{split}.npy", x)
        t.to_csv(d / f"{split}.csv", index=False)
    (d / "meta.json").write_text(json.dumps({"channels": 3, "mean": [0.4] * 3, "std": [0.2] * 3, "age_min": 20,
                                             "age_max": 60, "forget_group": 0}))
    d = root / "data" / "prepared" / "digits"
    d.mkdir(parents=True)
    for split, n in {"train": 100, "val": 30, "test": 100}.items():  # >= 10 forget rows of one class for the attacks
        x, t = _digits_split(split, n, rng)
        np.save(d / f"{split}.npy", x)
        t.to_csv(d / f"{split}.csv", index=False)
    (d / "meta.json").write_text(json.dumps({"channels": 1, "image_size": 8, "classes": 10, "mean": [0.2],
                                             "std": [0.3], "class_names": [str(c) for c in range(10)]}))
    params = config.read_params(ROOT / "params.yaml")
    params["device"] = "cpu"
    params["repeats"] = 2  # every task: two runs (the smallest with a run-to-run part)
    for ds in ("ltd", "utk", "digits"):
        params["train"][ds].update(epochs=2, batch_size=16, ensemble=1, patience=0, amp=False)
    listed = [*params["tracks"]["per_model"], *params["tracks"]["per_task"]]  # the tracks running every method
    for task in listed:
        params["unlearn"][task].update(epochs=1, batch_size=16)
    params["attributions"].update(n_samples=8)
    params["explain"].update(n_images={t: 6 for t in listed}, n_figure=3, batch_size=256, repeats=2)
    params["explain"]["sidu"]["threshold"] = {t: 0.15 for t in listed}  # tiny models: low activations
    params["evaluate"].update(mia_splits=2, hist_bins=5, bootstrap=20, bootstrap_attack=10, probe_splits=2)
    for key, value in (params_over or {}).items():
        node = params
        *path, last = key.split(".")
        for p in path:
            node = node[p]
        node[last] = value
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return root / "params.yaml"
