"""Dataset readers: one plugin per on-disk format, picked by ``data.<dataset>.format``.

Each format is a module ``stages/data/readers/<format>.py`` defining one subclass of
:class:`stages.data.readers.base.Reader` (``class LTD(base.Reader)`` in ``ltd.py``), found by name as the tasks,
methods and explainers are (:mod:`stages.core.registry`): ``ltd`` (the LTD layout of annotations and frames),
``utkface`` (a folder of ``<age>_<gender>_<race>_<date>.jpg.chip.jpg`` faces), ``mnist`` (the four IDX files),
``cifar10`` (CIFAR-10's python batches) and ``image_folder`` (a folder of class subfolders). A new format is one module
here and its name as a section's ``format``; stage ``prepare@<dataset>`` (stages/prepare.py) runs the reader.
"""
from __future__ import annotations

from stages.core import config, registry
from stages.core.config import ParamError

PACKAGE = "data.readers"


def formats() -> list[str]:
    """The known formats: the reader modules of this package."""
    return registry.available(PACKAGE)


def format_of(params: dict, dataset: str) -> str:
    """``data.<dataset>.format``, checked: a missing or unknown format is a ParamError naming the key and the known
    formats."""
    key = f"data.{dataset}.format"
    section = config.get(params, f"data.{dataset}")
    known = ", ".join(formats())
    if not isinstance(section, dict):
        raise ParamError(f"data.{dataset} = {section!r}: expected a mapping of settings with a format ({known})")
    if "format" not in section:
        raise ParamError(f"{key}: missing (the on-disk format of the dataset's files; known: {known})")
    fmt = section["format"]
    if not isinstance(fmt, str) or fmt not in formats():
        raise ParamError(f"{key} = {fmt!r}: unknown format (known: {known})")
    return fmt


def get(params: dict, dataset: str):
    """The reader of ``data.<dataset>`` (an instance of its format's class)."""
    fmt = format_of(params, dataset)
    return registry.find(PACKAGE, fmt, f"data.{dataset}.format", "format")(dataset)
