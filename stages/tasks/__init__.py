"""Task plugins: ``get(name)`` returns the task ``name`` of ``params.yaml``'s ``tasks:`` list.

Each task is a module ``stages/tasks/<name>.py`` defining ``class Task`` (see :mod:`stages.tasks.base`);
``tasks.<name>`` in params.yaml names the dataset it reads (and the task's own keys, if it has any).
"""
from __future__ import annotations

from stages.core import config, registry
from stages.core.config import Str

SECTION = "tasks"


def names(params: dict | None = None) -> list[str]:
    params = config.read_params() if params is None else params
    return registry.mapping_names(params, SECTION, "task name -> {dataset: ...}")


def task_class(name: str):
    return registry.find("tasks", name, "Task", f"{SECTION}.{name}", "task")


def get(name: str, params: dict | None = None, root="."):
    """The task ``name`` with its validated ``tasks.<name>`` settings."""
    params = config.read_params() if params is None else params
    if name not in names(params):
        raise config.ParamError(f"{SECTION}.{name}: not in the task list (known: {', '.join(names(params))})")
    cls = task_class(name)
    cfg = config.load(f"{SECTION}.{name}", {"dataset": Str(), **cls.PARAMS}, params)
    if cfg["dataset"] not in config.get(params, "data"):
        raise config.ParamError(f"{SECTION}.{name}.dataset = {cfg['dataset']!r}: no such section data.{cfg['dataset']}")
    return cls(name, cfg, params, root)


def for_dataset(dataset: str, params: dict | None = None, root="."):
    """The first task of the list that reads ``dataset``: it defines what the dataset's Original learns
    (every task of a dataset shares that Original, so they agree on it)."""
    params = config.read_params() if params is None else params
    for name in names(params):
        if config.get(params, f"{SECTION}.{name}").get("dataset") == dataset:
            return get(name, params, root)
    raise config.ParamError(f"data.{dataset}: no task in the task list reads this dataset")
