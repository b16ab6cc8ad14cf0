"""Stage prepare_ltd: LTD copy (data.ltd.root) -> packed, model-ready splits in data/prepared/ltd/."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from stages import config, paths
from stages.config import Choice, Float, Int, List, Section, Str
from stages.data import arrays, ltd, splits
from stages.io import atomic_dir, setup_logging, write_csv, write_json, write_npy
from stages.stage import Stage

SCHEMA = {
    "synth": Section(),
    "root": Str(),
    "forget_class": Choice(*ltd.CLASSES),
    "frame_stride": Int(min=1),
    "image_size": List(Int(min=16), length=2),
    "on_error": Choice("raise", "skip"),
    "split": {"train": Float(min=0, max=1, min_open=True), "val": Float(min=0, max=1, min_open=True),
              "test": Float(min=0, max=1, min_open=True)},
    "rebalance": {"high_percentile": Float(min=0, max=100), "high_keep": Float(min=0, max=1, min_open=True),
                  "low_percentile": Float(min=0, max=100), "low_factor": Int(min=1), "seed": Int(min=0)},
}

log = setup_logging("prepare_ltd")


def prepare(cfg: dict, out: Path) -> dict:
    t0 = time.time()
    report = ltd.Report()
    frames = ltd.read_annotations(cfg["root"], cfg["on_error"], cfg["frame_stride"], report)
    if frames.empty:
        raise ValueError(f"{cfg['root']}: no annotated frames found")
    images, ok = ltd.load_frames(cfg["root"], list(frames["file_name"]), tuple(cfg["image_size"]))
    for name in frames.loc[~ok, "file_name"]:
        report.unreadable_images.append(f"{name}: unreadable or truncated image")
        log.warning("excluded %s", name)
    frames, images = frames[ok].reset_index(drop=True), images[ok]
    t_read = time.time() - t0

    frames["y"] = frames[list(ltd.CLASSES)].sum(axis=1)
    frames["y_prime"] = frames["y"] - frames[cfg["forget_class"]]
    frames["split"] = splits.split_clips(frames, config.ratios("data.ltd.split", cfg["split"]))

    with atomic_dir(out) as tmp:
        stats = _write(frames, images, ok, cfg, report, tmp, t_read)
    return stats


def _write(frames, images, ok, cfg, report, tmp: Path, t_read: float) -> dict:
    sy, sx = cfg["image_size"][0] / ltd.FRAME_H, cfg["image_size"][1] / ltd.FRAME_W
    sizes = {}
    for name in arrays.SPLITS:
        idx = np.flatnonzero(frames["split"].to_numpy() == name)
        if name == "train":
            idx = idx[splits.rebalance(frames["y"].to_numpy()[idx], **cfg["rebalance"])]
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
    stats = {"frames_read": len(frames) + int((~ok).sum()), "frames_kept": len(frames), "sizes": sizes,
             **summary}
    write_json(tmp / "prepare_report.json", stats)
    return stats


def main(argv=None):
    st = Stage("prepare_ltd", __doc__, argv, out=dict(default=str(paths.prepared("ltd")), help="output folder"))
    cfg = st.section("data.ltd", SCHEMA)
    t0 = time.time()
    stats = prepare(cfg, Path(st.args.out))
    stats["frames_per_s"] = round(stats["frames_kept"] / max(time.time() - t0, 1e-9), 1)  # logged, not written
    log.info("prepared %s frames (%s) at %.0f frames/s; excluded: %s", stats["frames_kept"], stats["sizes"],
             stats["frames_per_s"], {k: v for k, v in stats.items() if k in ("skipped_lines", "missing_annotations",
                                                                            "unreadable_images", "bad_names")})


if __name__ == "__main__":
    main()
