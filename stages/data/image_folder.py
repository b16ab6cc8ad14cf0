"""Your own images: a folder of class subfolders (torchvision's ``ImageFolder`` layout) -> the prepared arrays.

Layout: ``<root>/<class>/<file>`` (nested folders inside a class count for that class), any size, JPEG, PNG or
another format ``torchvision.datasets.folder.IMG_EXTENSIONS`` names, grey or colour. Classes are the subfolder names in
sorted order (torchvision's ``find_classes``), files are found by torchvision's ``make_dataset``; hidden files and
folders (``.DS_Store``, macOS ``._*``) are left out, files with other extensions and files directly in ``<root>`` are
counted and ignored, as ``ImageFolder`` ignores them.

:func:`prepare` (stage ``prepare@<dataset>`` for a section ``data.<dataset>`` with ``format: image_folder`` and its
folder as ``root``) decodes every image once with PIL (EXIF orientation applied, transparency composed onto
white), centre-crops it to a square and resizes it to ``image_size`` (the UTKFace faces' rule: the whole short side
stays), splits the images train / val / test stratified by class (seeded) and writes the
layout of :mod:`stages.data.arrays`: ``<split>.npy`` uint8 (N, C, S, S), ``<split>.csv`` (``file`` = the path under the
root, ``label``, ``split``), ``meta.json`` (channels, size, classes, class names = folder names, training mean/std) and
``prepare_report.json`` (what was left out and why). ``channels: auto`` gives one channel when every image is grey,
three otherwise (grey images then repeat their channel).

Bad input, as for LTD and UTKFace: with ``on_error: raise`` each of these stops the stage with an error naming the file
or folder; with ``on_error: skip`` it is logged as a warning naming it, counted and listed in the report, and left out:

- an unreadable image (empty, truncated, not an image, corrupt): the file;
- an empty class folder (no image file, or, when skipping, none readable): the class;
- a class with fewer images than a stratified split has parts (3: one each for train, val and test): the class.

Always an error: a missing folder or one without a class folder (naming it), fewer than two classes left, a split part
smaller than the number of classes (naming ``split``) or than its ``min_split`` (naming the key).
"""
from __future__ import annotations

import io
import logging
import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from stages.core import config, progress, threads
from stages.core.config import Choice, Float, Int, ParamError, Str
from stages.core.io import atomic_dir, write_json
from stages.core.seeds import derive_seed
from stages.data import arrays, splits

log = logging.getLogger(__name__)

# An image folder is a section ``data.<dataset>`` with ``format: image_folder`` and its folder as ``root``.
FORMAT = "image_folder"
SCHEMA = {
    "format": Choice(FORMAT),
    "root": Str(),
    "image_size": Int(min=8, max=1024),
    "channels": Choice("auto", 1, 3),
    "seed": Int(min=0),
    "split": {s: Float(min=0, max=1, min_open=True, max_open=True) for s in arrays.SPLITS},
    "on_error": Choice("raise", "skip"),
    "min_split": {s: Int(min=1) for s in arrays.SPLITS},
}
PARTS = len(arrays.SPLITS)  # a stratified train/val/test split needs this many images of every class


class ImageFolderError(ValueError):
    """An unreadable image, an empty class folder or a class too small to split; the message names it."""


def folders(params: dict) -> dict:
    """The image folders: dataset name -> its folder, for every section ``data.<name>`` with ``format:
    image_folder`` (none by default)."""
    data = config.get(params, "data")
    if not isinstance(data, dict):
        raise ParamError(f"data = {data!r}: expected a mapping dataset name -> its section")
    return {name: section.get("root") for name, section in data.items()
            if isinstance(section, dict) and section.get("format") == FORMAT}


def load_params(params: dict, dataset: str) -> dict:
    """``data.<dataset>`` validated: an image folder's section (``format: image_folder``, its folder as ``root``)."""
    data = config.get(params, "data")
    if not isinstance(data, dict) or dataset not in data:
        raise ParamError(f"data.{dataset}: missing (the section of an image folder: format: {FORMAT}, root: the "
                         f"folder of class subfolders)")
    cfg = config.load(f"data.{dataset}", SCHEMA, params)
    config.ratios(f"data.{dataset}.split", cfg["split"])
    return cfg


# ---------------------------------------------------------------------------------------------- finding the files
def _hidden(rel: str) -> bool:
    return any(part.startswith(".") for part in Path(rel).parts)


def find(root: str | os.PathLike) -> tuple[list[str], list[tuple[str, int]], list[str]]:
    """``(classes, [(file under root, class index)], ignored files)`` of an ImageFolder tree (torchvision's
    ``find_classes`` and ``make_dataset``; hidden entries left out). A missing root or one without a class folder is
    a FileNotFoundError naming it."""
    from torchvision.datasets.folder import IMG_EXTENSIONS, find_classes, has_file_allowed_extension, make_dataset

    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder (expected one subfolder per class)")
    try:
        classes, _ = find_classes(root)
    except FileNotFoundError:
        classes = []
    classes = [c for c in classes if not c.startswith(".")]
    if not classes:
        raise FileNotFoundError(f"{root}: no class folder (expected {root}/<class>/<image>, one subfolder per class)")
    index = {c: i for i, c in enumerate(classes)}
    found = make_dataset(str(root), index, is_valid_file=lambda p: not _hidden(os.path.relpath(p, root))
                         and has_file_allowed_extension(p, IMG_EXTENSIONS), allow_empty=True)
    files = [(Path(p).relative_to(root).as_posix(), k) for p, k in found]
    kept = {f for f, _ in files}
    every = sorted(Path(d, n).relative_to(root).as_posix() for d, _, names in os.walk(root, followlinks=True)
                   for n in names)
    return classes, files, [f for f in every if f not in kept and not _hidden(f)]


# ---------------------------------------------------------------------------------------------- decoding
def decode(data: bytes, size: int) -> tuple[np.ndarray | None, bool, str | None]:
    """``(uint8 (3, size, size) RGB array, whether the image is grey, None)`` or ``(None, False, reason)``.

    PIL decodes in full (a truncated file is an error, not a grey tail); EXIF orientation is applied; transparency
    is composed onto white; the image is centre-cropped to a square and resized to ``size`` (bilinear, antialiased
    when shrinking); 16-bit and float greys (0..65535, 0..255 or 0..1) are scaled to 0..255. Grey: the three channels
    are equal (a grey image in any mode, a palette or RGB file holding only greys)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        return None, False, "empty file (0 bytes)"
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
        img = ImageOps.exif_transpose(img)
    except UnidentifiedImageError:
        return None, False, f"not an image PIL can read (starts with {data[:4].hex(' ')})"
    except (OSError, SyntaxError, ValueError) as e:  # truncated or corrupt data
        return None, False, f"corrupt or truncated image ({e})"
    except Image.DecompressionBombError as e:       # over twice PIL's pixel limit: refused, as PIL refuses it
        return None, False, f"too large to decode ({e})"
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        a = np.asarray(img, np.float64)
        top = 65535.0 if a.max() > 255 else 255.0 if a.max() > 1 else 1.0  # 16-bit, 8-bit in a wider mode, 0..1
        img = Image.fromarray(np.clip(np.rint(a * (255.0 / top)), 0, 255).astype(np.uint8), "L")
    if img.mode in ("LA", "RGBA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        img = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    img = ImageOps.fit(img.convert("RGB"), (size, size), method=Image.Resampling.BILINEAR)
    a = np.ascontiguousarray(np.asarray(img, np.uint8).transpose(2, 0, 1))
    return a, bool((a[0] == a[1]).all() and (a[1] == a[2]).all()), None  # grey: equal channels (any mode)


def read_images(root: Path, files: list[str], size: int) -> list[tuple[np.ndarray | None, bool, str | None]]:
    """:func:`decode` of every file, in order (a thread pool: PIL releases the GIL while it decodes)."""
    def one(rel):
        try:
            data = (root / rel).read_bytes()
        except OSError as e:
            return None, False, f"cannot be read: {e.strerror or e}"
        return decode(data, size)

    with ThreadPoolExecutor(threads.workers(8)) as pool:
        return list(progress.bar(pool.map(one, files), desc="read images", total=len(files), unit="image"))


# ---------------------------------------------------------------------------------------------- problems
class Skips:
    """What ``on_error: skip`` left out: per kind, ``{"count", "files"}`` (files or folders with their reason)."""
    KINDS = ("unreadable", "empty_class", "small_class")

    def __init__(self, root: Path, on_error: str, dataset: str):
        self.root, self.on_error, self.dataset = root, on_error, dataset
        self.items = {k: [] for k in self.KINDS}

    def add(self, kind: str, rel: str, reason: str, others: int = 0) -> None:
        """Raise naming ``rel`` (and how many ``others`` of its kind there are), or log, count and list it."""
        where = self.root / rel
        if self.on_error == "raise":
            more = f"; {others} more of this kind" if others else ""
            raise ImageFolderError(f"{where}: {reason}{more} (data.{self.dataset}.on_error: skip leaves it out)")
        log.warning("%s: %s; skipped", where, reason)
        self.items[kind].append({"path": rel, "reason": reason})

    def summary(self) -> dict:
        return {k: {"count": len(v), "files": v} for k, v in self.items.items()}


# ---------------------------------------------------------------------------------------------- splitting
def split_rows(labels: np.ndarray, cfg: dict, seed: int, where: str, key: str) -> dict[str, np.ndarray]:
    """Row indices per split, stratified by class: test first (share ``split.test``), then val out of the rest."""
    from sklearn.model_selection import train_test_split

    share = cfg["split"]
    rows = np.arange(len(labels))
    n_test = math.ceil(share["test"] * len(rows))     # scikit-learn's rounding of a float test_size
    splits.check_stratified(where, labels, {"train + val": len(rows) - n_test, "test": n_test}, f"{key}.split")
    rest, test = train_test_split(rows, test_size=n_test, stratify=labels, random_state=seed)
    n_val = math.ceil(share["val"] / (share["train"] + share["val"]) * len(rest))
    splits.check_stratified(where, labels[rest], {"train": len(rest) - n_val, "val": n_val}, f"{key}.split")
    train, val = train_test_split(rest, test_size=n_val, stratify=labels[rest], random_state=seed + 1)
    return {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test)}


# ---------------------------------------------------------------------------------------------- prepare
def prepare(cfg: dict, out: Path, dataset: str) -> dict:
    """Find, decode, check, split and write ``data/prepared/<dataset>``; returns the statistics (counts per split
    and class, what was left out)."""
    root, key = Path(cfg["root"]), f"data.{dataset}"
    classes, files, ignored = find(root)
    for rel in ignored:
        log.info("%s: not an image file of a class folder, ignored", root / rel)
    skips = Skips(root, cfg["on_error"], dataset)
    counts = np.bincount([k for _, k in files], minlength=len(classes))
    for c in np.flatnonzero(counts == 0):
        skips.add("empty_class", classes[c], "empty class folder (no image file)")
    decoded = read_images(root, [f for f, _ in files], cfg["image_size"])
    bad = [(rel, why) for (rel, _), (img, _, why) in zip(files, decoded) if img is None]
    for rel, why in bad:
        skips.add("unreadable", rel, why, others=len(bad) - 1)
    good = [(rel, k, img, grey) for (rel, k), (img, grey, _) in zip(files, decoded) if img is not None]
    per_class = np.bincount([k for _, k, _, _ in good], minlength=len(classes))
    keep = []
    for c in range(len(classes)):
        if counts[c] and per_class[c] == 0:
            skips.add("empty_class", classes[c], f"no readable image (all {counts[c]} unreadable)")
        elif 0 < per_class[c] < PARTS:
            skips.add("small_class", classes[c], f"{per_class[c]} image(s), fewer than the {PARTS} a stratified "
                      f"train / val / test split needs (one each); add images or remove the folder")
        elif per_class[c]:
            keep.append(c)
    if len(keep) < 2:
        raise ImageFolderError(f"{root}: {len(keep)} class(es) left ({', '.join(classes[c] for c in keep) or 'none'}"
                               f"), a classifier needs at least 2 (skipped: {_skipped(skips)})")
    names = [classes[c] for c in keep]
    new = {c: i for i, c in enumerate(keep)}
    good = [(rel, new[k], img, grey) for rel, k, img, grey in good if k in new]
    labels = np.array([k for _, k, _, _ in good])
    rows = split_rows(labels, cfg, derive_seed(cfg["seed"], dataset, "split"), str(root), key)
    for split, r in rows.items():
        splits.check_size(f"{key}: split {split}", len(r), cfg["min_split"][split], f"{key}.min_split.{split}",
                          unit="images")
    channels = cfg["channels"] if cfg["channels"] != "auto" else (1 if all(g for *_, g in good) else 3)
    stack = np.stack([img for _, _, img, _ in good])
    if channels == 1:  # ITU-R 601 luma, as PIL's convert("L"); grey images have equal channels, so they stay exact
        luma = stack.astype(np.float64).transpose(0, 2, 3, 1) @ [0.299, 0.587, 0.114]
        stack = np.rint(luma)[:, None].astype(np.uint8)
    stats = {"root": str(root), "classes": len(names), "class_names": names, "files_found": len(files),
             "ignored_files": len(ignored), "skipped": {k: v["count"] for k, v in skips.summary().items()},
             "channels": channels, "splits": {}}
    with atomic_dir(out) as tmp:
        for split, r in rows.items():
            table = pd.DataFrame({"file": [good[i][0] for i in r], "label": labels[r], "split": split})
            np.save(Path(tmp) / f"{split}.npy", np.ascontiguousarray(stack[r]))
            table.to_csv(Path(tmp) / f"{split}.csv", index=False)
            stats["splits"][split] = {"images": len(r),
                                      "per_class": np.bincount(labels[r], minlength=len(names)).tolist()}
        mean, std = arrays.channel_stats(stack[rows["train"]])
        meta = {"dataset": dataset, "format": "image_folder", "channels": channels, "image_size": cfg["image_size"],
                "classes": len(names), "class_names": names, "mean": mean, "std": std}
        write_json(Path(tmp) / "meta.json", meta)
        write_json(Path(tmp) / "prepare_report.json", {"root": str(root), "ignored_files": ignored,
                                                       **skips.summary()})
    return stats


def _skipped(skips: Skips) -> str:
    s = {k: v["count"] for k, v in skips.summary().items() if v["count"]}
    return ", ".join(f"{v} {k}" for k, v in s.items()) or "none"
