"""The interface of an explainer (one small module per method, like pytorch-grad-cam's).

An explainer is a module ``stages/xai/<name>.py`` defining one subclass of :class:`Explainer` under a name of its own
(``class SIDU(base.Explainer)`` in ``sidu.py``); the explainer list is ``explainers:`` in params.yaml (by the
module's name) and its own settings are ``explain.<name>``. It maps a model, a batch of
normalised images (B, C, H, W) and the task to heatmaps (B, H, W) float32 at input resolution, written to
``data/xai/<task>/<name>/<model>.npy``.

``signed``: whether heatmaps may be negative (e.g. LIME weights). The coverage metrics (HC, AS) are defined on
non-negative maps; for a signed explainer they are computed on the positive part (evidence for the output),
which the report says.
"""
from __future__ import annotations

import contextlib

import torch
from torch import nn

AUTOCAST = {"none": None, "bf16": torch.bfloat16, "fp16": torch.float16}  # explain.autocast


class Explainer:
    PARAMS: dict = {}          # schema of explain.<name>
    signed: bool = False
    metric_suffix: str = ""    # appended to the heatmap metrics' names in the report (first explainer: none)

    def __init__(self, cfg: dict, task, key: str):
        self.cfg, self.task, self.key = cfg, task, key   # key: "explain.<name>", for error messages

    def explain(self, model: nn.Module, images: torch.Tensor, stats: dict) -> torch.Tensor:
        """Heatmaps (B, H, W) float32 on the CPU; ``stats`` receives counts worth logging."""
        raise NotImplementedError


# Model plumbing shared by the explainers (an explain stage's code deps are this module and its explainer's)
def model_device(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def memory_format(model: nn.Module):
    """channels_last when the caller converted the model to it (then the explainer's inputs follow)."""
    for p in model.parameters():
        if p.dim() == 4 and not p.is_contiguous() and p.is_contiguous(memory_format=torch.channels_last):
            return torch.channels_last
    return torch.contiguous_format


def amp(device: torch.device, autocast: str | None):
    if autocast not in (None, *AUTOCAST):
        raise ValueError(f"autocast = {autocast!r}: must be one of {', '.join(AUTOCAST)}")
    dtype = AUTOCAST.get(autocast or "none")
    if dtype is None or device.type != "cuda":  # CUDA only: elsewhere float32
        return contextlib.nullcontext()
    return torch.autocast(device_type="cuda", dtype=dtype)


@contextlib.contextmanager
def eval_mode(model: nn.Module):
    """Put every submodule in eval mode; restore each submodule's own mode afterwards."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


def outputs(y: torch.Tensor) -> torch.Tensor:
    """Model output -> float32 (B, K): K = 1 for a scalar (regression) output."""
    y = y.float()
    return y.reshape(len(y), -1) if y.dim() <= 2 else y.flatten(1)
