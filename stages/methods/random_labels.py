"""Random labels (seed 001): train on the full training set where each forget-set label gets a fresh offset
drawn every batch from {-hi..-lo, lo..hi} (thesis: +-[3, 6] years), clipped to the target range.

LTD adaptation (documented): the forget set is the frames that contain the forget class; their target is
y' (the retain target) plus the same kind of fresh random offset (in objects), clipped to [0, max count].
Retain rows always keep their label."""
import torch

from stages.config import Int, List
from stages.methods import base


def random_offsets(n: int, lo: int, hi: int, gen: torch.Generator) -> torch.Tensor:
    """n integers drawn uniformly from {-hi, ..., -lo, lo, ..., hi}."""
    mag = torch.randint(lo, hi + 1, (n,), generator=gen)
    sign = torch.randint(0, 2, (n,), generator=gen) * 2 - 1
    return (mag * sign).float()


class Method(base.Method):
    PARAMS = {"random_offset": {"ltd": List(Int(min=0), length=2), "utk": List(Int(min=0), length=2)}}
    data = "full"

    def target(self, y, forget, gen):
        lo, hi = self.cfg["random_offset"]
        if lo > hi:
            raise ValueError(f"random_offset = {[lo, hi]}: lo must not exceed hi")
        off = random_offsets(len(y), lo, hi, gen)
        noisy = (y + off).clamp(*self.target_range)
        return torch.where(forget, noisy, y)
