"""Preparing an LTD copy (``data.ltd.root``, format ``ltd``; stage ``prepare@ltd`` through
:mod:`stages.data.readers.ltd`): the annotations and frames -> packed, model-ready splits in data/prepared/ltd/, and
their statistics (reports/data/ltd_stats.json) and count histogram (reports/data/ltd/count_hist.csv, .png)."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from stages.core import config, progress
from stages.core.config import Choice, Float, Int, List, Section, Str
from stages.data import arrays, ltd, ltd_stats, splits
from stages.core.io import atomic_dir, save_figure, write_csv, write_json, write_npy

SCHEMA = {
    "synth": Section(),             # the generator's (stage synthesize_ltd: stages/synthesize_ltd.py)
    "format": Choice("ltd"),
    "root": Str(),
    "forget_class": Choice(*ltd.CLASSES),
    "frame_stride": Int(min=1),
    "frame_size": List(Int(min=1), length=2),
    "image_size": List(Int(min=16), length=2),
    "on_error": Choice("raise", "skip"),
    "split": {"train": Float(min=0, max=1, min_open=True), "val": Float(min=0, max=1, min_open=True),
              "test": Float(min=0, max=1, min_open=True)},
    "min_split": {s: Int(min=1) for s in arrays.SPLITS},
    "rebalance": {"high_percentile": Float(min=0, max=100), "high_keep": Float(min=0, max=1, min_open=True),
                  "low_percentile": Float(min=0, max=100), "low_factor": Int(min=1), "seed": Int(min=0)},
}
# Used when a caller's cfg has no min_split: the floor below which no later stage can run at all (a training
# batch of 2 for BatchNorm, one validation frame for model selection, one test frame to explain).
DEFAULT_MIN_SPLIT = {"train": 2, "val": 1, "test": 1}

log = logging.getLogger(__name__)


def prepare(cfg: dict, out: Path) -> dict:
    frame_hw = tuple(cfg.get("frame_size", ltd.FRAME_HW))
    report = ltd.Report()
    src = ltd.open_copy(cfg["root"])  # once: a zip's member index is built once for annotations and frames
    frames = ltd.read_annotations(src, cfg["on_error"], cfg["frame_stride"], report, frame_hw)
    if frames.empty:
        raise ValueError(f"{cfg['root']}: no annotated frames found ({report.frames_examined} examined; "
                         f"excluded: {excluded(report.summary())})")
    ratios = config.ratios("data.ltd.split", cfg["split"])
    _check_splits(frames, splits.split_clips(frames, ratios), cfg)  # early: before decoding every image

    names = list(frames["file_name"])
    images, problems = ltd.read_frames(src, names, tuple(cfg["image_size"]), frame_hw=frame_hw,
                                       progress=progress.enabled())
    wrong = [(n, p[1]) for n, p in zip(names, problems) if p and p[0] == "wrong_size"]
    if wrong and cfg["on_error"] == "raise":
        raise ltd.FrameSizeError(
            f"{Path(cfg['root']) / wrong[0][0]}: {wrong[0][1]} ({len(wrong)} frame(s) of another size; boxes are "
            f"validated against data.ltd.frame_size = {list(frame_hw)} (H, W): set it to the copy's frame size, or "
            f"data.ltd.on_error: skip to exclude them)")
    for name, problem in zip(names, problems):
        if problem:
            kind, why = problem
            (report.wrong_size_images if kind == "wrong_size" else report.unreadable_images).append(f"{name}: {why}")
            log.warning("excluded %s: %s", name, why)
    ok = np.array([p is None for p in problems], bool)
    frames, images = frames[ok].reset_index(drop=True), images[ok]
    if frames.empty:
        raise ValueError(f"{cfg['root']}: no readable frame left (excluded: {excluded(report.summary())})")

    frames["y"] = frames[list(ltd.CLASSES)].sum(axis=1)
    frames["y_prime"] = frames["y"] - frames[cfg["forget_class"]]
    frames["split"] = splits.split_clips(frames, ratios)
    _check_splits(frames, frames["split"], cfg)

    with atomic_dir(out) as tmp:
        stats = _write(frames, images, cfg, report, tmp)
    return stats


def _min_split(cfg: dict) -> dict:
    return {**DEFAULT_MIN_SPLIT, **(cfg.get("min_split") or {})}


def _check_splits(frames: pd.DataFrame, split: pd.Series, cfg: dict) -> None:
    """Stop, naming the split, its size and the minimum, when a split would be empty or too small."""
    clips = frames.groupby(["date", "clip"]).ngroups
    for name in arrays.SPLITS:
        mask = (split == name).to_numpy()
        n_clips = frames[mask].groupby(["date", "clip"]).ngroups
        splits.check_size(f"data.ltd: split '{name}' ({n_clips} of {clips} clips)", int(mask.sum()),
                          _min_split(cfg)[name], f"data.ltd.min_split.{name}",
                          hint=f"{len(frames)} usable frames in {clips} clips split {cfg['split']} by whole clips: "
                               f"use a larger copy (more clips) or lower the minimum")


def excluded(summary: dict) -> dict:
    """The non-zero exclusion counts of a report summary (or of the stage's stats)."""
    keys = set(ltd.Report().summary()) - {"typo_vehicie", "utf8_bom", "examples", "unreadable_reasons"}
    return {k: v for k, v in summary.items() if k in keys and v}


def _write(frames, images, cfg, report, tmp: Path) -> dict:
    frame_hw = tuple(cfg.get("frame_size", ltd.FRAME_HW))
    sy, sx = cfg["image_size"][0] / frame_hw[0], cfg["image_size"][1] / frame_hw[1]
    sizes = {}
    for name in arrays.SPLITS:
        idx = np.flatnonzero(frames["split"].to_numpy() == name)
        if name == "train":
            idx = idx[splits.rebalance(frames["y"].to_numpy()[idx], **cfg["rebalance"])]
            splits.check_size(f"data.ltd: the rebalanced training split (from {len(np.unique(idx))} distinct frames)",
                              len(idx), _min_split(cfg)["train"], "data.ltd.min_split.train",
                              hint="data.ltd.rebalance sub-sampled it below the minimum")
        table = frames.iloc[idx].reset_index(drop=True)
        boxes = ltd.boxes_table(table)
        boxes[["x_tl", "x_br"]] *= sx
        boxes[["y_tl", "y_br"]] *= sy
        write_npy(tmp / f"{name}.npy", images[idx])
        write_csv(tmp / f"{name}.csv", table.drop(columns=["boxes", "split"]))
        write_csv(tmp / f"{name}_boxes.csv", boxes, float_format="%.4f")
        sizes[name] = len(idx)
        if name == "train":
            mean, std = arrays.channel_stats(images[idx])
    summary = report.summary()
    write_json(tmp / "meta.json", {
        "task": "ltd", "channels": 1, "image_size": cfg["image_size"], "mean": mean, "std": std,
        "forget_class": cfg["forget_class"], "target_max": float(frames["y"].max()),
    })
    # Only what the input determines (no timing): identical inputs give a byte-identical file.
    stats = {"frames_read": report.frames_examined, "frames_kept": len(frames), "sizes": sizes, **summary}
    write_json(tmp / "prepare_report.json", stats)
    return stats


def write_figures(prepared: Path, figures: Path) -> dict:
    """The count histogram (DVC plot: ``figures``/count_hist.csv and .png) of the prepared data; returns the
    per-split statistics (DVC metrics)."""
    stats, hist = ltd_stats.compute(prepared)
    write_csv(Path(figures) / "count_hist.csv", ltd_stats.wide(hist))  # count, train, val, test
    save_figure(Path(figures) / "count_hist.png", ltd_stats.figure(hist))
    return stats
