"""Random labels (seed 001): train on the full training set where each forget-set label gets a fresh offset
drawn every batch from {-hi..-lo, lo..hi} (thesis: +-[3, 6] years), applied by the task's ``shift_target``:
clipped to the target range for regression, modulo the class count for classification (offset 1..K-1: a random
*other* class, fresh every batch). ``offset`` is given per task (in the task's target units).

LTD adaptation (documented): the forget set is the frames that contain the forget class; their target is
y' (the retain target) plus the same kind of fresh random offset (in objects), clipped to [0, max count].
Retain rows always keep their label."""
from stages.methods import base
from stages.methods.base import random_offsets  # noqa: F401  (re-exported: random_labels.random_offsets)


class RandomLabels(base.RandomTargets):
    """Random labels: :class:`stages.methods.base.RandomTargets` unchanged (``unlearn.methods.random_labels``)."""
