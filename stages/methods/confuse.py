"""Confuse: every conv kernel spatially transposed, plus N(0, sigma^2) noise on conv weights
(``sigma``: ``unlearn.sigma`` in params.yaml); the last Linear
re-initialised (Xavier-uniform weight, zero bias); then the fine-tune. Vectorised per layer (ResNet kernels are
square; a non-square kernel is an error)."""
import torch
from torch import nn

from stages.core.config import Float
from stages.methods import base


@torch.no_grad()
def confuse(model: nn.Module, sigma: float, gen: torch.Generator) -> None:
    last = None
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            if m.kernel_size[0] != m.kernel_size[1]:
                raise ValueError(f"confuse: kernel {m.kernel_size} is not square, its transpose changes the layer")
            noise = (torch.randn(m.weight.shape, generator=gen) * sigma).to(m.weight.device, m.weight.dtype)
            m.weight.copy_(m.weight.transpose(-1, -2) + noise)  # (out, in, kh, kw): every kernel transposed
        elif isinstance(m, nn.Linear):
            last = m
    if last is not None:
        # the default generator draws the Xavier init; seed it from ``gen`` so the edit is reproducible
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(torch.randint(2**31 - 1, (1,), generator=gen)))
            nn.init.xavier_uniform_(last.weight)
        nn.init.zeros_(last.bias)


class Confuse(base.Method):
    SHARED = {"sigma": Float(min=0)}  # unlearn.sigma: the noise is the pipeline's named knob

    def edit(self, model, gen):
        confuse(model, self.cfg["sigma"], gen)
