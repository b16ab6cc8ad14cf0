"""Seeds: the seed of a stage derived from the master seed and its identity, and the global random generators
seeded from it."""
from __future__ import annotations

import hashlib
import random

import numpy as np


def derive_seed(seed: int, *parts) -> int:
    """A seed derived from the master ``seed`` and a stage identity (task, model, member, repeat ...).

    A stable hash of the names (never a position in a list), so adding a method leaves the others' seeds as
    they were. Returns an integer in [0, 2**31).
    """
    key = "/".join([str(seed), *map(str, parts)]).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % 2**31


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's global generators (numpy takes the seed modulo 2**32)."""
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
