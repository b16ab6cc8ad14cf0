"""Task plugins: ``get(name)`` returns the task ``name`` of ``params.yaml``'s ``tasks:``.

Each task is a module ``stages/tasks/<name>.py`` defining one subclass of :class:`stages.tasks.base.Task` under a
name of its own (``class LTDCounting(base.RegressionTask)`` in ``ltd.py``; see :mod:`stages.tasks.base`); its entry
``tasks.<name>`` holds the task's own keys (its forget request, if it has keys). Every task gets the same evaluation
and report stages (``evaluate@<task>``, ``explain_report@<task>``, ``report@<task>``), which iterate over ``tasks:``.

How a task's models are made is its track: ``tracks.<track>`` maps each of its tasks to the dataset the task reads
(a section of ``data:``), and dvc.yaml's model stages iterate over it. ``per_model``: every method of
``unlearn.methods``, every explainer of ``explainers``, one stage per model and per explanation; ``per_task``: the
same methods and explainers, every model of a task made in one stage and explained in one; ``agents``: seed 003's
multi-agent classifier, its own Original per task, trained with ``agents.train``, and the methods and explainers of
``agents.methods`` / ``agents.explainers``. The task class says which track and lists apply to it: ``TRACK``,
``METHODS``, ``EXPLAINERS``.
"""
from __future__ import annotations

from stages.core import config, registry
from stages.core.config import Int

SECTION = "tasks"                              # task name -> the task's own keys
TRACKS_KEY = "tracks"                          # track -> {task name: the dataset it reads}
TRACKS = ("per_model", "per_task", "agents")


def all_names(params: dict | None = None) -> list[str]:
    """Every task of ``tasks:``, each in exactly one track of ``tracks:``."""
    params = config.read_params() if params is None else params
    return list(_tracks(params))


def _tracks(params: dict) -> dict[str, str]:
    """Task -> its track, in the order of ``tasks:``, every track checked: a mapping of tasks of ``tasks:``, none in
    two tracks, every task in one."""
    every = registry.mapping_names(params, SECTION, "task name -> its own keys ({} for none)")
    value = config.get(params, TRACKS_KEY)
    if not isinstance(value, dict):
        raise config.ParamError(f"{TRACKS_KEY} = {value!r}: expected a mapping track -> {{task: dataset}} "
                                f"({', '.join(TRACKS)})")
    extra = sorted(set(value) - set(TRACKS))
    if extra:
        raise config.ParamError(f"{TRACKS_KEY}.{extra[0]}: unknown track (known: {', '.join(TRACKS)})")
    placed: dict[str, str] = {}
    for track in TRACKS:
        key = f"{TRACKS_KEY}.{track}"
        entries = config.get(params, key)
        if not isinstance(entries, dict):
            raise config.ParamError(f"{key} = {entries!r}: expected a mapping task -> the dataset it reads ({{}} for "
                                    f"none)")
        for name in entries:
            if name not in every:
                raise config.ParamError(f"{key}.{name}: not a task of tasks: (known: {', '.join(every)})")
            if name in placed:
                raise config.ParamError(f"{key}.{name}: already in {TRACKS_KEY}.{placed[name]} (a task has one track)")
            placed[name] = track
    missing = [n for n in every if n not in placed]
    if missing:
        raise config.ParamError(f"tasks.{missing[0]}: in no track (add `{missing[0]}: <dataset>` to one of "
                                f"{', '.join(f'{TRACKS_KEY}.{t}' for t in TRACKS)})")
    return {n: placed[n] for n in every}


def names(params: dict | None = None, track: str = "per_model") -> list[str]:
    """The tasks of one track (default: ``per_model``)."""
    params = config.read_params() if params is None else params
    _tracks(params)  # every track checked, whichever is asked for
    return list(config.get(params, f"{TRACKS_KEY}.{track}"))


def track_of(name: str, params: dict) -> str:
    placed = _tracks(params)
    if name not in placed:
        raise config.ParamError(f"task {name!r}: not a task of tasks: (known: {', '.join(placed)})")
    return placed[name]


def dataset_of(name: str, params: dict) -> str:
    """The dataset task ``name`` reads: its value in its track (a section of ``data:``)."""
    key = f"{TRACKS_KEY}.{track_of(name, params)}.{name}"
    dataset = config.get(params, key)
    if not isinstance(dataset, str) or dataset not in config.get(params, "data"):
        raise config.ParamError(f"{key} = {dataset!r}: no such section data.{dataset} (known: "
                                f"{', '.join(config.get(params, 'data'))})")
    return dataset


def task_class(name: str):
    return registry.find("tasks", name, name, "task")


def repeats(params: dict, name: str) -> int:
    """Independent training runs of task ``name``'s models: ``repeats`` is one number for every task, or a mapping
    ``{task: n}`` with an optional ``default`` for the tasks it leaves out. Tasks that share their dataset's Original
    must agree (repeat r of every model starts from run r of that Original)."""
    value = config.get(params, "repeats")
    every = all_names(params)
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(every) - {"default"})
        if unknown:
            raise config.ParamError(f"repeats.{unknown[0]}: not a task (known: {', '.join(every)}, default)")

        def of(n):
            if n not in value and "default" not in value:
                raise config.ParamError(f"repeats.{n}: missing (give the task's runs, or repeats.default)")
            key = f"repeats.{n}" if n in value else "repeats.default"
            return Int(min=1).check(key, value.get(n, value.get("default")))
    else:
        def of(n):
            return Int(min=1).check("repeats", value)
    r = of(name)
    dataset = dataset_of(name, params)
    if not task_class(name).OWN_ORIGINAL:
        for other in every:
            if (other != name and dataset_of(other, params) == dataset
                    and not task_class(other).OWN_ORIGINAL and of(other) != r):
                raise config.ParamError(f"repeats.{name} = {r}, repeats.{other} = {of(other)}: both tasks share the "
                                        f"Original of data.{dataset}, so they need the same number of runs")
    return r


def get(name: str, params: dict | None = None, root="."):
    """The task ``name`` with its validated settings (``tasks.<name>``) (and its ``repeats``)."""
    params = config.read_params() if params is None else params
    track = track_of(name, params)
    cls = task_class(name)
    if cls.TRACK != track:
        raise config.ParamError(f"{TRACKS_KEY}.{track}: {name!r} belongs in {TRACKS_KEY}.{cls.TRACK} (its module's "
                                f"TRACK)")
    cfg = {"dataset": dataset_of(name, params), **config.load(f"{SECTION}.{name}", cls.PARAMS, params)}
    task = cls(name, cfg, params, root)
    task.repeats = repeats(params, name)
    return task


def for_dataset(dataset: str, params: dict | None = None, root="."):
    """The first task of ``tasks:`` that reads ``dataset`` and shares the dataset's Original: it defines what that
    Original learns (every such task of a dataset shares it, so they agree on it). Tasks that train their own
    Original (``OWN_ORIGINAL``) do not count."""
    params = config.read_params() if params is None else params
    for name in all_names(params):
        if dataset_of(name, params) == dataset and not task_class(name).OWN_ORIGINAL:
            return get(name, params, root)
    raise config.ParamError(f"data.{dataset}: no task of tasks: reads this dataset and shares its Original")
