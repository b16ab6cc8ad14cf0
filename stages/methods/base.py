"""The interface every unlearning method implements (one small module per method).

A method gets a :class:`Context`: the task, the frozen Original (an ensemble in eval mode, never edited: each
member the method trains is a copy), the data roles (``retain``, ``forget``, ``full``, ``val``, ...), the
fine-tune recipe ``unlearn.<task>``, the device and a seeded generator. Per ensemble member it may

- ``edit`` the copy's weights before the fine-tune (prune, reinit, confuse),
- choose its training data (``data``: ``retain`` = what must remain, ``full`` = all training rows with the
  forget mask, for methods that relabel the forget set themselves, ``forget`` = the forget rows with the target the
  Original learned: gradient ascent),
- relabel each batch (``target``: random labels),
- define its own per-batch loss (``batch_loss``: e.g. NegGrad+ subtracts the loss of a forget batch, SCRUB adds the
  distance to the Original's output on the batch),
- act after every optimizer step (``post_step_for``: the anchored fine-tune's proximal step),
- do work of its own before each epoch with the loop's optimizer (``epoch_start``: SCRUB's max steps),
- or replace the whole loop (``fit``: SSD, which trains nothing);
- and report what it measured about a run (``record``: e.g. IMU's I_w and the attributions it read).

``PARAMS`` is the schema of the method's own settings ``unlearn.methods.<name>`` in params.yaml (its DVC params,
besides the recipe); ``SHARED`` that of settings it reads directly under ``unlearn`` (``unlearn.sigma``: Confuse);
both arrive merged in ``cfg``. An optional ``epochs`` mapping ``{task: n}`` there overrides the recipe's epochs. A
setting given per task (a mapping ``{task: value}``, or :class:`PerTask`: one value or such a mapping) is checked for
the stage's task by ``check_task``, which :func:`stages.methods.settings` calls before any data is read.
Every image a method pushes through a network besides the loop's own batches (forget batches, passes of the frozen
Original, importance passes) is counted in ``Context.extra_images``, which the stage adds to the run's images: the
deterministic cost of the method (``cost_images_vs_retrain``).

A new method is a module ``stages/methods/<name>.py`` defining one subclass of :class:`Method` under a name of its own
(``class GradientAscent(base.Method)`` in ``ga.py``) plus one line under ``unlearn.methods`` in params.yaml;
``stages.methods.get(name)`` finds it by the module's name (:mod:`stages.core.registry`).
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune

from stages.core.config import Int, List, ParamError, Section, Spec
from stages.data.arrays import normalize
from stages.models import run
from stages.models.augment import has_augment
from stages.models.fitting import Recipe


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

    def batches(self, x, y, batch_size: int | None = None, gen: torch.Generator | None = None, augment: bool = False):
        """Every row of uint8 images ``x`` (with targets ``y``) once, as normalised batches on the device: in row order,
        or shuffled with ``gen``; with ``augment`` the recipe's train-time augmentation (drawn with ``gen``). Each
        image is counted in ``extra_images``."""
        from stages.models.augment import augment_batch

        size = batch_size or self.recipe.batch_size
        order = torch.randperm(len(x), generator=gen) if gen is not None else torch.arange(len(x))
        for i in range(0, len(x), size):
            idx = np.sort(order[i:i + size].numpy())
            xb = torch.as_tensor(np.asarray(x[idx])).to(self.device)
            if augment and has_augment(self.recipe.augment):
                xb = augment_batch(xb, self.recipe.augment, gen)
            self.extra_images += len(idx)
            yield normalize(xb, self.task.meta), self.task.target_tensor(np.asarray(y)[idx]).to(self.device)

    def autocast(self):
        if not self.recipe.amp:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)


class Method:
    PARAMS: dict = {}          # unlearn.methods.<name>.<key> -> config spec
    SHARED: dict = {}          # unlearn.<key> -> config spec: a setting placed directly under unlearn (a named knob)
    data: str = "retain"       # retain | full | forget: the role the default fine-tune trains on

    def __init__(self, cfg: dict, ctx: Context):
        self.cfg, self.ctx = cfg, ctx

    @classmethod
    def check_task(cls, cfg: dict, task: str) -> None:
        """Validate the settings that ``cfg`` (the method's checked section) holds per task, for ``task``: called by
        :func:`stages.methods.settings`, so a missing or bad per-task value stops a stage before it reads data
        (default: nothing to check)."""

    def edit(self, model: nn.Module, gen: torch.Generator) -> None:
        """Change the weights of one member (a copy of the Original's) before the fine-tune (default: nothing)."""

    def target(self, y: torch.Tensor, forget: torch.Tensor | None, gen: torch.Generator) -> torch.Tensor:
        """Training targets of one batch (default: unchanged)."""
        return y

    def batch_loss(self, net: nn.Module, loss: torch.Tensor, gen: torch.Generator, x: torch.Tensor | None = None,
                   out: torch.Tensor | None = None) -> torch.Tensor:
        """The loss to minimise for a batch, given the task loss of the batch, its normalised images ``x`` and the
        model's output ``out`` on them (default: the task loss)."""
        return loss

    def epoch_start(self, epoch: int, net: nn.Module, opt, gen: torch.Generator) -> int:
        """Work before epoch ``epoch`` (1, 2, ...) with the loop's optimizer; returns the optimizer steps it took
        (default: none)."""
        return 0

    def record(self) -> dict:
        """What the method reports about its run, saved per repeat in ``models/<task>/<method>.json`` under
        ``method_record`` (default: nothing, and no such key)."""
        return {}

    def post_step_for(self, model: nn.Module, lr: float):
        """A function model -> None applied after every optimizer step, or None (default)."""
        return None

    def fit(self, model: nn.Module, seed: int, log=None, recipe: Recipe | None = None) -> dict:
        """Fine-tune one member in place (default: the shared loop on ``data`` with the hooks above; ``recipe``
        replaces the task's, e.g. with a method's own learning rate)."""
        task = self.ctx.task
        recipe = recipe or self.ctx.recipe
        hooks = {}
        for hook, name in (("target_fn", "target"), ("batch_loss", "batch_loss"), ("epoch_start", "epoch_start")):
            if getattr(type(self), name) is not getattr(Method, name):
                hooks[hook] = getattr(self, name)
        return run.fit_task(task, model, task.training_data("unlearned", self.data), recipe, self.ctx.device,
                            seed, log=log, post_step=self.post_step_for(model, recipe.lr), **hooks)


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


def random_offsets(n: int, lo: int, hi: int, gen: torch.Generator) -> torch.Tensor:
    """n integers drawn uniformly from {-hi, ..., -lo, lo, ..., hi} (random labels, SalUn's random targets)."""
    mag = torch.randint(lo, hi + 1, (n,), generator=gen)
    sign = torch.randint(0, 2, (n,), generator=gen) * 2 - 1
    return (mag * sign).float()


def offset_range(cfg: dict, method: str, task: str) -> tuple[int, int]:
    """The validated ``[lo, hi]`` of ``unlearn.methods.<method>.offset.<task>`` (random targets' offsets)."""
    key = f"unlearn.methods.{method}.offset.{task}"
    if task not in cfg["offset"]:
        raise ParamError(f"{key}: missing (the offset range [lo, hi] for this task)")
    lo, hi = List(Int(min=0), length=2).check(key, cfg["offset"][task])
    if lo > hi:
        raise ParamError(f"{key} = {[lo, hi]}: lo must not exceed hi")
    return lo, hi


class RandomTargets(Method):
    """Base of the methods that train on every row (``data: full``) with each forget row's target replaced, fresh
    every batch, by the task's ``shift_target`` of it and a :func:`random_offsets` offset in ``[lo, hi]``
    (``offset.<task>`` of the method's settings, :func:`offset_range`); retain rows keep their target. The settings
    are read under the method's plugin name, the name of the module defining the class."""
    PARAMS = {"offset": Section()}   # {task: [lo, hi]}
    data = "full"

    @classmethod
    def plugin_name(cls) -> str:
        """The method's name in params.yaml: its module's (``salun`` for ``stages.methods.salun.SalUn``)."""
        return cls.__module__.rsplit(".", 1)[-1]

    @classmethod
    def check_task(cls, cfg, task):
        offset_range(cfg, cls.plugin_name(), task)

    def __init__(self, cfg: dict, ctx: Context):
        super().__init__(cfg, ctx)
        self.lo, self.hi = offset_range(cfg, self.plugin_name(), ctx.task.name)

    def target(self, y, forget, gen):
        noisy = self.ctx.task.shift_target(y, random_offsets(len(y), self.lo, self.hi, gen))
        return torch.where(forget, noisy, y)


class PerTask(Spec):
    """A method setting given once for every task, or as a mapping {task: value} (checked per task by
    :func:`task_value`, which a method's ``check_task`` calls)."""

    def __init__(self, item: Spec, **kw):
        super().__init__(**kw)
        self.item = item

    def check(self, key, value):
        return value if isinstance(value, dict) else self.item.check(key, value)


def task_value(cfg: dict, method: str, key: str, task: str, spec: Spec):
    """The checked value of setting ``key`` of ``unlearn.methods.<method>`` for ``task`` (see :class:`PerTask`)."""
    full, value = f"unlearn.methods.{method}.{key}", cfg[key]
    if not isinstance(value, dict):
        return spec.check(full, value)
    if task not in value:
        raise ParamError(f"{full}.{task}: missing (one value for every task, or one per task)")
    return spec.check(f"{full}.{task}", value[task])
