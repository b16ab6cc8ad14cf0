"""UTKFace: file-name parsing, image reading and the thesis' preparation (seed 001, REFERENCE section 7).

A face file is named ``<age>_<gender>_<race>_<yyyymmddHHMMSSFFF>.jpg.chip.jpg`` (the in-the-wild set:
``.jpg``). :func:`prepare` turns a folder of them (or a ``.zip`` of it, read in place: :mod:`stages.data.source`)
into the compact format of :mod:`stages.data.arrays`:

1. scan: every entry of the folder is classified: non-image file, name without a readable age,
   unreadable (empty, not an image, truncated, corrupt) / too small image (every image is decoded once,
   so all defects are logged, counted and listed with their reason in the report, not only those that the
   subsample happens to draw); byte-identical images (same content hash) are grouped and listed;
2. subsample ``subsample`` of the faces with a readable age, keeping the age distribution (thesis: 30 %);
3. keep ages ``age_min`` .. ``age_max`` (inclusive) and drop the unusable images (the thesis' order);
4. split train / val / test stratified by age, each group of byte-identical images as one unit (it lands
   whole in one split, so the same face is never in train and test); a split (or the forget set) smaller
   than ``min_split`` stops the stage with its name, size and the minimum;
5. augment the training split only: every age below ``min_per_age`` samples is topped up with
   randomly rotated / shifted / zoomed / flipped copies of its images (torchvision), ages above untouched;
6. forget groups: each row gets the index of the age interval containing it; rows of the selected
   group are the forget set (train) and the other training rows the retain set.

Stratification ("dealing"): samples are ordered by age (random order within an age) and each in turn
goes to the part furthest below its target share so far, so the part sizes are exact to one sample
and every age (every run of consecutive samples) is split in the target proportions to within two.
A group of byte-identical images is dealt as one unit (by its first image's age), so with duplicates these
bounds hold in units, not images.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple, Sequence

import cv2
import numpy as np
import pandas as pd
from tqdm import tqdm

from stages.core import threads
from stages.core.config import Choice, Float, Int, List, ParamError, Str, load
from stages.data import jpeg, splits, synth_utk
from stages.data.splits import TooSmall  # noqa: F401  (re-exported: utkface.TooSmall)
from stages.data.arrays import SPLITS, channel_stats
from stages.data.source import Source, open_source
from stages.core.io import atomic_dir, write_csv, write_json, write_npy

log = logging.getLogger(__name__)

SCHEMA = {
    "synth": synth_utk.SCHEMA,
    "format": Choice("utkface"),
    "root": Str(),
    "seed": Int(min=0),
    "subsample": Float(min=0, max=1, min_open=True),
    "age_min": Int(min=0),
    "age_max": Int(min=1),
    "min_size": Int(min=1),
    "image_size": Int(min=8),
    "split": {s: Float(min=0, max=1) for s in SPLITS},
    "augment": {
        "min_per_age": Int(min=0),
        "rotation": Float(min=0, max=180),
        "shift": Float(min=0, max=1, max_open=True),
        "zoom": Float(min=0, max=1, max_open=True),
        "hflip": Float(min=0, max=1),
    },
    "forget_groups": List(List(Int(min=0), length=2), min_len=1),
    "forget_group": Int(min=0),
    "min_split": {"train": Int(min=1), "val": Int(min=1), "test": Int(min=1), "forget": Int(min=1)},
}
# Used when a caller's cfg has no min_split: the floor below which no later stage can run at all.
DEFAULT_MIN_SPLIT = {"train": 2, "val": 1, "test": 1, "forget": 1}
MAX_AGE = 150            # a larger number in the age field is a broken name, not an age
# Bytes at the end of a JPEG file searched for its end-of-image marker (:func:`stages.data.jpeg.defect`): wider
# than LTD's 64 (stages.data.ltd) because UTKFace images were gathered from the web and may carry trailing data
# after the marker.
TRUNCATION_WINDOW = 1024


def check_params(cfg: dict, key: str = "data.utk") -> dict:
    """The cross-key rules of the ``data.utk`` section (each per-key rule is in :data:`SCHEMA`)."""
    if cfg["age_min"] >= cfg["age_max"]:
        raise ParamError(f"{key}.age_min = {cfg['age_min']}: must be < age_max = {cfg['age_max']}")
    total = sum(cfg["split"].values())
    if abs(total - 1) > 1e-6 or cfg["split"]["train"] <= 0:
        raise ParamError(f"{key}.split: shares must sum to 1 with train > 0, got {cfg['split']}")
    groups = cfg["forget_groups"]
    for i, (lo, hi) in enumerate(groups):
        if not cfg["age_min"] <= lo < hi <= cfg["age_max"]:
            raise ParamError(f"{key}.forget_groups[{i}] = {[lo, hi]}: need age_min <= lo < hi <= age_max "
                             f"({cfg['age_min']}..{cfg['age_max']})")
        if i and lo < groups[i - 1][1]:
            raise ParamError(f"{key}.forget_groups[{i}] = {[lo, hi]}: overlaps or precedes the group before it")
    if cfg["forget_group"] >= len(groups):
        raise ParamError(f"{key}.forget_group = {cfg['forget_group']}: must index forget_groups "
                         f"(0..{len(groups) - 1})")
    return cfg


def check_size(what: str, size: int, minimum: int, key: str, unit: str = "images", hint: str = "") -> None:
    """:func:`stages.data.splits.check_size` counting images."""
    splits.check_size(what, size, minimum, key, unit, hint)


def load_params(params: dict | None = None, dataset: str = "utk") -> dict:
    """``data.<dataset>`` validated (each key's rule, then the cross-key rules)."""
    return check_params(load(f"data.{dataset}", SCHEMA, params), f"data.{dataset}")


# ----------------------------------------------------------------------------------------- names
class BadName(ValueError):
    """A file name whose age cannot be read."""


class UTKName(NamedTuple):
    age: int
    gender: int | None   # 0 male, 1 female
    race: int | None     # 0 White, 1 Black, 2 Asian, 3 Indian, 4 Others


_EXT = re.compile(r"(\s*)(\.?)jpg(\.chip\.jpg)?$", re.IGNORECASE)
_STAMP = re.compile(r"^\d{8,}$")


def check_name(file_name: str) -> tuple[UTKName, str | None]:
    """Parse a UTKFace name; return the fields and what is wrong with the name (None if nothing).

    Missing or unreadable gender/race fields become None; a name whose age cannot be read raises
    :class:`BadName`. The five malformed names of the release keep their age."""
    name = os.path.basename(file_name)
    m = _EXT.search(name)
    if not m:
        raise BadName(f"{name!r}: not a UTKFace image name (expected <age>_<gender>_<race>_<date>.jpg.chip.jpg)")
    issues = []
    if m.group(1):
        issues.append("space before the extension")
    if not m.group(2):
        issues.append("no dot before the extension")
    fields = name[:m.start()].split("_")
    if len(fields) > 1 and _STAMP.match(fields[-1]):
        fields = fields[:-1]
    else:
        issues.append("date field missing")
    age_f, rest = fields[0], fields[1:]
    if not age_f.isdigit() or int(age_f) > MAX_AGE:
        raise BadName(f"{name!r}: age field {age_f!r} is not an age (0..{MAX_AGE})")
    gender = race = None
    if len(rest) >= 1:
        gender = int(rest[0]) if rest[0] in ("0", "1") else None
        if gender is None:
            issues.append(f"gender field {rest[0]!r} unreadable")
    if len(rest) >= 2:
        race = int(rest[1]) if rest[1] in ("0", "1", "2", "3", "4") else None
        if race is None:
            issues.append(f"race field {rest[1]!r} unreadable")
    if len(rest) < 2:
        issues.append("race field missing" if len(rest) == 1 else "gender and race fields missing")
    if len(rest) > 2:
        issues.append("extra fields")
    return UTKName(int(age_f), gender, race), ("; ".join(issues) or None)


def parse_name(file_name: str) -> UTKName:
    """Age, gender and race from a UTKFace file name (None where a field is missing).

    >>> parse_name("39_1_20170116174525125.jpg.chip.jpg")
    UTKName(age=39, gender=1, race=None)
    """
    return check_name(file_name)[0]


def is_image_name(name: str) -> bool:
    """UTKFace images end in .jpg; hidden files (macOS ``._*``, ``.DS_Store``) are not images."""
    return not name.startswith(".") and name.lower().rstrip().endswith((".jpg", "jpg.chip.jpg", ".jpeg", ".png"))


# ---------------------------------------------------------------------------------------- images
def decode(data: bytes) -> tuple[np.ndarray | None, str | None]:
    """RGB uint8 (H, W, 3) image from file bytes, or (None, reason)."""
    problem = jpeg.defect(data, TRUNCATION_WINDOW)
    if problem == "empty":
        return None, "empty file (0 bytes)"
    if problem == "truncated":
        return None, "truncated JPEG (no end-of-image marker)"
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)   # a whole JPEG, a PNG or undecodable
    if img is None:
        if not data.startswith((jpeg.START, b"\x89PNG")):
            return None, f"not a JPEG or PNG image (starts with {data[:4].hex(' ')}), cannot be decoded"
        return None, "corrupt image data, cannot be decoded"
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB), None


def read_image(path: str | os.PathLike, src: Source | None = None) -> tuple[np.ndarray | None, str | None]:
    return read_image_hashed(path, src)[:2]


def read_image_hashed(path: str | os.PathLike, src: Source | None = None
                      ) -> tuple[np.ndarray | None, str | None, str | None]:
    """(image, reason, MD5 of the file's bytes): the hash groups byte-identical files (None if unreadable).
    ``path`` is relative to ``src`` when given."""
    try:
        data = src.read_bytes(str(path)) if src else Path(path).read_bytes()
    except OSError as e:
        return None, f"cannot be read: {e.strerror or e}", None
    return (*decode(data), hashlib.md5(data).hexdigest())


def to_square(img: np.ndarray, size: int) -> np.ndarray:
    """Centre-crop to a square and resize to ``size`` (area interpolation); (H, W, 3) -> (3, S, S)."""
    h, w = img.shape[:2]
    s = min(h, w)
    img = img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA if s > size else cv2.INTER_LINEAR)
    return np.ascontiguousarray(img.transpose(2, 0, 1))


def _workers() -> int:
    return threads.workers(8)


def scan(root: str | os.PathLike | Source, min_size: int, progress: bool = True) -> tuple[pd.DataFrame, dict]:
    """Classify every entry of ``root``. Returns one row per face whose age is readable (columns
    file_name, age, gender, race, usable, problem, md5) and the counts / lists for the report."""
    src = open_source(root)
    if not src.is_dir():
        raise FileNotFoundError(f"data.utk.root = {src.root!r}: no such folder or .zip")
    entries = src.listdir()
    non_image, malformed, bad_names, rows = [], [], [], []
    for name in entries:
        if not src.is_file(name) or not is_image_name(name):
            non_image.append(name)
            log.warning("%s: not an image file, skipped", src.show(name))
            continue
        try:
            fields, issue = check_name(name)
        except BadName as e:
            bad_names.append({"file": name, "reason": str(e)})
            log.warning("%s: %s; skipped", src.show(name), e)
            continue
        if issue:
            malformed.append({"file": name, "reason": issue})
            log.info("%s: malformed name (%s), age %d kept", name, issue, fields.age)
        rows.append({"file_name": name, **fields._asdict()})

    def check(name):
        img, why, digest = read_image_hashed(name, src)
        if img is not None and min(img.shape[:2]) < min_size:
            return "too_small", f"{img.shape[1]}x{img.shape[0]} < min_size {min_size}", digest
        return ("unreadable", why, digest) if img is None else (None, None, digest)

    with ThreadPoolExecutor(_workers()) as pool:
        names = [r["file_name"] for r in rows]
        results = list(tqdm(pool.map(check, names, chunksize=64), total=len(names), desc="scan utk",
                            disable=not progress, mininterval=5))
    unreadable, too_small = [], []
    for r, (kind, why, digest) in zip(rows, results):
        r["usable"], r["problem"], r["md5"] = kind is None, why, digest
        if kind:
            (unreadable if kind == "unreadable" else too_small).append({"file": r["file_name"], "reason": why})
            log.warning("%s: %s; excluded", src.show(r["file_name"]), why)
    faces = pd.DataFrame(rows, columns=["file_name", "age", "gender", "race", "usable", "problem", "md5"])
    faces[["gender", "race"]] = faces[["gender", "race"]].astype("Int64")
    dups = duplicate_groups(faces[faces["usable"]])
    for g in dups:
        log.warning("byte-identical images (kept together in one split): %s%s", ", ".join(g["files"]),
                    "; their names give different ages" if len(set(g["ages"])) > 1 else "")
    report = {
        "root": src.root, "files_seen": len(entries), "faces": len(faces),
        "non_image": {"count": len(non_image), "files": non_image},
        "malformed_names": {"count": len(malformed), "files": malformed},
        "bad_names": {"count": len(bad_names), "files": bad_names},
        "unreadable": {"count": len(unreadable), "files": unreadable},
        "too_small": {"count": len(too_small), "files": too_small},
        "duplicates": {"groups": len(dups), "files": sum(len(g["files"]) for g in dups),
                       "extra_copies": sum(len(g["files"]) - 1 for g in dups), "list": dups},
    }
    return faces, report


def duplicate_groups(faces: pd.DataFrame) -> list[dict]:
    """Groups of rows with the same content hash (byte-identical files): [{"files": [...], "ages": [...]}],
    files in name order, groups in the order of their first file."""
    groups = []
    for _, g in faces.groupby("md5", sort=False):
        if len(g) > 1:
            g = g.sort_values("file_name")
            groups.append({"files": g["file_name"].tolist(), "ages": [int(a) for a in g["age"]]})
    return sorted(groups, key=lambda g: g["files"][0])


def load_images(root: str | os.PathLike | Source, names: Sequence[str], size: int, progress: bool = True) -> np.ndarray:
    """uint8 (N, 3, size, size) RGB array of the named (already checked) images."""
    src = open_source(root)

    def one(name):
        img, why = read_image(name, src)
        if img is None:
            raise OSError(f"{src.show(name)}: {why} (it changed since the scan)")
        return to_square(img, size)

    out = np.empty((len(names), 3, size, size), np.uint8)
    with ThreadPoolExecutor(_workers()) as pool:
        for i, a in enumerate(tqdm(pool.map(one, names, chunksize=64), total=len(names), desc="load utk",
                                   disable=not progress, mininterval=5)):
            out[i] = a
    return out


# ------------------------------------------------------------------------------ stratification
def deal(n: int, shares: Sequence[float]) -> np.ndarray:
    """Part index of each of ``n`` items dealt in order: each goes to the part furthest below its
    share so far (ties to the lower index). Every prefix is within one item of the exact shares.

    >>> deal(5, [0.6, 0.2, 0.2]).tolist()
    [0, 1, 0, 2, 0]
    """
    r = np.asarray(shares, np.float64)
    counts = np.zeros(len(r))
    out = np.empty(n, np.int64)
    for i in range(n):
        k = int(np.argmax(np.round(r * (i + 1) - counts, 9)))
        out[i] = k
        counts[k] += 1
    return out


def stratified_parts(ages: np.ndarray, shares: Sequence[float], rng: np.random.Generator) -> np.ndarray:
    """Part index per sample, stratified by age: order by age (random within an age), then :func:`deal`."""
    ages = np.asarray(ages)
    order = np.lexsort((rng.random(len(ages)), ages))
    parts = np.empty(len(ages), np.int64)
    parts[order] = deal(len(ages), shares)
    return parts


def grouped_parts(ages: np.ndarray, keys, shares: Sequence[float], rng: np.random.Generator) -> np.ndarray:
    """As :func:`stratified_parts`, but samples with equal ``keys`` (content hashes of byte-identical images) form
    one unit that lands whole in one part: the units are dealt by their first sample's age. Without equal keys
    the result is exactly :func:`stratified_parts`'s."""
    codes = pd.factorize(np.asarray(keys, dtype=object))[0]
    first = np.unique(codes, return_index=True)[1]  # first sample of each unit, in sample order
    return stratified_parts(np.asarray(ages)[first], shares, rng)[codes]


def subsample(ages: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask keeping ``fraction`` of the samples with the same age distribution."""
    return stratified_parts(ages, [fraction, 1 - fraction], rng) == 0


def group_index(ages, groups: Sequence[Sequence[int]]) -> np.ndarray:
    """Index of the forget group containing each age: [lo, hi) intervals, the last one closed [lo, hi];
    -1 for an age in no group."""
    ages = np.asarray(ages)
    out = np.full(len(ages), -1, np.int64)
    for i, (lo, hi) in enumerate(groups):
        inside = (ages >= lo) & ((ages <= hi) if i == len(groups) - 1 else (ages < hi))
        out[inside & (out < 0)] = i
    return out


def interval_label(groups, i: int) -> str:
    lo, hi = groups[i]
    return f"[{lo},{hi}]" if i == len(groups) - 1 else f"[{lo},{hi})"


# -------------------------------------------------------------------------------- augmentation
def augment(images: np.ndarray, table: pd.DataFrame, cfg: dict, seed: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Top every age of the training split up to ``cfg['min_per_age']`` samples with augmented copies.

    Copies cycle through a random order of the age's images; each is a random affine (rotation,
    shift, zoom) and horizontal flip (torchvision v2) of its source, computed on an edge-replicated
    border so no black corners appear (Keras' ``fill_mode='nearest'``). Returns the originals followed
    by the copies; copies have ``augmented`` True and ``source`` = the original's file name."""
    import torch
    import torch.nn.functional as F
    from torchvision.transforms import InterpolationMode, v2

    table = table.assign(augmented=False, source=table["file_name"])
    need = {a: cfg["min_per_age"] - n for a, n in table["age"].value_counts().sort_index().items()
            if n < cfg["min_per_age"]}
    if not need:
        return images, table
    size = images.shape[-1]
    # Border wide enough for the farthest source pixel: rotated corner plus shift, at the smallest zoom.
    th = np.radians(min(cfg["rotation"], 45.0))
    reach = (0.5 * (np.cos(th) + np.sin(th)) + cfg["shift"]) / (1 - cfg["zoom"])
    pad = int(np.ceil(size * (reach - 0.5))) + 1
    scale = size / (size + 2 * pad)                                    # translate is relative to the padded side
    tf = v2.Compose([
        v2.RandomAffine(degrees=cfg["rotation"], translate=(cfg["shift"] * scale, cfg["shift"] * scale),
                        scale=(1 - cfg["zoom"], 1 + cfg["zoom"]), interpolation=InterpolationMode.BILINEAR),
        v2.RandomHorizontalFlip(cfg["hflip"]),
    ])
    rng = np.random.default_rng(seed)
    ages = table["age"].to_numpy()
    out = np.empty((len(images) + sum(need.values()), *images.shape[1:]), np.uint8)
    out[:len(images)] = images
    new_rows, copies = [], {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)                     # tiny images: thread start-up costs more than it saves
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            for age, k in need.items():
                idx = np.flatnonzero(ages == age)
                src = np.concatenate([rng.permutation(idx) for _ in range(-(-k // len(idx)))])[:k]
                for i in src:
                    x = F.pad(torch.from_numpy(images[i]).float()[None], (pad,) * 4, mode="replicate")[0]
                    y = tf(x)[:, pad:pad + size, pad:pad + size]
                    out[len(images) + len(new_rows)] = y.round().clamp(0, 255).to(torch.uint8).numpy()
                    row = table.iloc[i].to_dict()
                    copies[i] = copies.get(i, 0) + 1
                    row.update(file_name=f"{row['file_name']}#aug{copies[i]}", augmented=True)
                    new_rows.append(row)
    finally:
        torch.set_num_threads(threads)
    table = pd.concat([table, pd.DataFrame(new_rows, columns=table.columns)], ignore_index=True)
    table[["gender", "race"]] = table[["gender", "race"]].astype("Int64")
    return out, table


# ----------------------------------------------------------------------------------- pipeline
def age_hist(ages) -> dict[int, int]:
    s = pd.Series(np.asarray(ages, np.int64)).value_counts().sort_index()
    return {int(a): int(n) for a, n in s.items()}


class Selection(NamedTuple):
    """The faces kept for the splits, and what the subsample and the age range left out."""
    keep: np.ndarray        # bool per scanned face: in the subsample
    sub: pd.DataFrame       # the subsample
    in_range: pd.Series     # bool per subsample face: aged age_min .. age_max
    dropped: pd.DataFrame   # subsample faces in the age range but unusable (unreadable, too small)
    kept: pd.DataFrame      # usable subsample faces in the age range (index 0..n-1)


def prepare(cfg: dict, out_dir: str | os.PathLike, progress: bool = True) -> dict:
    """Run the whole preparation of ``cfg`` (a validated ``data.utk`` section) into ``out_dir``.

    Writes train/val/test .npy + .csv, meta.json and prepare_report.json; returns the report."""
    src = open_source(cfg["root"])  # once: a zip's member index is built once for the scan and the images
    faces, report = scan(src, cfg["min_size"], progress)
    if faces.empty:
        raise ValueError(f"data.utk.root = {cfg['root']!r}: no face with a readable age")
    rng_sub, rng_split, rng_aug = (np.random.default_rng(s) for s in np.random.SeedSequence(cfg["seed"]).spawn(3))
    aug_seed = int(rng_aug.integers(2**31))

    sel = select(faces, cfg, rng_sub)
    shares = [cfg["split"][s] for s in SPLITS]
    part = grouped_parts(sel.kept["age"].to_numpy(), sel.kept["md5"].to_numpy(), shares, rng_split)
    mins = {**DEFAULT_MIN_SPLIT, **(cfg.get("min_split") or {})}
    _check_split_sizes(sel.kept, part, cfg, mins)
    arrays_, tables = _load_splits(src, sel.kept, part, cfg["image_size"], progress)
    before = {s: age_hist(tables[s]["age"]) for s in SPLITS}
    arrays_["train"], tables["train"] = augment(arrays_["train"], tables["train"], cfg["augment"], aug_seed)
    check_size("data.utk: the augmented training split", len(tables["train"]), mins["train"],
               "data.utk.min_split.train", unit="images")
    missing = [a for a in range(cfg["age_min"], cfg["age_max"] + 1) if a not in before["train"]]
    if missing and cfg["augment"]["min_per_age"] > 0:
        log.warning("ages without any training image (cannot be augmented): %s", missing)
    _mark_groups(tables, cfg["forget_groups"], cfg["forget_group"])
    report.update(_preparation_report(cfg, faces, sel, part, tables, before, missing))
    _write(out_dir, arrays_, tables, _meta(cfg, arrays_["train"]), report)
    return report


def select(faces: pd.DataFrame, cfg: dict, rng: np.random.Generator) -> Selection:
    """Subsample ``cfg['subsample']`` of the faces keeping the age distribution, then keep the usable ones aged
    ``age_min`` .. ``age_max`` (the thesis' order)."""
    keep = subsample(faces["age"].to_numpy(), cfg["subsample"], rng)
    sub = faces[keep]
    in_range = sub["age"].between(cfg["age_min"], cfg["age_max"])
    dropped = sub[in_range & ~sub["usable"]]
    kept = sub[in_range & sub["usable"]].reset_index(drop=True)
    if kept.empty:
        raise ValueError(f"no usable face aged {cfg['age_min']}..{cfg['age_max']} after subsampling")
    return Selection(keep, sub, in_range, dropped, kept)


def _check_split_sizes(kept: pd.DataFrame, part: np.ndarray, cfg: dict, mins: dict) -> None:
    """Stop before any image is loaded when a split or the forget set is below its minimum, naming it, its size
    and the minimum."""
    groups, fg = cfg["forget_groups"], cfg["forget_group"]
    hint = (f"{len(kept)} usable faces aged {cfg['age_min']}..{cfg['age_max']} after the {cfg['subsample']:.0%} "
            f"subsample, split {cfg['split']}: use a larger folder or lower the minimum")
    for k, split in enumerate(SPLITS):
        check_size(f"data.utk: split '{split}'", int((part == k).sum()), mins[split], f"data.utk.min_split.{split}",
                   unit="images", hint=hint)
    n_forget = int((group_index(kept["age"].to_numpy()[part == 0], groups) == fg).sum())
    check_size(f"data.utk: the forget set (training images aged {interval_label(groups, fg)})", n_forget,
               mins["forget"], "data.utk.min_split.forget", unit="images", hint=hint)


def _load_splits(src: Source, kept: pd.DataFrame, part: np.ndarray, image_size: int,
                 progress: bool) -> tuple[dict, dict]:
    """({split: uint8 (N, 3, S, S) images}, {split: table}) with each split's rows in file-name order."""
    tables, arrays_ = {}, {}
    for k, split in enumerate(SPLITS):
        t = kept[part == k].sort_values("file_name").reset_index(drop=True)[["file_name", "age", "gender", "race"]]
        arrays_[split] = load_images(src, t["file_name"].tolist(), image_size, progress)
        tables[split] = t.assign(augmented=False, source=t["file_name"])
    return arrays_, tables


def _mark_groups(tables: dict, groups, fg: int) -> None:
    """Add each row's forget-group index (``group``) and whether it is in the forget group (``forget``)."""
    for s in SPLITS:
        g = group_index(tables[s]["age"], groups)
        tables[s] = tables[s].assign(group=g, forget=g == fg)


def _meta(cfg: dict, train_images: np.ndarray) -> dict:
    """meta.json: the task's input shape, the training split's channel statistics and the forget group."""
    groups, fg = cfg["forget_groups"], cfg["forget_group"]
    mean, std = channel_stats(train_images)
    lo, hi = groups[fg]
    return {"task": "utk", "channels": 3, "image_size": [cfg["image_size"]] * 2, "mean": mean, "std": std,
            "age_min": cfg["age_min"], "age_max": cfg["age_max"], "forget_group": fg,
            "forget_interval": [lo, hi], "forget_closed": fg == len(groups) - 1, "forget_groups": groups}


def _preparation_report(cfg: dict, faces: pd.DataFrame, sel: Selection, part: np.ndarray, tables: dict,
                        before: dict, missing: list) -> dict:
    """What the steps after the scan kept, dropped, split and added, for prepare_report.json."""
    groups, fg = cfg["forget_groups"], cfg["forget_group"]
    train = tables["train"]
    dup_sizes = sel.kept.groupby("md5").size()
    return {
        "subsample": cfg["subsample"], "after_subsample": int(sel.keep.sum()),
        "outside_age_range": int((~sel.in_range).sum()),
        "dropped_unusable": {"count": len(sel.dropped), "files": sel.dropped["file_name"].tolist()},
        "after_filter": len(sel.kept),
        "split_sizes": {s: int((part == k).sum()) for k, s in enumerate(SPLITS)},
        # groups of byte-identical images among the split faces, each placed whole in one split
        "duplicates_split_together": {"groups": int((dup_sizes > 1).sum()),
                                      "images": int(dup_sizes[dup_sizes > 1].sum())},
        "split_sizes_augmented": {s: len(tables[s]) for s in SPLITS},
        "augmented_copies": int(train["augmented"].sum()),
        "ages_without_train_images": missing,
        "age_hist": {"all_faces": age_hist(faces["age"]), "subsample": age_hist(sel.sub["age"]),
                     "before_augmentation": before,
                     "after_augmentation": {s: age_hist(tables[s]["age"]) for s in SPLITS}},
        "forget_groups": [{"index": i, "interval": interval_label(groups, i),
                           **{s: int((tables[s]["group"] == i).sum()) for s in SPLITS},
                           "train_original": int(((train["group"] == i) & ~train["augmented"]).sum())}
                          for i in range(len(groups))],
        "forget_group": fg, "forget_size": int(train["forget"].sum()), "retain_size": int((~train["forget"]).sum()),
    }


def _write(out_dir: str | os.PathLike, arrays_: dict, tables: dict, meta: dict, report: dict) -> None:
    """Each split's images (.npy) and table (.csv), meta.json and prepare_report.json, swapped in whole."""
    with atomic_dir(out_dir) as tmp:
        for s in SPLITS:
            write_npy(tmp / f"{s}.npy", arrays_[s])
            write_csv(tmp / f"{s}.csv", tables[s])
        write_json(tmp / "meta.json", meta)
        write_json(tmp / "prepare_report.json", report)
