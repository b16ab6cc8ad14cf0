"""Atomic output writing, logging and small run-time helpers shared by every stage.

Every output is written to a temporary file in the destination folder and renamed into place,
so an interrupted stage never leaves a half-written file that looks complete.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import random
import shutil
import tempfile
from pathlib import Path

import numpy as np

log = logging.getLogger("stages")


def setup_logging(name: str) -> logging.Logger:
    logging.basicConfig(level=os.environ.get("LOGLEVEL", "INFO"),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return logging.getLogger(name)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ""):
    """Yield a temporary path next to ``path``; rename it onto ``path`` if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=(suffix or path.suffix) + ".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files: give the output normal permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o)}")


def write_json(path, obj) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def read_json(path):
    with open(path) as f:
        return json.load(f)


def write_npy(path, array: np.ndarray) -> None:
    with atomic_path(path, suffix=".npy") as tmp:
        with open(tmp, "wb") as f:
            np.save(f, array)


def write_csv(path, df, **kw) -> None:
    kw.setdefault("index", False)
    with atomic_path(path) as tmp:
        df.to_csv(tmp, **kw)


def save_figure(path, fig) -> None:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix.lstrip("."), dpi=fig.dpi, bbox_inches="tight")
    plt.close(fig)


def save_torch(path, obj) -> None:
    """torch.save through a buffer: the archive's inner folder is then always ``archive/`` (saving to a path names
    it after the temporary file), so the same object gives the same bytes."""
    import io

    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.getvalue())


def derive_seed(seed: int, *parts) -> int:
    """A seed derived from the master ``seed`` and a stage identity (task, model, member, repeat ...).

    A stable hash of the names (never a position in a list), so adding a method leaves the others' seeds as
    they were. Returns an integer in [0, 2**31).
    """
    key = "/".join([str(seed), *map(str, parts)]).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % 2**31


def file_md5(path, chunk: int = 1 << 20) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def copy_file(src, dst) -> None:
    """Copy ``src`` to ``dst`` atomically (a temporary file renamed into place)."""
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def pick_device(setting: str = "auto"):
    """``auto`` picks CUDA when present, else the CPU; ``cuda`` without a GPU is an error."""
    import torch

    if setting == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda requested in params.yaml but no CUDA device is available")
    if setting in ("auto", "cuda") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike):
    """Yield a new temporary folder next to ``path``; on success it replaces ``path`` as a whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700 folders: give the output normal permissions
        old = None
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / path.name)
        os.replace(tmp, path)
        if old:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
