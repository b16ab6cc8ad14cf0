"""Anchored fine-tune (seed 004): fine-tune on what must remain with loss + lambda * ||theta - theta_0||^2,
theta_0 the Original weights (every trainable parameter), against the drift plain fine-tuning shows.

The quadratic anchor is applied exactly, as a proximal (implicit) step after every optimizer step:
theta <- theta_0 + (theta - theta_0) / (1 + 2 * lr * lambda), the minimiser of
lambda * ||theta - theta_0||^2 + ||theta - theta_step||^2 / (2 * lr). To first order in lr * lambda this is the
gradient step of the penalty; unlike it, it is stable for any lambda (a huge lambda keeps theta_0 exactly)."""
import torch

from stages.core.config import Float
from stages.methods import base


class AnchoredFinetune(base.Method):
    PARAMS = {"lambda": Float(min=0)}

    def post_step_for(self, model, lr):
        shrink = 1.0 / (1.0 + 2.0 * lr * self.cfg["lambda"])
        anchor = [(p, p.detach().clone()) for p in model.parameters() if p.requires_grad]

        @torch.no_grad()
        def post_step(_model):
            for p, p0 in anchor:
                p.sub_(p0).mul_(shrink).add_(p0)
        return post_step
