"""Unlearning methods: ``get(name)`` returns the ``Method`` class of module ``stages.methods.<name>``.

The method list is ``unlearn.methods`` in params.yaml (name -> the method's own settings).
"""
from __future__ import annotations

from stages.core import config, registry

SECTION = "unlearn.methods"


def names(params: dict | None = None) -> list[str]:
    params = config.read_params() if params is None else params
    return registry.mapping_names(params, SECTION, "method name -> its settings")


def get(name: str):
    return registry.find("methods", name, "Method", f"{SECTION}.{name}", "unlearning method")
