"""A dataset copy as the readers see it: a folder, or a ``.zip`` of that folder (as datasets are downloaded).

Readers name entries by POSIX paths relative to the copy's root (``""`` is the root) and ask the copy to list,
test and read them; :meth:`Source.show` names an entry in messages as ``<root>/<path>`` either way (for a zip,
``data/synth/ltd.zip/frames/...``). A zip whose top level holds a single folder (besides macOS ``__MACOSX``
and hidden entries) is read from inside that folder, as when a folder is zipped by hand, unless that folder is
one the dataset's layout puts at the root (``open_source(root, layout)``: a LTD zip holding only ``frames/`` is
an LTD copy missing its annotations, and is reported as such). A reader may be handed an open copy: the caller
opens it once (a zip's member index is built once) and passes it to each reader.

Why a zip: DVC hashes every file of a tracked folder on every ``dvc status``/``dvc repro`` (a stat and a
state-database lookup each); the 6,000-file synthetic LTD tree cost 0.36 s per walk, twice per no-op (the
generator's output and prepare's input). A zip is one file. :func:`new_copy` writes either form; the zip is
byte-identical for identical contents (sorted entries, fixed timestamps, stored uncompressed).
"""
from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
import tempfile
import zipfile
from pathlib import Path

ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold: no build time inside the archive


def is_zip(path: str | os.PathLike) -> bool:
    return str(path).lower().endswith(".zip")


class Source:
    """One copy of a dataset; ``rel`` paths are POSIX, relative to the root."""

    def __init__(self, root: str | os.PathLike):
        self.root = str(root)

    def count(self, rel: str, suffix: str) -> int:
        """How many files ending in ``suffix`` (any case) ``rel`` is or holds, recursively."""
        if self.is_dir(rel):
            return sum(self.count(posixpath.join(rel, n), suffix) for n in self.listdir(rel))
        return int(rel.lower().endswith(suffix))

    def show(self, rel: str = "") -> str: ...           # how messages name the entry
    def listdir(self, rel: str = "") -> list[str]: ...  # sorted names
    def is_dir(self, rel: str = "") -> bool: ...
    def is_file(self, rel: str) -> bool: ...
    def read_bytes(self, rel: str) -> bytes: ...


class Folder(Source):
    def __init__(self, root):
        super().__init__(root)
        self.path = Path(root)

    def show(self, rel: str = "") -> str:
        return str(self.path / rel) if rel else self.root

    def listdir(self, rel=""):
        return sorted(os.listdir(self.path / rel))

    def is_dir(self, rel=""):
        return (self.path / rel).is_dir()

    def is_file(self, rel):
        return (self.path / rel).is_file()

    def read_bytes(self, rel):
        return (self.path / rel).read_bytes()


class Zip(Source):
    """A zip archive read in place (members are read under ZipFile's lock: safe from several threads)."""

    def __init__(self, root, layout: tuple[str, ...] = ()):
        super().__init__(root)
        self.zip = zipfile.ZipFile(root)
        self.dirs: dict[str, set[str]] = {"": set()}
        self.files: dict[str, str] = {}              # rel -> member name
        for name in self.zip.namelist():
            parts = [p for p in name.split("/") if p]
            if not parts or ".." in parts:
                continue
            rel = "/".join(parts)
            if not name.endswith("/"):
                self.files[rel] = name
            for i in range(len(parts)):
                parent, child = "/".join(parts[:i]), parts[i]
                self.dirs.setdefault(parent, set()).add(child)
                if i < len(parts) - 1 or name.endswith("/"):
                    self.dirs.setdefault("/".join(parts[:i + 1]), set())
        self.prefix = ""
        top = [n for n in self.dirs[""] if n != "__MACOSX" and not n.startswith(".")]
        if len(top) == 1 and top[0] in self.dirs and top[0] not in layout:
            self.prefix = top[0] + "/"

    def _key(self, rel: str) -> str:
        return (self.prefix + rel).rstrip("/")

    def show(self, rel: str = "") -> str:
        return f"{self.root}/{self._key(rel)}" if self._key(rel) else self.root

    def listdir(self, rel=""):
        if self._key(rel) not in self.dirs:
            raise NotADirectoryError(f"{self.show(rel)}: no such folder in the archive")
        return sorted(self.dirs[self._key(rel)])

    def is_dir(self, rel=""):
        return self._key(rel) in self.dirs

    def is_file(self, rel):
        return self._key(rel) in self.files

    def read_bytes(self, rel):
        if self._key(rel) not in self.files:
            raise FileNotFoundError(f"{self.show(rel)}: no such file in the archive")
        return self.zip.read(self.files[self._key(rel)])


def open_source(root: str | os.PathLike | Source, layout: tuple[str, ...] = ()) -> Source:
    """The copy at ``root``: a zip archive (read in place) if it is one, else a folder; an open copy as is.
    ``layout``: the folders the dataset holds at its root (never taken for a zip's wrapping folder)."""
    if isinstance(root, Source):
        return root
    if Path(root).is_file() and is_zip(root):
        try:
            return Zip(root, layout)
        except zipfile.BadZipFile as e:
            raise ValueError(f"{root}: not a readable zip archive ({e})") from None
    return Folder(root)


def write_zip(folder: str | os.PathLike, out: str | os.PathLike) -> int:
    """Pack ``folder``'s files into the zip ``out`` (atomically): entries in sorted path order, fixed times
    and permissions, stored uncompressed, so the same files always give the same bytes. Returns the count."""
    from stages.core.io import atomic_path

    folder = Path(folder)
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    with atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
        for name in names:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.external_attr = 0o644 << 16
            z.writestr(info, (folder / name).read_bytes())
    return len(names)


@contextlib.contextmanager
def new_copy(out: str | os.PathLike):
    """Yield an empty folder to write a dataset copy into. On success it becomes ``out``: a zip of it when
    ``out`` ends in .zip, else the folder itself (swapped in whole); on failure nothing changes."""
    from stages.core.io import atomic_dir

    out = Path(out)
    if not is_zip(out):
        with atomic_dir(out) as tmp:
            yield tmp
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        yield tmp
        if out.is_dir():                             # an older copy written as a folder
            shutil.rmtree(out)
        write_zip(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
