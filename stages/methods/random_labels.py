"""Random labels (seed 001): train on the full training set where each forget-set label gets a fresh offset
drawn every batch from {-hi..-lo, lo..hi} (thesis: +-[3, 6] years), applied by the task's ``shift_target``:
clipped to the target range for regression, modulo the class count for classification (offset 1..K-1: a random
*other* class, fresh every batch). ``offset`` is given per task (in the task's target units).

LTD adaptation (documented): the forget set is the frames that contain the forget class; their target is
y' (the retain target) plus the same kind of fresh random offset (in objects), clipped to [0, max count].
Retain rows always keep their label."""
import torch

from stages.core.config import Int, List, ParamError, Section
from stages.methods import base


def random_offsets(n: int, lo: int, hi: int, gen: torch.Generator) -> torch.Tensor:
    """n integers drawn uniformly from {-hi, ..., -lo, lo, ..., hi}."""
    mag = torch.randint(lo, hi + 1, (n,), generator=gen)
    sign = torch.randint(0, 2, (n,), generator=gen) * 2 - 1
    return (mag * sign).float()


class Method(base.Method):
    PARAMS = {"offset": Section()}   # {task: [lo, hi]}
    data = "full"

    def __init__(self, cfg, ctx):
        super().__init__(cfg, ctx)
        key = f"unlearn.methods.random_labels.offset.{ctx.task.name}"
        if ctx.task.name not in cfg["offset"]:
            raise ParamError(f"{key}: missing (the offset range [lo, hi] for this task)")
        self.lo, self.hi = List(Int(min=0), length=2).check(key, cfg["offset"][ctx.task.name])
        if self.lo > self.hi:
            raise ParamError(f"{key} = {[self.lo, self.hi]}: lo must not exceed hi")

    def target(self, y, forget, gen):
        off = random_offsets(len(y), self.lo, self.hi, gen)
        noisy = self.ctx.task.shift_target(y, off)
        return torch.where(forget, noisy, y)
