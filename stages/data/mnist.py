"""MNIST: reading the four IDX files of the original distribution.

Layout: ``<root>/`` holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``
and ``t10k-labels-idx1-ubyte``, each plain or gzip-compressed (``.gz`` suffix); the dotted spellings
(``train-images.idx3-ubyte``) are accepted too. Plain wins over ``.gz`` when both are present.

IDX file (all integers big-endian): a 4-byte magic ``0x00 0x00 <dtype code> <ndim>`` followed by ``ndim``
uint32 dimension sizes, then the values in C order. MNIST uses dtype code ``0x08`` (unsigned byte), so the
magic is 2049 for labels (ndim 1: N) and 2051 for images (ndim 3: N, H, W).

Every defect is a ``ValueError`` naming the file (``FileNotFoundError`` for a missing one): a magic that is
not the expected one (other dtype code or ndim), a file shorter than its header says (truncated) or longer
(trailing bytes), an unreadable gzip stream, images and labels of one split that differ in count, and a label
outside the 10 digit classes 0..9 (:class:`~stages.data.splits.LabelError`, naming the first such row).
"""
from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from stages.data.splits import check_labels

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
UBYTE = 0x08  # IDX dtype code of unsigned byte
CLASS_NAMES = [str(d) for d in range(10)]


def find(root: Path, name: str) -> Path:
    """The file ``name`` in ``root``: plain, ``.gz``, or the dotted variant (``-idx`` -> ``.idx``) of either."""
    dotted = name.replace("-idx", ".idx")
    for cand in (name, name + ".gz", dotted, dotted + ".gz"):
        if (root / cand).is_file():
            return root / cand
    raise FileNotFoundError(
        f"MNIST file {name} (or {name}.gz, {dotted}, {dotted}.gz) not found in {root}; "
        f"expected files: {', '.join(n for pair in FILES.values() for n in pair)}")


def read_bytes(path: Path) -> bytes:
    """The content of ``path``, decompressed when its name ends in ``.gz``."""
    if path.suffix != ".gz":
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"{path}: corrupt or truncated gzip file ({e})") from e


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """The uint8 array of the IDX file ``path``, which must hold unsigned bytes in ``ndim`` dimensions."""
    data = read_bytes(path)
    header = 4 + 4 * ndim
    if len(data) < 4:
        raise ValueError(f"{path}: truncated: {len(data)} bytes, expected at least a {header}-byte header")
    (magic,) = struct.unpack(">I", data[:4])
    expected = (UBYTE << 8) | ndim
    if magic != expected:
        raise ValueError(
            f"{path}: wrong magic number: expected {expected} (unsigned byte, {ndim} dimension(s)), found "
            f"{magic} (bytes {data[:4].hex(' ')}: dtype code 0x{data[2]:02x}, {data[3]} dimension(s))")
    if len(data) < header:
        raise ValueError(f"{path}: truncated header: expected {header} bytes, found {len(data)}")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    size = int(np.prod(dims, dtype=np.int64))
    if len(data) != header + size:
        what = "truncated" if len(data) < header + size else "trailing bytes after the data"
        raise ValueError(f"{path}: {what}: header says shape {dims}, so expected {header + size} bytes, "
                         f"found {len(data)}")
    return np.frombuffer(data, np.uint8, count=size, offset=header).reshape(dims).copy()  # writable


def load_split(root: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 (N, H, W) and labels int64 (N,) of ``split`` (``train`` or ``test``)."""
    img_path, lab_path = (find(root, name) for name in FILES[split])
    images = read_idx(img_path, 3)
    labels = read_idx(lab_path, 1).astype(np.int64)
    check_labels(lab_path, labels, len(CLASS_NAMES), "MNIST")
    if len(images) != len(labels):
        raise ValueError(f"{split} split: {img_path} holds {len(images)} images but {lab_path} "
                         f"holds {len(labels)} labels")
    return images, labels


def label_files(root) -> dict[str, str]:
    """The label file of each split (``train``, ``test``) in ``root``, for messages."""
    return {split: str(find(Path(root), lab)) for split, (_, lab) in FILES.items()}


def load(root) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, y_train, x_test, y_test)`` from the MNIST IDX files in ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"MNIST folder {root} not found")
    x_train, y_train = load_split(root, "train")
    x_test, y_test = load_split(root, "test")
    return x_train, y_train, x_test, y_test
