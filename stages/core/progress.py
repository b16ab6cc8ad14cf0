"""Progress bars (tqdm) on the loops that can run longer than a few seconds: training steps, SIDU mask chunks, LIME
images, IMU attributions, data preparation, sweeps.

Bars go to stderr, refresh at most once a second and vanish when done. They show when stderr is a terminal (an
interactive ``dvc repro``); in logs (CI, a queued experiment, tests) they are off. ``UNLEARN_PROGRESS=1`` forces them
on, ``UNLEARN_PROGRESS=0`` off. They never touch an output file.
"""
from __future__ import annotations

import os
import sys

from tqdm import tqdm


def enabled() -> bool:
    env = os.environ.get("UNLEARN_PROGRESS")
    if env in ("0", "1"):
        return env == "1"
    return sys.stderr.isatty()


def bar(iterable=None, desc: str | None = None, total: int | None = None, unit: str = "it", **kw) -> tqdm:
    return tqdm(iterable, desc=desc, total=total, unit=unit, mininterval=1.0, leave=False, dynamic_ncols=True,
                disable=not enabled(), file=sys.stderr, **kw)
