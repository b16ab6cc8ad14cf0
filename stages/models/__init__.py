"""Model families, found by the ``family`` key of a model spec: ``resnet`` (torchvision ResNets, the default) and
``agents`` (seed 003's multi-agent classifier). Each family module has ``build(spec) -> nn.Module``; a model
returns its predictions from ``forward`` and its penultimate representation from ``features``."""
from __future__ import annotations


def build(spec: dict):
    """A fresh model of ``spec`` (its ``family``, default resnet)."""
    from stages.models import agents, resnet

    families = {"resnet": resnet.build, "agents": agents.build}
    family = spec.get("family", "resnet")
    if family not in families:
        raise ValueError(f"model spec: unknown family {family!r} (known: {', '.join(families)})")
    return families[family](spec)
