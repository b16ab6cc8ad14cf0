"""Image-classification datasets (seeds 003 and 004): the embedded real digits, or MNIST / CIFAR-10 files.

The default is scikit-learn's bundled 1,797 real handwritten 8x8 digits (``sklearn.datasets.load_digits``, no
download). Stage ``export_digits`` writes them in MNIST's on-disk format (the four IDX files, 8x8, values scaled
0..16 -> 0..255) with a fixed stratified train/test split, so that ``prepare@digits`` reads the same format a user
with MNIST has: pointing ``data.digits.root`` at a real MNIST folder (``format: mnist``) or at CIFAR-10's python
batches (``format: cifar10``) switches the dataset with no code change.

``prepare`` (stage ``prepare@<dataset>`` of a section with ``format: mnist`` or ``cifar10``) reads the files with
:mod:`stages.data.mnist` / :mod:`stages.data.cifar10`, splits a stratified validation set off the training files
(seeded), resizes to ``image_size`` (bilinear, OpenCV) and writes the prepared layout of :mod:`stages.data.arrays`:
``<split>.npy`` uint8 (N, C, H, W), ``<split>.csv`` (``label``, ``split``, ``source`` = train | test file,
``source_row``), ``meta.json`` (channels, size, classes, class names, training mean/std). The readers reject a label
outside the format's 10 classes; ``prepare`` stops naming the file and the class when a class has too few images for
a stratified split (``limit`` or train/val), a split part would hold fewer images than there are classes, or a test
class has no training image.
"""
from __future__ import annotations

import gzip
import json
import math
import struct
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from stages.core import config
from stages.core.config import Choice, Float, Int, Section, Str
from stages.core.io import atomic_dir
from stages.core.seeds import derive_seed
from stages.data import arrays, cifar10, mnist
from stages.data.splits import check_size, check_stratified, check_test_classes

SECTION = "data.digits"
READERS = {"mnist": mnist.load, "cifar10": cifar10.load}
LABEL_FILES = {"mnist": mnist.label_files, "cifar10": cifar10.label_files}
CLASS_NAMES = {"mnist": mnist.CLASS_NAMES, "cifar10": cifar10.CLASS_NAMES}  # the readers reject other labels
SCHEMA = {
    "export": Section(), "root": Str(), "format": Choice(*READERS), "seed": Int(min=0),
    "image_size": Int(min=8, max=256), "val_share": Float(min=0, max=1, min_open=True, max_open=True),
    "limit": Section(), "min_split": Section(),
}
EXPORT_SCHEMA = {"out": Str(), "seed": Int(min=0), "test_share": Float(min=0, max=1, min_open=True, max_open=True)}


def load_params(params: dict, dataset: str = "digits") -> dict:
    key = f"data.{dataset}"
    cfg = config.load(key, SCHEMA, params)
    cfg["export"] = config.validate(cfg["export"], EXPORT_SCHEMA, f"{key}.export")
    cfg["limit"] = config.validate(cfg["limit"], {"train": Int(min=0), "test": Int(min=0)}, f"{key}.limit")
    cfg["min_split"] = config.validate(cfg["min_split"], {s: Int(min=1) for s in arrays.SPLITS}, f"{key}.min_split")
    return cfg


# ---------------------------------------------------------------------------------------------- export (IDX)
def write_idx(path: Path, array: np.ndarray) -> None:
    """One IDX file (unsigned bytes): magic 0x0000 08 <ndim>, big-endian int32 dims, then the data."""
    a = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">I", 0x0800 | a.ndim) + struct.pack(f">{a.ndim}I", *a.shape)
    with gzip.GzipFile(path, "wb", mtime=0) if path.suffix == ".gz" else open(path, "wb") as f:
        f.write(header + a.tobytes())


def export_sklearn(out: Path, seed: int, test_share: float) -> dict:
    """scikit-learn's 1,797 real digits -> the four MNIST IDX files in ``out`` (stratified train/test split)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = np.clip(np.rint(d.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)   # values 0..16 -> 0..255
    y = d.target.astype(np.uint8)
    rows = np.arange(len(y))
    tr, te = train_test_split(rows, test_size=test_share, stratify=y, random_state=seed)
    tr, te = np.sort(tr), np.sort(te)
    with atomic_dir(out) as tmp:
        for prefix, idx in (("train", tr), ("t10k", te)):
            write_idx(Path(tmp) / f"{prefix}-images-idx3-ubyte", x[idx])
            write_idx(Path(tmp) / f"{prefix}-labels-idx1-ubyte", y[idx])
    return {"images": len(y), "train": len(tr), "test": len(te), "size": list(x.shape[1:])}


# ---------------------------------------------------------------------------------------------- prepare
def _resize(x: np.ndarray, size: int) -> np.ndarray:
    """uint8 (N, H, W) or (N, H, W, 3) -> uint8 (N, C, size, size)."""
    if x.ndim == 3:
        x = x[..., None]
    if x.shape[1:3] != (size, size):
        x = np.stack([cv2.resize(im, (size, size), interpolation=cv2.INTER_LINEAR).reshape(size, size, -1)
                      for im in x])
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def _limit(y: np.ndarray, n: int, seed: int, where: str, key: str) -> np.ndarray:
    """Row indices of a stratified subset of ``n`` rows (all rows when n is 0 or at least their count)."""
    rows = np.arange(len(y))
    if n == 0 or n >= len(y):
        return rows
    check_stratified(where, y, {"kept": n, "left-out": len(y) - n}, f"{key} = {n} (0 keeps all {len(y)} rows)")
    keep, _ = train_test_split(rows, train_size=n, stratify=y, random_state=seed)
    return np.sort(keep)


def _split_val(rows: np.ndarray, y: np.ndarray, share: float, seed: int, where: str, key: str):
    """``(train, val)`` row indices: a stratified share ``share`` of ``rows`` held out for validation."""
    n_val = math.ceil(share * len(rows))  # scikit-learn's rounding of a float test_size
    check_stratified(where, y[rows], {"train": len(rows) - n_val, "val": n_val}, f"{key}.val_share = {share}")
    tr, va = train_test_split(rows, test_size=share, stratify=y[rows], random_state=seed)
    return np.sort(tr), np.sort(va)


def _select(cfg: dict, y_train: np.ndarray, y_test: np.ndarray, files: dict, dataset: str):
    """``(train, val, test)`` row indices of the training and test files, each class checked on the way."""
    key, lim, seed = f"data.{dataset}", cfg["limit"], cfg["seed"]
    src_tr = _limit(y_train, lim["train"], derive_seed(seed, dataset, "limit", "train"), files["train"],
                    f"{key}.limit.train")
    src_te = _limit(y_test, lim["test"], derive_seed(seed, dataset, "limit", "test"), files["test"],
                    f"{key}.limit.test")
    after = f"after {key}.limit.train = {lim['train']}" if len(src_tr) < len(y_train) else ""
    check_test_classes(files["train"], y_train[src_tr], files["test"], y_test[src_te], src_te, after)
    where = f"{files['train']}{' (' + after + ')' if after else ''}"
    tr, va = _split_val(src_tr, y_train, cfg["val_share"], derive_seed(seed, dataset, "val"), where, key)
    return tr, va, src_te


def prepare(cfg: dict, out: Path, dataset: str = "digits") -> dict:
    """Read, split, resize and write ``data/prepared/<dataset>``; returns the statistics (counts per split and class)."""
    root = Path(cfg["root"])
    x_train, y_train, x_test, y_test = READERS[cfg["format"]](root)
    key = f"data.{dataset}"
    tr, va, src_te = _select(cfg, y_train, y_test, LABEL_FILES[cfg["format"]](root), dataset)
    parts = {"train": ("train", tr, x_train, y_train), "val": ("train", va, x_train, y_train),
             "test": ("test", src_te, x_test, y_test)}
    classes = int(max(y_train.max(), y_test.max())) + 1
    stats = {"format": cfg["format"], "root": str(root), "classes": classes, "splits": {}}
    with atomic_dir(out) as tmp:
        for split, (source, rows, x, y) in parts.items():
            check_size(f"{key}: split {split}", len(rows), cfg["min_split"][split], f"{key}.min_split.{split}",
                       unit="images")
            images = _resize(x[rows], cfg["image_size"])
            table = pd.DataFrame({"label": y[rows].astype(int), "split": split, "source": source, "source_row": rows})
            np.save(Path(tmp) / f"{split}.npy", images)
            table.to_csv(Path(tmp) / f"{split}.csv", index=False)
            stats["splits"][split] = {"images": len(rows),
                                      "per_class": np.bincount(table["label"], minlength=classes).tolist()}
            if split == "train":
                mean, std = arrays.channel_stats(images)
                channels = images.shape[1]
        meta = {"dataset": dataset, "format": cfg["format"], "channels": channels, "image_size": cfg["image_size"],
                "classes": classes, "class_names": CLASS_NAMES[cfg["format"]][:classes], "mean": mean, "std": std}
        (Path(tmp) / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    return stats
