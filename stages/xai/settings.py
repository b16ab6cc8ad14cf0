"""Settings shared by the explain stages (kept free of torch so the light stages start fast)."""
from __future__ import annotations

from pathlib import Path

from stages.config import Bool, Choice, Float, Int, Str

TASKS = ("ltd", "utk")
SCHEMA = {  # the whole ``explain`` section (shared by explain_subset, explain, explain_figures)
    "n_images": Int(min=1),
    "layer": Str(),
    "threshold": Float(),
    "batch_size": Int(min=1),
    "dedup": Bool(),
    "autocast": Choice("none", "bf16", "fp16"),
    "n_figure": Int(min=1),
    "ltd": {"sigma": Float(min=0, min_open=True)},
    "utk": {"sigma": Float(min=0, min_open=True)},
}


def xai_dir(task: str, root=".") -> Path:
    return Path(root) / "data" / "xai" / task
