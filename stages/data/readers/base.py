"""The base class of the dataset readers (:mod:`stages.data.readers`): the three hooks every format provides.

    reader = readers.get(params, "digits")        # the class of data.digits.format
    cfg = reader.load(params)                     # data.digits validated, before any file is read
    stats = reader.prepare(cfg, out, log)         # the copy -> data/prepared/digits (logs what it read)
    metrics = reader.report(cfg, stats, out, figures)  # figures into reports/data/digits/; the stage's metrics

Stage ``prepare@<dataset>`` (stages/prepare.py) calls them in this order and writes ``metrics`` to
reports/data/<dataset>_stats.json.
"""
from __future__ import annotations

import logging
from pathlib import Path


class Reader:
    """One on-disk format. ``dataset`` is the section's name (``data.<dataset>``), ``key`` its dotted key."""

    def __init__(self, dataset: str):
        self.dataset = dataset
        self.key = f"data.{dataset}"

    def load(self, params: dict) -> dict:
        """The section validated (an unknown key, wrong type or out-of-range value is a ParamError naming it)."""
        raise NotImplementedError

    def prepare(self, cfg: dict, out: Path, log: logging.Logger) -> dict:
        """Read the copy at ``cfg["root"]``, write the prepared layout (stages.data.arrays) to ``out``, log what was
        read and left out; returns the preparation's statistics."""
        raise NotImplementedError

    def report(self, cfg: dict, stats: dict, prepared: Path, figures: Path) -> dict:
        """Write the dataset's figures and their CSV tables into ``figures`` (at least one file); returns the
        statistics written as the stage's DVC metrics."""
        raise NotImplementedError
