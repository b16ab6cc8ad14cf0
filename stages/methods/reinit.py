"""Reinit: as Prune, then every zeroed weight redrawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)); then the fine-tune."""
import math

import torch

from stages.methods import base, prune


@torch.no_grad()
def reinit_zeros(model: torch.nn.Module, gen: torch.Generator) -> None:
    for module, name in base.prunable(model):
        p = getattr(module, name)
        fan_in = module.weight[0].numel()  # in_channels * kernel area (Conv2d) or in_features (Linear)
        bound = 1.0 / math.sqrt(fan_in)
        fresh = (torch.rand(p.shape, generator=gen) * 2 - 1) * bound
        zero = p == 0
        p[zero] = fresh.to(p.device, p.dtype)[zero]


class Method(prune.Method):
    def edit(self, model, gen):
        super().edit(model, gen)
        reinit_zeros(model, gen)
