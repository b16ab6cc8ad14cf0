"""Metric families: how a task's evaluation turns predictions into metrics. A task names its family
(``Task.EVALUATION``); ``get(name)`` returns module ``stages.metrics.families.<name>``, whose
``evaluate(task, preds, retrain, cfg) -> (metrics, loss histogram table)`` uses the task's targets and roles."""
from __future__ import annotations

import importlib


def get(name: str):
    try:
        return importlib.import_module(f"stages.metrics.families.{name}")
    except ModuleNotFoundError as e:
        if e.name != f"stages.metrics.families.{name}":
            raise
        raise ValueError(f"unknown metric family {name!r} (no module stages/metrics/families/{name}.py)") from e


def pick(preds, split: str, column: str = "pred"):
    """One split's predictions ordered by row."""
    return preds[preds.split == split].sort_values("row")[column].to_numpy()
