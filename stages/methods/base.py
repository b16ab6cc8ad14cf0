"""The interface every unlearning method implements (one small module per method).

A method starts from the task's Original model and may
- ``edit`` each member's weights before the fine-tune (prune, reinit, confuse),
- choose its training data (``data``: ``retain`` = what must remain, ``full`` = all training rows with the
  forget mask, for methods that relabel the forget set themselves),
- relabel each batch (``target``: random labels),
- act after every optimizer step (``post_step_for``: the anchored fine-tune's proximal anchor step),
then fine-tunes with the task's recipe ``unlearn.<task>``. ``PARAMS`` lists the keys of the ``unlearn``
section the method reads (its DVC params, besides the recipe), with their validation specs.

A new method is a module ``stages/methods/<name>.py`` defining ``class Method(base.Method)`` plus one
``dvc.yaml`` entry; ``stages.methods.get(name)`` finds it by name.
"""
from __future__ import annotations

import torch
from torch import nn


class Method:
    PARAMS: dict = {}          # unlearn.<key> -> config spec
    data: str = "retain"       # retain | full

    def __init__(self, cfg: dict, target_range: tuple[float, float] = (0.0, float("inf"))):
        self.cfg = cfg
        self.target_range = target_range

    def edit(self, model: nn.Module, gen: torch.Generator) -> None:
        """Change the weights of one member in place before the fine-tune (default: nothing)."""

    def target(self, y: torch.Tensor, forget: torch.Tensor | None, gen: torch.Generator) -> torch.Tensor:
        """Training targets of one batch (default: unchanged)."""
        return y

    def post_step_for(self, model: nn.Module, lr: float):
        """A function model -> None applied after every optimizer step, or None (default)."""
        return None


def prunable(model: nn.Module) -> list[tuple[nn.Module, str]]:
    """(module, parameter name) of every Conv2d/Linear weight and existing bias: the pool pruned globally."""
    out = []
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            out.append((m, "weight"))
            if m.bias is not None:
                out.append((m, "bias"))
    return out
