"""Reinit: as Prune, then every zeroed weight redrawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)); then the fine-tune."""
from stages.core.config import Float
from stages.methods import base
from stages.methods.base import global_prune, reinit_zeros


class Reinit(base.Method):
    PARAMS = {"amount": Float(min=0, max=1, max_open=True)}

    def edit(self, model, gen):
        global_prune(model, self.cfg["amount"])
        reinit_zeros(model, gen)
