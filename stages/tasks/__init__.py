"""Task plugins: ``get(name)`` returns the task ``name`` of one of ``params.yaml``'s task lists.

Each task is a module ``stages/tasks/<name>.py`` defining one subclass of :class:`stages.tasks.base.Task` under a
name of its own (``class LTDCounting(base.RegressionTask)`` in ``ltd.py``; see :mod:`stages.tasks.base`);
its entry in a task list of params.yaml names the dataset it reads (and the task's own keys, if it has any).

Three task lists (``SECTIONS``), each iterated by its own stages in dvc.yaml, named by how the pipeline stages a
task's models: ``tasks.per_model`` (every method of ``unlearn.methods``, every explainer of ``explainers``, one
stage per model and per explanation), ``tasks.per_task`` (the same methods and explainers, every model of a task
made in one stage and explained in one) and ``agents.tasks`` (seed 003's multi-agent classifier: its own Original
per task, trained with ``agents.train``, and the methods and explainers of ``agents.methods`` /
``agents.explainers``). The task class says which lists apply to it: ``SECTION``, ``METHODS``, ``EXPLAINERS``.
"""
from __future__ import annotations

from stages.core import config, registry
from stages.core.config import Int, Str

SECTION = "tasks.per_model"
SECTIONS = (SECTION, "tasks.per_task", "agents.tasks")
# the keys of params.yaml's tasks: section, each a task list (per_model, per_task)
LISTS = tuple(section.removeprefix("tasks.") for section in SECTIONS if section.startswith("tasks."))


def names(params: dict | None = None, section: str = SECTION) -> list[str]:
    """The tasks of one list (default: ``tasks.per_model``)."""
    params = config.read_params() if params is None else params
    if section.startswith("tasks."):  # the tasks: section holds its task lists only
        lists = config.get(params, "tasks")
        if not isinstance(lists, dict):
            raise config.ParamError(f"tasks = {lists!r}: expected a mapping of task lists ({', '.join(LISTS)})")
        extra = sorted(set(lists) - set(LISTS))
        if extra:
            raise config.ParamError(f"tasks.{extra[0]}: unknown key (the section holds its task lists: "
                                    f"{', '.join(LISTS)})")
    return registry.mapping_names(params, section, "task name -> {dataset: ...}")


def all_names(params: dict | None = None) -> list[str]:
    """The tasks of every list; a name in two lists is an error."""
    params = config.read_params() if params is None else params
    out: list[str] = []
    for section in SECTIONS:
        for name in names(params, section):
            if name in out:
                raise config.ParamError(f"{section}.{name}: already a task of another list")
            out.append(name)
    return out


def section_of(name: str, params: dict) -> str:
    for section in SECTIONS:
        if name in names(params, section):
            return section
    raise config.ParamError(f"task {name!r}: not in a task list ({', '.join(SECTIONS)}; known: "
                            f"{', '.join(all_names(params))})")


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
    cfg = config.get(params, f"{section_of(name, params)}.{name}")
    if not task_class(name).OWN_ORIGINAL:
        for other in every:
            o_cfg = config.get(params, f"{section_of(other, params)}.{other}")
            if (other != name and isinstance(o_cfg, dict) and o_cfg.get("dataset") == cfg.get("dataset")
                    and not task_class(other).OWN_ORIGINAL and of(other) != r):
                raise config.ParamError(f"repeats.{name} = {r}, repeats.{other} = {of(other)}: both tasks share the "
                                        f"Original of data.{cfg.get('dataset')}, so they need the same number of runs")
    return r


def get(name: str, params: dict | None = None, root="."):
    """The task ``name`` with its validated settings (its task-list entry) (and its ``repeats``)."""
    params = config.read_params() if params is None else params
    section = section_of(name, params)
    cls = task_class(name)
    if cls.SECTION != section:
        raise config.ParamError(f"{section}.{name}: this task belongs in {cls.SECTION}")
    cfg = config.load(f"{section}.{name}", {"dataset": Str(), **cls.PARAMS}, params)
    if cfg["dataset"] not in config.get(params, "data"):
        raise config.ParamError(f"{section}.{name}.dataset = {cfg['dataset']!r}: no such section data.{cfg['dataset']}")
    task = cls(name, cfg, params, root)
    task.repeats = repeats(params, name)
    return task


def for_dataset(dataset: str, params: dict | None = None, root="."):
    """The first task (lists in ``SECTIONS`` order) that reads ``dataset`` and shares the dataset's Original: it
    defines what that Original learns (every such task of a dataset shares it, so they agree on it). Tasks that
    train their own Original (``OWN_ORIGINAL``) do not count."""
    params = config.read_params() if params is None else params
    for section in SECTIONS:
        for name in names(params, section):
            if (config.get(params, f"{section}.{name}").get("dataset") == dataset
                    and not task_class(name).OWN_ORIGINAL):
                return get(name, params, root)
    raise config.ParamError(f"data.{dataset}: no task of the task lists reads this dataset and shares its Original")
