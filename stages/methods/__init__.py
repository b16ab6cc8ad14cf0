"""Unlearning methods: ``get(name)`` returns the ``Method`` class of module ``stages.methods.<name>``.

The method list is ``unlearn.methods`` in params.yaml (name -> the method's own settings).
"""
from __future__ import annotations

from stages.core import config, paths, registry

SECTION = "unlearn.methods"


def names(params: dict | None = None, section: str = SECTION) -> list[str]:
    """The methods of ``unlearn.methods``, or of another list that picks some of them by name (``agents.methods``:
    a task's ``METHODS``)."""
    params = config.read_params() if params is None else params
    every = registry.mapping_names(params, SECTION, "method name -> its settings")
    if section == SECTION:
        return every
    picked = config.get(params, section)
    if not isinstance(picked, list) or not picked or not all(isinstance(n, str) for n in picked):
        raise config.ParamError(f"{section}: expected a non-empty list of method names")
    for n in picked:
        if n not in every:
            raise config.ParamError(f"{section}: {n!r} is not a method of {SECTION} (known: {', '.join(every)})")
    return picked


def task_models(params: dict, task) -> list[str]:
    """Every model of ``task`` in report order: Original, Retrain, then the methods of its list (``task.METHODS``)."""
    return [*paths.REFERENCE_MODELS, *names(params, task.METHODS)]


def get(name: str):
    return registry.find("methods", name, "Method", f"{SECTION}.{name}", "unlearning method")
