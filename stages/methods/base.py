"""The interface every unlearning method implements (one small module per method).

A method gets a :class:`Context`: the task, the frozen Original (an ensemble in eval mode, never edited: each
member the method trains is a copy), the data roles (``retain``, ``forget``, ``full``, ``val``, ...), the
fine-tune recipe ``unlearn.<task>``, the device and a seeded generator. Per ensemble member it may

- ``edit`` the copy's weights before the fine-tune (prune, reinit, confuse),
- choose its training data (``data``: ``retain`` = what must remain, ``full`` = all training rows with the
  forget mask, for methods that relabel the forget set themselves),
- relabel each batch (``target``: random labels),
- define its own per-batch loss (``batch_loss``: e.g. NegGrad+ subtracts the loss of a forget batch),
- act after every optimizer step (``post_step_for``: the anchored fine-tune's proximal step),
- or replace the whole loop (``fit``);
- and report what it measured about a run (``record``: e.g. IMU's I_w and the attributions it read).

``PARAMS`` is the schema of the method's own settings ``unlearn.methods.<name>`` in params.yaml (its DVC params,
besides the recipe); ``SHARED`` that of settings it reads directly under ``unlearn`` (``unlearn.sigma``: Confuse);
both arrive merged in ``cfg``. An optional ``epochs`` mapping ``{task: n}`` there overrides the recipe's epochs.
A new method is a module ``stages/methods/<name>.py`` defining ``class Method(base.Method)`` plus one line under
``unlearn.methods`` in params.yaml; ``stages.methods.get(name)`` finds it by name.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune

from stages.data.arrays import normalize
from stages.models import run
from stages.models.train import Recipe


@dataclass
class Context:
    task: object                 # stages.tasks.base.Task
    original: nn.Module          # the frozen Original ensemble (eval mode, requires_grad False)
    recipe: Recipe
    device: torch.device
    seed: int
    gen: torch.Generator
    repeat: int = 0              # which run of the Original ...
    repeats: int = 1             # ... of how many (the repeats param)
    _roles: dict = field(default_factory=dict)
    extra_images: int = 0        # images drawn by batch() (e.g. NegGrad+'s forget batches): counted in the cost

    def role(self, name: str):
        """Data of a role (stages.tasks.base.Data: x, y, forget, rows), loaded once."""
        if name not in self._roles:
            self._roles[name] = self.task.role(name)
        return self._roles[name]

    def batch(self, role: str, gen: torch.Generator, size: int | None = None):
        """A random batch of ``role`` (drawn with ``gen``): normalised images and targets on the device."""
        d = self.role(role)
        if len(d.x) == 0:
            raise ValueError(f"{self.task.name}: data role {role!r} is empty")
        idx = np.sort(torch.randint(len(d.x), (size or self.recipe.batch_size,), generator=gen).numpy())
        self.extra_images += len(idx)
        x = normalize(torch.as_tensor(np.asarray(d.x[idx])).to(self.device), self.task.meta)
        y = self.task.target_tensor(d.y[idx]).to(self.device)
        return x, y

    def autocast(self):
        if not self.recipe.amp:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)


class Method:
    PARAMS: dict = {}          # unlearn.methods.<name>.<key> -> config spec
    SHARED: dict = {}          # unlearn.<key> -> config spec: a setting placed directly under unlearn (a named knob)
    data: str = "retain"       # retain | full: the role the default fine-tune trains on

    def __init__(self, cfg: dict, ctx: Context):
        self.cfg, self.ctx = cfg, ctx

    def edit(self, model: nn.Module, gen: torch.Generator) -> None:
        """Change the weights of one member (a copy of the Original's) before the fine-tune (default: nothing)."""

    def target(self, y: torch.Tensor, forget: torch.Tensor | None, gen: torch.Generator) -> torch.Tensor:
        """Training targets of one batch (default: unchanged)."""
        return y

    def batch_loss(self, net: nn.Module, loss: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """The loss to minimise for a batch, given the task loss of the batch (default: that loss)."""
        return loss

    def record(self) -> dict:
        """What the method reports about its run, saved per repeat in ``models/<task>/<method>.json`` under
        ``method_record`` (default: nothing, and no such key)."""
        return {}

    def post_step_for(self, model: nn.Module, lr: float):
        """A function model -> None applied after every optimizer step, or None (default)."""
        return None

    def fit(self, model: nn.Module, seed: int, log=None) -> dict:
        """Fine-tune one member in place (default: the shared loop on ``data`` with the hooks above)."""
        task = self.ctx.task
        hooks = {}
        if type(self).target is not Method.target:
            hooks["target_fn"] = self.target
        if type(self).batch_loss is not Method.batch_loss:
            hooks["batch_loss"] = self.batch_loss
        return run.fit_task(task, model, task.training_data("unlearned", self.data), self.ctx.recipe, self.ctx.device,
                            seed, log=log, post_step=self.post_step_for(model, self.ctx.recipe.lr), **hooks)


# ---------------------------------------------------------------------------------------------- weight edits
# shared by several methods (prune, reinit)
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
