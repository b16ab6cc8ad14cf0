"""Finetune: only the fine-tune on what must remain (seed 000: 3 epochs SGD 5e-3; seed 001: retain set)."""
from stages.methods import base


class Finetune(base.Method):
    pass
