"""Finding a plugin by name: module ``stages/<package>/<name>.py`` and its class (shared by tasks, methods and
explainers)."""
from __future__ import annotations

import importlib

from stages.core import config
from stages.core.config import ParamError


def mapping_names(params: dict, section: str, what: str) -> list[str]:
    """The keys of a non-empty mapping section of params.yaml (a plugin list whose entries carry settings)."""
    entries = config.get(params, section)
    if not isinstance(entries, dict) or not entries:
        raise ParamError(f"{section}: expected a mapping {what}")
    return list(entries)


def find(package: str, name: str, attr: str, key: str, what: str):
    """Class ``attr`` of module ``stages.<package>.<name>``; a missing module or class is a ParamError naming
    ``key`` (the params.yaml entry that asked for it)."""
    module_name = f"stages.{package}.{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name != module_name:
            raise
        raise ParamError(f"{key}: unknown {what} (no module stages/{package}/{name}.py)") from e
    if not hasattr(module, attr):
        raise ParamError(f"{key}: stages/{package}/{name}.py defines no {attr} class")
    return getattr(module, attr)
