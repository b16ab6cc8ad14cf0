"""The LTD (Long-term Thermal Drift) on-disk format: reading annotations and frames.

Layout (REFERENCE section 1)::

    <root>/frames/<YYYYMMDD>/clip_<n>_<HHMM>/image_<NNNN>.jpg
    <root>/annotations/<YYYYMMDD>/clip_<n>_<HHMM>/annotations_<NNNN>.txt

Annotation line: ``<8-digit track id> <class> <x_tl> <y_tl> <x_br> <y_br> <flag>``. ``vehicie`` (a typo
of the raw data) is read as ``vehicle``. Counts include every line, whatever its flag.

Nothing is lost silently. With ``on_error="raise"`` every defect below is an error naming the file (and line);
with ``on_error="skip"`` it is logged as a warning naming the file (and line) and counted in :class:`Report`:

- a malformed annotation line (wrong field count, unknown class, non-integer, inverted or out-of-frame box):
  the whole frame is excluded (a frame with one object fewer would carry a wrong count);
- an annotation file that is not UTF-8 text (a UTF-8 byte-order mark at its start is tolerated and counted);
- a date, clip or frame folder/file whose name does not follow the layout (with the number of frames it held);
- a frame whose size is not the declared frame size (384 x 288 unless the caller declares another).

In both modes a frame without annotation file (or an annotation file without frame) and an unreadable image
(empty, not a JPEG, truncated, undecodable) are excluded with the reason, never counted as an empty frame.
Hidden files (``.DS_Store``, macOS ``._*``) and hidden folders holding no frame are ignored and counted.
The copy may be a folder or a ``.zip`` of it, read in place (:mod:`stages.data.source`).
"""
from __future__ import annotations

import logging
import posixpath
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from stages.core import threads
from stages.data import jpeg
from stages.data.source import Source, open_source

log = logging.getLogger(__name__)

CLASSES = ("human", "bicycle", "motorcycle", "vehicle")
ALIASES = {"vehicie": "vehicle"}
FRAME_W, FRAME_H = 384, 288
FRAME_HW = (FRAME_H, FRAME_W)
DATE_RE = re.compile(r"^\d{8}$")
CLIP_RE = re.compile(r"^clip_(\d+)_(\d{2})(\d{2})$")
IMAGE_RE = re.compile(r"^image_(\d{4,})\.jpg$")
ANNOT_RE = re.compile(r"^annotations_(\d{4,})\.txt$")
ID_RE = re.compile(r"^\d{8}$")
# Bytes at the end of a frame file searched for the JPEG end-of-image marker (:func:`stages.data.jpeg.defect`):
# LTD frames come from one recording system that ends each file at the marker, so a short window suffices
# (UTKFace images, gathered from the web, allow more trailing bytes: stages.data.utkface).
JPEG_TAIL = 64
BOM = b"\xef\xbb\xbf"


class AnnotationError(ValueError):
    """A malformed annotation line or file; the message names the file and line."""


class LayoutError(ValueError):
    """A date, clip or frame folder/file that does not follow the LTD layout; the message names the path."""


class FrameSizeError(ValueError):
    """A frame whose size is not the declared frame size; the message names the file."""


@dataclass
class Report:
    """What was excluded or corrected while reading, for the stage's statistics."""

    skipped_lines: list = field(default_factory=list)        # "file:line: reason", every bad line
    bad_line_frames: list = field(default_factory=list)      # frames excluded because their file had a bad line
    non_utf8_files: list = field(default_factory=list)       # annotation files that are not UTF-8 text
    missing_annotations: list = field(default_factory=list)  # frames without an annotation file
    orphan_annotations: list = field(default_factory=list)   # annotation files without a frame
    bad_names: list = field(default_factory=list)            # "path: reason; holds n frame(s)"
    frames_in_bad_names: int = 0                             # frames held by those paths (frames/ tree)
    annotations_in_bad_names: int = 0                        # annotation files held by them (annotations/ tree)
    ignored_hidden: list = field(default_factory=list)       # hidden entries holding no frame (.DS_Store ...)
    unreadable_images: list = field(default_factory=list)    # "file: reason"
    wrong_size_images: list = field(default_factory=list)    # "file: frame is WxH, expected WxH"
    utf8_bom: int = 0                                        # annotation files starting with a BOM (tolerated)
    typo_vehicie: int = 0
    frames_examined: int = 0                                 # frames with image and annotation file (after stride)

    def summary(self) -> dict:
        return {
            "skipped_lines": len(self.skipped_lines),
            "frames_with_bad_lines": len(self.bad_line_frames),
            "non_utf8_annotations": len(self.non_utf8_files),
            "missing_annotations": len(self.missing_annotations),
            "orphan_annotations": len(self.orphan_annotations),
            "bad_names": len(self.bad_names),
            "frames_in_bad_names": self.frames_in_bad_names,
            "annotations_in_bad_names": self.annotations_in_bad_names,
            "ignored_hidden": len(self.ignored_hidden),
            "unreadable_images": len(self.unreadable_images),
            "unreadable_reasons": _reason_counts(self.unreadable_images),
            "wrong_size_images": len(self.wrong_size_images),
            "utf8_bom": self.utf8_bom,
            "typo_vehicie": self.typo_vehicie,
            "examples": (self.bad_line_frames + self.skipped_lines + self.missing_annotations
                         + self.orphan_annotations + self.bad_names + self.unreadable_images
                         + self.wrong_size_images)[:20],
        }


def _reason_counts(entries: list[str]) -> dict:
    """{reason kind: count} of "file: reason (details)" entries, the kind being the text before any "(" or ","."""
    out: dict[str, int] = {}
    for e in entries:
        kind = re.split(r"[(,]", e.rsplit(": ", 1)[-1], maxsplit=1)[0].strip()
        out[kind] = out.get(kind, 0) + 1
    return dict(sorted(out.items()))


def parse_line(line: str, where: str, frame_hw: tuple[int, int] = FRAME_HW) -> tuple:
    """Parse one annotation line into (track_id, cls, x_tl, y_tl, x_br, y_br, flag); raise naming ``where``.

    Boxes must lie inside the ``frame_hw`` (height, width) frame."""
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
    h, w = frame_hw
    if x_tl < 0 or y_tl < 0 or x_br > w or y_br > h:
        raise AnnotationError(f"{where}: box {coords} outside the {w}x{h} frame")
    return int(tid), cls, x_tl, y_tl, x_br, y_br, flag


def _decode_text(data: bytes, path, report: Report) -> str:
    """UTF-8 text of an annotation file (a leading byte-order mark is dropped); AnnotationError naming the file,
    line and byte otherwise."""
    skip = len(BOM) if data.startswith(BOM) else 0
    try:
        text = data[skip:].decode("utf-8")
    except UnicodeDecodeError as e:
        pos = skip + e.start
        line = data.count(b"\n", 0, pos) + 1
        raise AnnotationError(f"{path}:{line}: not UTF-8 text (byte 0x{data[pos]:02x} at offset {pos})") from None
    report.utf8_bom += bool(skip)
    return text


def read_annotation_file(path, on_error: str, report: Report,
                         frame_hw: tuple[int, int] = FRAME_HW, data: bytes | None = None) -> list[tuple] | None:
    """The boxes of one annotation file (``data``: its bytes when already read, e.g. from a zip; ``path`` then
    only names it). A bad line raises :class:`AnnotationError` (``on_error="raise"``) or, with
    ``on_error="skip"``, is logged and listed, and the whole frame is excluded: the result is then None."""
    if data is None:
        data = Path(path).read_bytes()
    try:
        text = _decode_text(data, path, report)
    except AnnotationError as e:
        if on_error == "raise":
            raise
        log.warning("excluded frame of %s", e)
        report.non_utf8_files.append(str(e))
        report.skipped_lines.append(str(e))
        report.bad_line_frames.append(str(e))
        return None
    boxes, bad, vehicie = [], [], 0
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            box = parse_line(line, f"{path}:{i}", frame_hw)
        except AnnotationError as e:
            if on_error == "raise":
                raise
            log.warning("bad line %s", e)
            report.skipped_lines.append(str(e))
            bad.append(str(e))
            continue
        vehicie += line.split()[1] == "vehicie"
        boxes.append(box)
    if bad:
        msg = f"{bad[0]} ({len(bad)} bad line(s) in the file)"
        log.warning("excluded frame: %s", msg)
        report.bad_line_frames.append(msg)
        return None
    report.typo_vehicie += vehicie
    return boxes


def _bad_name(src: Source, rel: str, reason: str, suffix: str, what: str, on_error: str, report: Report) -> None:
    n = src.count(rel, suffix)
    path = src.show(rel)
    if posixpath.basename(rel).startswith(".") and (n == 0 or not src.is_dir(rel)):  # .DS_Store, macOS ._*
        report.ignored_hidden.append(path)
        log.info("ignored hidden entry %s", path)
        return
    msg = f"{path}: {reason}; holds {n} {what}"
    if on_error == "raise":
        raise LayoutError(msg + " (set data.ltd.on_error: skip to exclude it)")
    log.warning("skipped %s", msg)
    report.bad_names.append(msg)
    if suffix == ".jpg":
        report.frames_in_bad_names += n
    else:
        report.annotations_in_bad_names += n


def _date_problem(name: str) -> str | None:
    if not DATE_RE.match(name):
        return "not a date folder (expected YYYYMMDD)"
    try:
        datetime.strptime(name, "%Y%m%d")
    except ValueError:
        return "not a valid calendar date (expected YYYYMMDD)"
    return None


def _clip_problem(name: str) -> str | None:
    m = CLIP_RE.match(name)
    if not m:
        return "not a clip folder (expected clip_<n>_<HHMM>)"
    if int(m.group(2)) > 23 or int(m.group(3)) > 59:
        return "clip start time is not a valid HHMM"
    return None


LAYOUT = ("frames", "annotations")  # the folders of an LTD copy's root (a zip holding one of them is not wrapped)


def open_copy(root) -> Source:
    """The LTD copy at ``root`` (a folder or a .zip; an open copy as is): open it once, pass it to every reader."""
    return open_source(root, LAYOUT)


def _scan(src: Source, tree: str, name_re: re.Pattern, on_error: str, report: Report) -> dict:
    """{(date, clip folder, frame number): path relative to the root} for one of the two trees."""
    suffix, what, expect = ((".jpg", "frame(s)", "image_<NNNN>.jpg") if tree == "frames"
                            else (".txt", "annotation file(s)", "annotations_<NNNN>.txt"))
    found = {}
    if not src.is_dir(tree):
        raise FileNotFoundError(f"{src.show(tree)}: no such folder (is data.ltd.root an LTD copy?)")
    def folders(parent: str, problem):
        """(name, path) of each subfolder of ``parent`` whose name ``problem`` passes; any other entry is a bad
        name (an error, or a logged skip)."""
        for sub in src.listdir(parent):
            path = f"{parent}/{sub}"
            why = problem(sub) or (None if src.is_dir(path) else "not a folder")
            if why:
                _bad_name(src, path, why, suffix, what, on_error, report)
                continue
            yield sub, path

    for date, dpath in folders(tree, _date_problem):
        for clip, cpath in folders(dpath, _clip_problem):
            for name in src.listdir(cpath):
                path = f"{cpath}/{name}"
                m = name_re.match(name)
                if not m or not src.is_file(path):
                    _bad_name(src, path, f"not named {expect}" if not m else "not a file", suffix, what,
                              on_error, report)
                    continue
                key = (date, clip, int(m.group(1)))
                if key in found:
                    _bad_name(src, path, f"same frame number as {posixpath.basename(found[key])}", suffix, what,
                              on_error, report)
                    continue
                found[key] = path
    return found


def read_annotations(root, on_error: str = "raise", frame_stride: int = 1, report: Report | None = None,
                     frame_hw: tuple[int, int] = FRAME_HW) -> pd.DataFrame:
    """The per-frame table of an LTD copy: one row per frame that has both an image and a valid annotation file.

    Columns: file_name (relative to root), date (YYYY-MM-DD), clip (folder name), clip_id, frame (seconds since
    clip start), time (ISO capture time), id (as in the dataset's annotations.csv), the four class counts, and
    ``boxes``: a list of (track_id, cls, x_tl, y_tl, x_br, y_br, flag) per frame. Frames without an annotation
    file, and annotation files without a frame, are excluded and listed in ``report`` (never counted as empty).
    ``frame_stride`` keeps every k-th frame of each clip; boxes are checked against ``frame_hw`` (height, width).
    Malformed lines, non-UTF-8 files and paths outside the layout raise an error naming the file (and line), or
    with ``on_error="skip"`` are logged and listed in ``report``, the frame concerned being excluded.
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    src = open_copy(root)
    frame_hw = tuple(frame_hw)
    report = Report() if report is None else report
    frames = _scan(src, "frames", IMAGE_RE, on_error, report)
    annots = _scan(src, "annotations", ANNOT_RE, on_error, report)
    for key in sorted(set(frames) - set(annots)):
        report.missing_annotations.append(f"{src.show(frames[key])}: no annotation file")
    for key in sorted(set(annots) - set(frames)):
        report.orphan_annotations.append(f"{src.show(annots[key])}: no frame")
    for msg in report.missing_annotations + report.orphan_annotations:
        log.warning("excluded %s", msg)
    rows = []
    for key in sorted(set(frames) & set(annots)):
        date, clip, frame = key
        if frame % frame_stride:
            continue
        report.frames_examined += 1
        boxes = read_annotation_file(src.show(annots[key]), on_error, report, frame_hw, src.read_bytes(annots[key]))
        if boxes is None:
            continue
        m = CLIP_RE.match(clip)
        start = datetime.strptime(date + m.group(2) + m.group(3), "%Y%m%d%H%M")
        t = start + timedelta(seconds=frame)
        counts = {c: 0 for c in CLASSES}
        for b in boxes:
            counts[b[1]] += 1
        rows.append({
            "file_name": frames[key],
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


def _reduce_flag(size_hw: tuple[int, int], frame_hw: tuple[int, int] = FRAME_HW) -> tuple[int, int]:
    """Largest JPEG DCT down-scaling (1, 2, 4, 8) that still decodes at least ``size_hw``: decoding is then cheaper."""
    for factor, flag in ((8, cv2.IMREAD_REDUCED_GRAYSCALE_8), (4, cv2.IMREAD_REDUCED_GRAYSCALE_4),
                         (2, cv2.IMREAD_REDUCED_GRAYSCALE_2)):
        if frame_hw[0] // factor >= size_hw[0] and frame_hw[1] // factor >= size_hw[1]:
            return factor, flag
    return 1, cv2.IMREAD_GRAYSCALE


def check_frame(data: bytes, frame_hw: tuple[int, int] = FRAME_HW) -> tuple[str | None, str | None]:
    """(kind, reason) of what is wrong with a frame file's bytes before decoding: kind "unreadable" or
    "wrong_size", or (None, None) if nothing is."""
    problem = jpeg.defect(data, JPEG_TAIL)
    if problem == "empty":
        return "unreadable", "empty file (0 bytes)"
    if problem == "not_jpeg":
        return "unreadable", f"not a JPEG (starts with {data[:4].hex(' ')})"
    if problem == "truncated":
        return "unreadable", f"truncated JPEG (no end-of-image marker, {len(data)} bytes)"
    hw = jpeg.header_size(data)
    if hw is None:
        return "unreadable", "corrupt JPEG (no frame header)"
    if tuple(hw) != tuple(frame_hw):
        return "wrong_size", f"frame is {hw[1]}x{hw[0]}, expected {frame_hw[1]}x{frame_hw[0]}"
    return None, None


def read_frame(path, size_hw: tuple[int, int], frame_hw: tuple[int, int] = FRAME_HW, src: Source | None = None):
    """(uint8 (H, W) image resized to ``size_hw``, None) or (None, (kind, reason)) for an excluded frame;
    ``path`` is relative to ``src`` when given."""
    try:
        data = src.read_bytes(path) if src else Path(path).read_bytes()
    except OSError as e:
        return None, ("unreadable", f"cannot be read ({e.strerror or e})")
    kind, why = check_frame(data, frame_hw)
    if kind:
        return None, (kind, why)
    _, flag = _reduce_flag(size_hw, frame_hw)
    img = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    if img is None:
        return None, ("unreadable", "corrupt JPEG (cannot be decoded)")
    if img.shape != tuple(size_hw):
        img = cv2.resize(img, (size_hw[1], size_hw[0]), interpolation=cv2.INTER_AREA)
    return img, None


def read_frames(root, file_names, size_hw, workers: int | None = None, progress: bool = True,
                frame_hw: tuple[int, int] = FRAME_HW):
    """Decode and resize frames in parallel (OpenCV releases the GIL).

    Returns (uint8 (N, 1, H, W), problems): ``problems[i]`` is None for a good frame, else (kind, reason) with kind
    ``unreadable`` (empty, not a JPEG, truncated, corrupt) or ``wrong_size`` (not ``frame_hw``)."""
    from tqdm import tqdm

    src = open_copy(root)
    out = np.zeros((len(file_names), 1, *size_hw), np.uint8)
    problems: list = [None] * len(file_names)

    def work(i):
        img, problem = read_frame(file_names[i], size_hw, frame_hw, src)
        if img is None:
            problems[i] = problem
        else:
            out[i, 0] = img

    with ThreadPoolExecutor(workers or threads.workers()) as ex:
        list(tqdm(ex.map(work, range(len(file_names))), total=len(file_names), disable=not progress,
                  desc="frames", mininterval=5))
    return out, problems


def load_frames(root, file_names, size_hw, workers: int | None = None, progress: bool = True,
                frame_hw: tuple[int, int] = FRAME_HW):
    """As :func:`read_frames`, returning (images, ok mask)."""
    out, problems = read_frames(root, file_names, size_hw, workers, progress, frame_hw)
    return out, np.array([p is None for p in problems], bool)
