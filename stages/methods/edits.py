"""Weight edits shared by several methods: the pruning pool, global magnitude pruning, redrawing zeros."""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils import prune


def prunable(model: nn.Module) -> list[tuple[nn.Module, str]]:
    """(module, parameter name) of every Conv2d/Linear weight and existing bias: the pool pruned globally."""
    out = []
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            out.append((m, "weight"))
            if m.bias is not None:
                out.append((m, "bias"))
    return out


def global_prune(model: nn.Module, amount: float) -> None:
    """Zero the ``amount`` share of smallest-magnitude weights over the pooled Conv2d/Linear parameters."""
    params = prunable(model)
    prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=amount)
    for module, name in params:
        prune.remove(module, name)  # make the zeros permanent, drop the mask


@torch.no_grad()
def reinit_zeros(model: nn.Module, gen: torch.Generator) -> None:
    """Redraw every zero weight of the pool from U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    As the authors' code (REFERENCE section 3: "every zeroed weight redrawn"): only the Conv2d/Linear weights are
    redrawn; a bias zeroed by the pruning stays at zero (the fine-tune may move it again)."""
    for module, name in prunable(model):
        if name != "weight":
            continue
        p = getattr(module, name)
        fan_in = module.weight[0].numel()  # in_channels * kernel area (Conv2d) or in_features (Linear)
        bound = 1.0 / math.sqrt(fan_in)
        fresh = (torch.rand(p.shape, generator=gen) * 2 - 1) * bound
        zero = p == 0
        p[zero] = fresh.to(p.device, p.dtype)[zero]
