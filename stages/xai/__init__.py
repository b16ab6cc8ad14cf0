"""Explainers: ``get(name)`` returns the explainer class of module ``stages.xai.<name>`` (the one class there that
subclasses :class:`stages.xai.base.Explainer`, e.g. ``SIDU`` of ``sidu``); the list is ``explainers:`` in params.yaml.
The package also holds libraries that are not explainers (figures, attribution vectors): they define no such class."""
from __future__ import annotations

from stages.core import config, registry
from stages.core.config import Bool, Choice, Int, Section

SECTION = "explainers"


def names(params: dict | None = None, section: str = SECTION) -> list[str]:
    """The explainer list ``explainers`` (or another such list: ``agents.explainers``, a task's ``EXPLAINERS``)."""
    params = config.read_params() if params is None else params
    out = config.get(params, section)
    if not isinstance(out, list):
        raise config.ParamError(f"{section}: expected a non-empty list of explainer names")
    return registry.check_names(out, "xai", section, "explainer")


def get(name: str):
    return registry.find("xai", name, SECTION, f"explainer {name!r}")


def metric_suffix(params: dict, name: str, section: str = SECTION) -> str:
    """Suffix of explainer ``name``'s heatmap metrics in the reports: none for the first explainer of the list (the
    papers' AS, h-HC, r-HC), else the explainer's own ``metric_suffix`` or ``_<name>``."""
    if names(params, section).index(name) == 0:
        return ""
    return get(name).metric_suffix or f"_{name}"


def available() -> list[str]:
    """Every explainer module of this package (listed in ``explainers:`` or not): its settings ``explain.<name>``
    may stay in params.yaml while it is off, so that turning it on is one word in the list."""
    return registry.available("xai")


def explain_schema(params: dict) -> dict:
    """The ``explain`` section: shared keys plus one sub-section per explainer of the list (each validated
    against its explainer's ``PARAMS`` by :func:`settings`); the sections of available explainers that are off are
    accepted as they are."""
    off = {name: Section(optional=True, default=None) for name in available() if name not in names(params)}
    return {"n_images": Section(), "repeats": Int(min=1), "n_figure": Int(min=1), "shared_scale": Bool(),
            "batch_size": Int(min=1),
            "autocast": Choice("none", "bf16", "fp16"), **{name: Section() for name in names(params)}, **off}


def settings(params: dict, name: str) -> dict:
    """Validated settings of explainer ``name``: ``explain.<name>`` plus the shared batch_size and autocast."""
    cfg = config.load("explain", explain_schema(params), params)
    own = config.validate(cfg[name], get(name).PARAMS, f"explain.{name}")
    return {**own, "batch_size": cfg["batch_size"], "autocast": cfg["autocast"]}


def n_images(params: dict, task: str) -> int:
    """``explain.n_images.<task>``: the size of the task's explanation subset."""
    cfg = config.load("explain", explain_schema(params), params)
    if task not in cfg["n_images"]:
        raise config.ParamError(f"explain.n_images.{task}: missing (the size of the task's explanation subset)")
    return Int(min=1).check(f"explain.n_images.{task}", cfg["n_images"][task])
