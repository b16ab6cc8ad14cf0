"""Unlearning methods: ``get(name)`` returns the method class of module ``stages.methods.<name>`` (the one class
there that subclasses :class:`stages.methods.base.Method`, e.g. ``GradientAscent`` of ``ga``).

The method list is ``unlearn.methods`` in params.yaml (name -> the method's own settings). A method may also read
settings placed directly under ``unlearn`` (its ``SHARED`` schema: e.g. ``unlearn.sigma``, the Confuse noise, the knob
``dvc exp run -S unlearn.sigma=...`` turns); stage check_params writes each method's resolved settings per task to
``data/settings/methods/<task>/<method>.json``, which the method's stages depend on, so such a key reruns only them.
"""
from __future__ import annotations

from stages.core import config, paths, registry
from stages.core.config import Choice, Float, Int, Section

SECTION = "unlearn.methods"
RECIPE = {  # unlearn.<task>: the fine-tune recipe every method of a task shares
    "epochs": Int(min=1), "batch_size": Int(min=1), "optimizer": Choice("sgd", "adam"),
    "lr": Float(min=0, min_open=True), "momentum": Float(min=0, max=1), "weight_decay": Float(min=0),
}


def shared_schema() -> dict:
    """Settings directly under ``unlearn`` that methods read (their ``SHARED``), of every available method: a key
    stays valid while its method is left out of the list."""
    out = {}
    for name in registry.available("methods"):
        out.update(get(name).SHARED)
    return out


def recipes(params: dict, task_names: list[str]) -> dict:
    """The validated ``unlearn`` section: the method list (checked by :func:`names`), one recipe per task and the
    methods' shared settings."""
    return config.load("unlearn", {"methods": Section(), **shared_schema(), **{t: RECIPE for t in task_names}}, params)


def settings(params: dict, name: str, task: str) -> tuple[dict, int | None]:
    """Validated ``unlearn.methods.<name>`` (against the method's ``PARAMS``, and its per-task values for ``task`` by
    the method's ``check_task``) with the method's ``SHARED`` settings of ``unlearn``, and the method's own epochs for
    ``task`` (None: the recipe's)."""
    key = f"{SECTION}.{name}"
    raw = config.get(params, key) or {}
    cls = get(name)
    own = config.validate(raw, {**cls.PARAMS, "epochs": Section(optional=True, default=None)}, key)
    for k, spec in cls.SHARED.items():
        own[k] = spec.check(f"unlearn.{k}", config.get(params, f"unlearn.{k}"))
    epochs = own.pop("epochs")
    cls.check_task(own, task)
    if epochs is not None and task in epochs:
        return own, Int(min=1).check(f"{key}.epochs.{task}", epochs[task])
    return own, None


def names(params: dict | None = None, section: str = SECTION) -> list[str]:
    """The methods of ``unlearn.methods``, or of another list that picks some of them by name (``agents.methods``:
    a task's ``METHODS``)."""
    params = config.read_params() if params is None else params
    every = registry.mapping_names(params, SECTION, "method name -> its settings")
    registry.check_names(every, "methods", SECTION, "unlearning method")
    if section == SECTION:
        return every
    picked = config.get(params, section)
    if not isinstance(picked, list):
        raise config.ParamError(f"{section}: expected a non-empty list of method names")
    registry.check_names(picked, "methods", section, "unlearning method")
    for n in picked:
        if n not in every:
            raise config.ParamError(f"{section}: {n!r} is not a method of {SECTION} (known: {', '.join(every)})")
    return picked


def task_models(params: dict, task) -> list[str]:
    """Every model of ``task`` in report order: Original, Retrain, then the methods of its list (``task.METHODS``)."""
    return [*paths.REFERENCE_MODELS, *names(params, task.METHODS)]


def get(name: str):
    return registry.find("methods", name, f"{SECTION}.{name}", "unlearning method")
