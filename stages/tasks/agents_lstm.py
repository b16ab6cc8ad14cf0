"""Seed 003's multi-agent classifier with an LSTM belief network: MALMU / MALIMU (see :mod:`.agents_gru`, the same
task with ``rnn: lstm`` in ``tasks.agents_lstm``)."""
from __future__ import annotations

from stages.tasks import agents_gru


class AgentsLSTM(agents_gru.AgentsGRU):
    pass
