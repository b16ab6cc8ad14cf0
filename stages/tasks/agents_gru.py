"""Seed 003's multi-agent classifier on digits, forget a random 10 % of the training rows: MASMU / MASIMU.

The forget request is :mod:`stages.tasks.digits_random`'s (the draw is shared by both agent tasks, so GRU and LSTM
forget the same rows); the model is :mod:`stages.models.agents` with a GRU belief network (``rnn`` in
``tasks.<name>``), trained per task (its own Original: stage agents_train) with the recipe ``agents.train``.
The task belongs to the ``agents`` track (``tracks.agents``): the methods of ``agents.methods`` (finetune = MASMU, imu = MASIMU)
and the explainers of ``agents.explainers`` run on it (SIDU needs convolutional feature maps, which agents lack).
"""
from __future__ import annotations

from stages.core.config import Choice
from stages.tasks import digits_random

SYSTEMS = {("gru", "finetune"): "MASMU", ("gru", "imu"): "MASIMU", ("lstm", "finetune"): "MALMU",
           ("lstm", "imu"): "MALIMU"}


class AgentsGRU(digits_random.DigitsForgetRandom):
    PARAMS = {**digits_random.DigitsForgetRandom.PARAMS, "rnn": Choice("gru", "lstm")}
    TRACK = "agents"
    METHODS = "agents.methods"
    EXPLAINERS = "agents.explainers"
    RECIPE = "agents.train"
    OWN_ORIGINAL = True
    DRAW = "agents"
    PUBLISHED = "seed003_table2"

    def model_spec(self, cfg: dict) -> dict:
        keys = ("canvas", "agents", "steps", "window", "hidden", "start")
        return {"family": "agents", "in_channels": self.meta["channels"], "outputs": self.classes,
                "rnn": self.cfg["rnn"], **{k: cfg[k] for k in keys}}

    def system(self, method: str) -> str | None:
        """Seed 003's name of a method on this task's agents (finetune on GRU agents = MASMU, ...)."""
        return SYSTEMS.get((self.cfg["rnn"], method))

    def title(self):
        return (f"Multi-agent digits classifier ({self.cfg['rnn'].upper()} belief), forget a random "
                f"{self.cfg['share']:.0%} of the training rows")
