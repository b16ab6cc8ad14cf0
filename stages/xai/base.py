"""The interface of an explainer (one small module per method, like pytorch-grad-cam's).

An explainer is a module ``stages/xai/<name>.py`` defining ``class Explainer(base.Explainer)``; the explainer
list is ``explainers:`` in params.yaml and its own settings are ``explain.<name>``. It maps a model, a batch of
normalised images (B, C, H, W) and the task to heatmaps (B, H, W) float32 at input resolution, written to
``data/xai/<task>/<name>/<model>.npy``.

``signed``: whether heatmaps may be negative (e.g. LIME weights). The coverage metrics (HC, AS) are defined on
non-negative maps; for a signed explainer they are computed on the positive part (evidence for the output),
which the report says.
"""
from __future__ import annotations

import torch
from torch import nn


class Explainer:
    PARAMS: dict = {}          # schema of explain.<name>
    signed: bool = False
    metric_suffix: str = ""    # appended to the heatmap metrics' names in the report (first explainer: none)

    def __init__(self, cfg: dict, task, key: str):
        self.cfg, self.task, self.key = cfg, task, key   # key: "explain.<name>", for error messages

    def explain(self, model: nn.Module, images: torch.Tensor, stats: dict) -> torch.Tensor:
        """Heatmaps (B, H, W) float32 on the CPU; ``stats`` receives counts worth logging."""
        raise NotImplementedError
