"""Unlearning methods: ``get(name)`` returns the ``Method`` class of module ``stages.methods.<name>``."""
from __future__ import annotations

import importlib

NAMES = ("finetune", "prune", "reinit", "confuse", "random_labels", "anchored")


def get(name: str):
    try:
        module = importlib.import_module(f"stages.methods.{name}")
    except ModuleNotFoundError as e:
        raise ValueError(f"unknown unlearning method {name!r} (no module stages/methods/{name}.py)") from e
    return module.Method
