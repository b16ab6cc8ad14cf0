"""Writing the synthetic LTD dataset: every clip's frames (JPEG) and annotation files in the LTD layout.

Track ids run over the whole dataset in order of first appearance; a small share of vehicle lines is spelled
``vehicie`` and some days use CRLF line ends, as in the real data.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from stages.data.source import new_copy
from stages.data.synth_ltd.births import simulate_clip
from stages.data.synth_ltd.calibration import calibrate_rates
from stages.data.synth_ltd.geometry import H, W
from stages.data.synth_ltd.occlusion import annotate_clip
from stages.data.synth_ltd.render import clip_light, render_frame
from stages.data.synth_ltd.scene import build_scene
from stages.data.synth_ltd.schedule import Clip, SynthConfig, schedule
from stages.data.synth_ltd.sprites import make_sprites

CLASSES = ("human", "bicycle", "motorcycle", "vehicle")
JPEG_QUALITY = 90                  # fixed so that outputs are byte-identical
VEHICIE_P = 0.035                  # share of vehicle lines spelled 'vehicie' (the real typo)


def _label(cls: str, rng) -> str:
    return "vehicie" if cls == "vehicle" and rng.random() < VEHICIE_P else cls


def generate(cfg: SynthConfig, root: str | Path, progress: bool = True) -> dict:
    """Write the whole dataset under ``root`` (frames/ and annotations/); return statistics."""
    root = Path(root)
    scene, sprites = build_scene(cfg.seed), make_sprites()
    rates = calibrate_rates(cfg.mean_objects, cfg.seed) if cfg.mean_objects > 0 else {}
    stats = {"frames": 0, "clips": 0, "tracks": 0, "objects": Counter(), "vehicie": 0, "flag0": 0,
             "hidden": 0, "hist": Counter()}
    next_id = 1
    clips = schedule(cfg)
    for clip in tqdm(clips, desc="synthesize_ltd", unit="clip", disable=not progress):
        next_id = _write_clip(cfg, clip, root, scene, sprites, rates, stats, next_id)
        stats["clips"] += 1
    return stats


def _write_clip(cfg: SynthConfig, clip: Clip, root: Path, scene, sprites, rates: dict, stats: dict,
                next_id: int) -> int:
    """Simulate, render and write one clip (all its draws from its own generator); return the next free track id."""
    rng = np.random.default_rng([cfg.seed, 3, clip.number])
    light = clip_light(scene, clip, rng)
    frames, hidden = annotate_clip(simulate_clip(rng, rates, cfg.frames_per_clip), cfg.frames_per_clip)
    stats["hidden"] += hidden
    ids = _track_ids(frames, next_id)
    stats["tracks"] += len(ids)
    fdir, adir = root / "frames" / clip.folder, root / "annotations" / clip.folder
    fdir.mkdir(parents=True)
    adir.mkdir(parents=True)
    eol = "\r\n" if clip.crlf else "\n"
    for t, (here, ann) in enumerate(frames):
        _write_image(fdir / f"image_{t:04d}.jpg", render_frame(light, here, t, sprites, rng))
        lines = _annotation_lines(ann, ids, t, rng, stats)
        with open(adir / f"annotations_{t:04d}.txt", "w", newline="") as f:
            f.write("".join(line + eol for line in lines))
        stats["hist"][len(lines)] += 1
        stats["frames"] += 1
    return next_id + len(ids)


def _track_ids(frames: list, first: int) -> dict[int, int]:
    """{id(object): track id} of the annotated objects, numbered from ``first`` in order of first appearance."""
    ids = {}
    for _, ann in frames:
        for o, _ in ann:
            if id(o) not in ids:
                ids[id(o)] = first + len(ids)
    return ids


def _write_image(path: Path, u8: np.ndarray) -> None:
    if not cv2.imwrite(str(path), u8, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
        raise OSError(f"could not write {path}")


def _annotation_lines(ann: list, ids: dict, t: int, rng, stats: dict) -> list[str]:
    """The annotation lines of frame ``t`` in track-id order, boxes clipped to the frame; counts into ``stats``."""
    lines = []
    for o, flag in sorted(ann, key=lambda of: ids[id(of[0])]):
        x0, y0, x1, y1 = o.boxes[t]
        label = _label(o.cls, rng)
        lines.append(f"{ids[id(o)]:08d} {label} {max(x0, 0)} {max(y0, 0)} {min(x1, W)} {min(y1, H)} {flag}")
        stats["objects"][o.cls] += 1
        stats["vehicie"] += label == "vehicie"
        stats["flag0"] += flag == 0
    return lines


def write_dataset(cfg: SynthConfig, progress: bool = True) -> dict:
    """Generate into a temporary folder; on success it replaces ``cfg.out``: the folder, or a zip of it when
    ``cfg.out`` ends in .zip (:func:`stages.data.source.new_copy`)."""
    with new_copy(cfg.out) as tmp:
        return generate(cfg, tmp, progress)


def summary_line(stats: dict) -> str:
    """One log line of the statistics of :func:`generate`: counts by class, tracks, the count histogram."""
    objs = stats["objects"]
    n = sum(objs.values())
    per = ", ".join(f"{c} {objs.get(c, 0)}" for c in CLASSES)
    hist = stats["hist"]
    top = max(hist) if hist else 0
    return (f"{stats['frames']} frames in {stats['clips']} clips, {n} objects ({per}; {stats['vehicie']} spelled "
            f"'vehicie'), {stats['tracks']} tracks, {n / max(1, stats['frames']):.2f} per frame, "
            f"{hist.get(0, 0)} empty frames, flag 0 on {stats['flag0']}, {stats['hidden']} hidden not annotated; "
            f"count histogram {[hist.get(k, 0) for k in range(top + 1)]}")
