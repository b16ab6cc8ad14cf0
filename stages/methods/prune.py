"""Prune: global unstructured L1-magnitude pruning pooled over every Conv2d/Linear weight and bias
(BatchNorm untouched), zeros made permanent (no mask kept: pruned weights may regrow), then the fine-tune."""
from stages.core.config import Float
from stages.methods import base
from stages.methods.base import global_prune  # noqa: F401  (re-exported: prune.global_prune)


class Prune(base.Method):
    PARAMS = {"amount": Float(min=0, max=1, max_open=True)}

    def edit(self, model, gen):
        global_prune(model, self.cfg["amount"])
