"""Unlearning methods: ``get(name)`` returns the ``Method`` class of module ``stages.methods.<name>``.

The method list is ``unlearn.methods`` in params.yaml (name -> the method's own settings).
"""
from __future__ import annotations

import importlib

from stages import config

SECTION = "unlearn.methods"


def names(params: dict | None = None) -> list[str]:
    params = config.read_params() if params is None else params
    methods = config.get(params, SECTION)
    if not isinstance(methods, dict) or not methods:
        raise config.ParamError(f"{SECTION}: expected a mapping method name -> its settings")
    return list(methods)


def get(name: str):
    try:
        module = importlib.import_module(f"stages.methods.{name}")
    except ModuleNotFoundError as e:
        if e.name != f"stages.methods.{name}":
            raise
        raise config.ParamError(f"{SECTION}.{name}: unknown unlearning method (no module stages/methods/{name}.py)") from e
    return module.Method
