"""CIFAR-10: reading the batches of the "python version" distribution.

Layout: ``<root>/`` (or ``<root>/cifar-10-batches-py/``, the folder of the archive) holds ``data_batch_1``
.. ``data_batch_5`` (training, concatenated in that order) and ``test_batch``. Each batch is a pickled dict
with ``b"data"``: uint8 array (N, 3072), one row per image, the 1024 red, then green, then blue values of the
32 x 32 image in row-major order, and ``b"labels"``: N integers 0..9 (``str`` keys are accepted too).
Images are returned uint8 (N, 32, 32, 3) (height, width, channel); labels int64 (N,).

Every defect is a ``ValueError`` naming the file (``FileNotFoundError`` for a missing batch): a file that is
not a readable pickle (truncated, other format), not a dict or missing a key, data not of shape (N, 3072) or
not representable as uint8 (non-integer, or values outside 0..255), labels not N integers, a label outside
the 10 classes 0..9 (:class:`~stages.data.splits.LabelError`, naming the first such row).

Security: unpickling can run arbitrary code, so use this reader only on files from a trusted source.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from stages.data.splits import check_labels

TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST = "test_batch"
SUBDIR = "cifar-10-batches-py"
SIDE = 32
ROW = 3 * SIDE * SIDE  # 3072 values per image
CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def folder(root: Path) -> Path:
    """``root``, or its ``cifar-10-batches-py`` subfolder when the batches are there and not in ``root``."""
    if not (root / TEST).exists() and (root / SUBDIR).is_dir():
        return root / SUBDIR
    return root


def field(batch: dict, key: str, path: Path) -> np.ndarray:
    """``batch[key]`` (under its bytes or str spelling) as an array."""
    for k in (key.encode(), key):
        if k in batch:
            try:
                return np.asarray(batch[k])
            except (ValueError, TypeError) as e:  # ragged lists
                raise ValueError(f"{path}: {key!r} is not an array ({e})") from e
    raise ValueError(f"{path}: missing key {key!r} (keys: {', '.join(sorted(map(repr, batch)))})")


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 (N, 32, 32, 3) and labels int64 (N,) of the batch file ``path`` (trusted files only)."""
    if not path.is_file():
        raise FileNotFoundError(f"CIFAR-10 batch {path} not found; expected {', '.join(TRAIN)} and {TEST} "
                                f"in {path.parent} (or its {SUBDIR} subfolder)")
    try:
        with open(path, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
    except Exception as e:  # truncated or not a pickle: EOFError, UnpicklingError, ValueError, ...
        raise ValueError(f"{path}: not a readable CIFAR-10 batch pickle ({type(e).__name__}: {e})") from e
    if not isinstance(batch, dict):
        raise ValueError(f"{path}: expected a pickled dict, found {type(batch).__name__}")
    data, labels = field(batch, "data", path), field(batch, "labels", path)
    if data.ndim != 2 or data.shape[1] != ROW:
        raise ValueError(f"{path}: data has shape {data.shape}, expected (N, {ROW})")
    if data.dtype != np.uint8:
        if data.dtype.kind not in "iu" or (data.size and (data.min() < 0 or data.max() > 255)):
            raise ValueError(f"{path}: data of dtype {data.dtype} is not uint8-compatible "
                             f"(integers 0..255 expected)")
        data = data.astype(np.uint8)
    n = len(data)
    if labels.ndim != 1 or len(labels) != n:
        raise ValueError(f"{path}: {labels.size} labels (shape {labels.shape}) for {n} images")
    if n and labels.dtype.kind not in "iu":
        raise ValueError(f"{path}: labels of dtype {labels.dtype}, expected integers")
    check_labels(path, labels, len(CLASS_NAMES), "CIFAR-10")
    images = data.reshape(n, 3, SIDE, SIDE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.int64)


def label_files(root) -> dict[str, str]:
    """The batch files of each split (``train``, ``test``) in ``root``, for messages."""
    base = folder(Path(root))
    return {"train": f"{base / TRAIN[0]}..{TRAIN[-1][-1]}", "test": str(base / TEST)}


def load(root) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, y_train, x_test, y_test)`` from the CIFAR-10 python batches in ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"CIFAR-10 folder {root} not found")
    root = folder(root)
    train = [read_batch(root / name) for name in TRAIN]
    x_test, y_test = read_batch(root / TEST)
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return x_train, y_train, x_test, y_test
