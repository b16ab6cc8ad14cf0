"""The LTD (Long-term Thermal Drift) on-disk format: reading annotations and frames.

Layout (REFERENCE section 1)::

    <root>/frames/<YYYYMMDD>/clip_<n>_<HHMM>/image_<NNNN>.jpg
    <root>/annotations/<YYYYMMDD>/clip_<n>_<HHMM>/annotations_<NNNN>.txt

Annotation line: ``<8-digit track id> <class> <x_tl> <y_tl> <x_br> <y_br> <flag>``. ``vehicie`` (a typo
of the raw data) is read as ``vehicle``. Counts include every line, whatever its flag.
"""
from __future__ import annotations

import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

CLASSES = ("human", "bicycle", "motorcycle", "vehicle")
ALIASES = {"vehicie": "vehicle"}
FRAME_W, FRAME_H = 384, 288
DATE_RE = re.compile(r"^\d{8}$")
CLIP_RE = re.compile(r"^clip_(\d+)_(\d{2})(\d{2})$")
IMAGE_RE = re.compile(r"^image_(\d{4,})\.jpg$")
ANNOT_RE = re.compile(r"^annotations_(\d{4,})\.txt$")
ID_RE = re.compile(r"^\d{8}$")
JPEG_END = b"\xff\xd9"
JPEG_TAIL = 64  # bytes at the end of a file searched for the JPEG end-of-image marker


class AnnotationError(ValueError):
    """A malformed annotation line; the message names the file and line."""


@dataclass
class Report:
    """What was excluded or corrected while reading, for the stage's statistics."""

    skipped_lines: list = field(default_factory=list)        # "file:line: reason"
    missing_annotations: list = field(default_factory=list)  # frames without an annotation file
    orphan_annotations: list = field(default_factory=list)   # annotation files without a frame
    bad_names: list = field(default_factory=list)            # files/folders not following the layout
    unreadable_images: list = field(default_factory=list)
    typo_vehicie: int = 0

    def summary(self) -> dict:
        return {
            "skipped_lines": len(self.skipped_lines),
            "missing_annotations": len(self.missing_annotations),
            "orphan_annotations": len(self.orphan_annotations),
            "bad_names": len(self.bad_names),
            "unreadable_images": len(self.unreadable_images),
            "typo_vehicie": self.typo_vehicie,
            "examples": (self.skipped_lines + self.missing_annotations + self.orphan_annotations
                         + self.bad_names + self.unreadable_images)[:20],
        }


def parse_line(line: str, where: str) -> tuple:
    """Parse one annotation line into (track_id, cls, x_tl, y_tl, x_br, y_br, flag); raise naming ``where``."""
    parts = line.split()
    if len(parts) != 7:
        raise AnnotationError(f"{where}: expected 7 fields, got {len(parts)}: {line.strip()!r}")
    tid, cls, *coords, flag = parts
    if not ID_RE.match(tid):
        raise AnnotationError(f"{where}: track id {tid!r} is not 8 digits")
    cls = ALIASES.get(cls, cls)
    if cls not in CLASSES:
        raise AnnotationError(f"{where}: unknown class {parts[1]!r}")
    try:
        x_tl, y_tl, x_br, y_br, flag = (int(v) for v in (*coords, flag))
    except ValueError:
        raise AnnotationError(f"{where}: non-integer box or flag: {line.strip()!r}") from None
    if x_tl >= x_br or y_tl >= y_br:
        raise AnnotationError(f"{where}: inverted or empty box {coords}")
    if x_tl < 0 or y_tl < 0 or x_br > FRAME_W or y_br > FRAME_H:
        raise AnnotationError(f"{where}: box {coords} outside the {FRAME_W}x{FRAME_H} frame")
    return int(tid), cls, x_tl, y_tl, x_br, y_br, flag


def read_annotation_file(path: Path, on_error: str, report: Report) -> list[tuple]:
    boxes = []
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                box = parse_line(line, f"{path}:{i}")
            except AnnotationError as e:
                if on_error == "raise":
                    raise
                log.warning("skipped %s", e)
                report.skipped_lines.append(str(e))
                continue
            report.typo_vehicie += line.split()[1] == "vehicie"
            boxes.append(box)
    return boxes


def _scan(root: Path, tree: str, name_re: re.Pattern, report: Report) -> dict:
    """{(date, clip folder, frame number): path} for one of the two trees."""
    found = {}
    base = root / tree
    if not base.is_dir():
        raise FileNotFoundError(f"{base}: no such folder (is data.ltd.root an LTD copy?)")
    for date in sorted(os.listdir(base)):
        if not DATE_RE.match(date) or not (base / date).is_dir():
            report.bad_names.append(str(base / date))
            continue
        for clip in sorted(os.listdir(base / date)):
            if not CLIP_RE.match(clip):
                report.bad_names.append(str(base / date / clip))
                continue
            for name in sorted(os.listdir(base / date / clip)):
                m = name_re.match(name)
                if not m:
                    report.bad_names.append(str(base / date / clip / name))
                    continue
                found[(date, clip, int(m.group(1)))] = base / date / clip / name
    return found


def read_annotations(root, on_error: str = "raise", frame_stride: int = 1, report: Report | None = None) -> pd.DataFrame:
    """The per-frame table of an LTD copy: one row per frame that has both an image and an annotation file.

    Columns: file_name (relative to root), date (YYYY-MM-DD), clip (folder name), clip_id, frame (seconds since
    clip start), time (ISO capture time), id (as in the dataset's annotations.csv), the four class counts, and
    ``boxes``: a list of (track_id, cls, x_tl, y_tl, x_br, y_br, flag) per frame. Frames without an annotation
    file, and annotation files without a frame, are excluded and listed in ``report`` (never counted as empty).
    ``frame_stride`` keeps every k-th frame of each clip. Malformed lines raise ``AnnotationError`` naming the
    file and line, or with ``on_error="skip"`` are logged and listed in ``report``.
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    root = Path(root)
    report = Report() if report is None else report
    frames = _scan(root, "frames", IMAGE_RE, report)
    annots = _scan(root, "annotations", ANNOT_RE, report)
    for key in sorted(set(frames) - set(annots)):
        report.missing_annotations.append(f"{frames[key]}: no annotation file")
    for key in sorted(set(annots) - set(frames)):
        report.orphan_annotations.append(f"{annots[key]}: no frame")
    for msg in report.missing_annotations + report.orphan_annotations:
        log.warning("excluded %s", msg)
    rows = []
    for key in sorted(set(frames) & set(annots)):
        date, clip, frame = key
        if frame % frame_stride:
            continue
        boxes = read_annotation_file(annots[key], on_error, report)
        m = CLIP_RE.match(clip)
        start = datetime.strptime(date + m.group(2) + m.group(3), "%Y%m%d%H%M")
        t = start + timedelta(seconds=frame)
        counts = {c: 0 for c in CLASSES}
        for b in boxes:
            counts[b[1]] += 1
        rows.append({
            "file_name": frames[key].relative_to(root).as_posix(),
            "date": f"{date[:4]}-{date[4:6]}-{date[6:]}",
            "clip": clip,
            "clip_id": int(m.group(1)),
            "frame": frame,
            "time": t.strftime("%Y-%m-%dT%H:%M:%S"),
            "id": int(f"{date[:6]}{int(m.group(1)):03d}{date[6:]}{t:%H%M%S}"),
            **counts,
            "boxes": boxes,
        })
    cols = ["file_name", "date", "clip", "clip_id", "frame", "time", "id", *CLASSES, "boxes"]
    df = pd.DataFrame(rows, columns=cols)
    for c in CLASSES:
        df[c] = df[c].astype(np.int64)
    return df


def boxes_table(df: pd.DataFrame) -> pd.DataFrame:
    """Explode the ``boxes`` column: one row per object, ``row`` = position of its frame in ``df``."""
    recs = [(i, *b) for i, bs in enumerate(df["boxes"]) for b in bs]
    return pd.DataFrame(recs, columns=["row", "track_id", "cls", "x_tl", "y_tl", "x_br", "y_br", "flag"])


def _reduce_flag(size_hw: tuple[int, int]) -> tuple[int, int]:
    """Largest JPEG DCT down-scaling (1, 2, 4, 8) that still decodes at least ``size_hw``: decoding is then cheaper."""
    for factor, flag in ((8, cv2.IMREAD_REDUCED_GRAYSCALE_8), (4, cv2.IMREAD_REDUCED_GRAYSCALE_4),
                         (2, cv2.IMREAD_REDUCED_GRAYSCALE_2)):
        if FRAME_H // factor >= size_hw[0] and FRAME_W // factor >= size_hw[1]:
            return factor, flag
    return 1, cv2.IMREAD_GRAYSCALE


def load_frame(path, size_hw: tuple[int, int]) -> np.ndarray | None:
    """Decode one frame and resize it to (H, W) uint8; None if unreadable or truncated."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    if JPEG_END not in data[-JPEG_TAIL:]:
        return None  # truncated JPEG: OpenCV would silently fill the missing part with grey
    _, flag = _reduce_flag(size_hw)
    img = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    if img is None:
        return None
    if img.shape != tuple(size_hw):
        img = cv2.resize(img, (size_hw[1], size_hw[0]), interpolation=cv2.INTER_AREA)
    return img


def load_frames(root, file_names, size_hw, workers: int | None = None, progress: bool = True):
    """Decode and resize frames in parallel (OpenCV releases the GIL). Returns (uint8 (N, 1, H, W), ok mask)."""
    from tqdm import tqdm

    root = Path(root)
    out = np.zeros((len(file_names), 1, *size_hw), np.uint8)
    ok = np.zeros(len(file_names), bool)

    def work(i):
        img = load_frame(root / file_names[i], size_hw)
        if img is not None:
            out[i, 0] = img
            ok[i] = True

    with ThreadPoolExecutor(workers or os.cpu_count()) as ex:
        list(tqdm(ex.map(work, range(len(file_names))), total=len(file_names), disable=not progress,
                  desc="frames", mininterval=5))
    return out, ok
