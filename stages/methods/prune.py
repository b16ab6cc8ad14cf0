"""Prune: global unstructured L1-magnitude pruning pooled over every Conv2d/Linear weight and bias
(BatchNorm untouched), zeros made permanent (no mask kept: pruned weights may regrow), then the fine-tune."""
import torch
from torch.nn.utils import prune

from stages.config import Float
from stages.methods import base


def global_prune(model: torch.nn.Module, amount: float) -> None:
    """Zero the ``amount`` share of smallest-magnitude weights over the pooled Conv2d/Linear parameters."""
    params = base.prunable(model)
    prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=amount)
    for module, name in params:
        prune.remove(module, name)  # make the zeros permanent, drop the mask


class Method(base.Method):
    PARAMS = {"prune_amount": Float(min=0, max=1, max_open=True)}

    def edit(self, model, gen):
        global_prune(model, self.cfg["prune_amount"])
