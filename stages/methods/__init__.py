"""Unlearning methods: ``get(name)`` returns the ``Method`` class of module ``stages.methods.<name>``.

The method list is ``unlearn.methods`` in params.yaml (name -> the method's own settings).
"""
from __future__ import annotations

from stages.core import config, registry

SECTION = "unlearn.methods"


def names(params: dict | None = None) -> list[str]:
    params = config.read_params() if params is None else params
    methods = config.get(params, SECTION)
    if not isinstance(methods, dict) or not methods:
        raise config.ParamError(f"{SECTION}: expected a mapping method name -> its settings")
    return list(methods)


def get(name: str):
    return registry.find("methods", name, "Method", f"{SECTION}.{name}", "unlearning method")
