"""How many CPU threads a stage may use, so that stages running at the same time share the cores instead of
each taking all of them (several processes each running one thread per core slow every one of them down many
times over, far more than by the share they give up).

The rule, first match wins:

1. ``OMP_NUM_THREADS`` when set (users and torchrun set it): that many threads;
2. else the cores this process may run on (``len(os.sched_getaffinity(0))``, or ``os.cpu_count()`` where the
   affinity is unknown), divided by ``UNLEARN_JOBS``, rounded down;

and never fewer than 1.

``UNLEARN_JOBS``: how many stages run at once on this machine (a whole number >= 1; unset or empty: 1). Set it
when starting several pipelines side by side (``UNLEARN_JOBS=2 dvc repro a & UNLEARN_JOBS=2 dvc repro b``);
``python -m stages.sweep -j N`` sets it to N for the DVC queue workers it starts, which hand it on to every
stage they run. With neither variable set a stage uses every available core, as a stage alone always has.

The thread count can change the last bits of CPU results (the order of parallel sums), so runs meant to
reproduce each other byte for byte should use the same count (the same ``UNLEARN_JOBS``, or a fixed
``OMP_NUM_THREADS``).
"""
from __future__ import annotations

import logging
import os
import sys

JOBS_VAR = "UNLEARN_JOBS"
OMP_VAR = "OMP_NUM_THREADS"


def cores() -> int:
    """Cores this process may run on (its CPU affinity, which a container or ``taskset`` may restrict)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # no sched_getaffinity on this platform
        return os.cpu_count() or 1


def _positive_int(var: str, value: str) -> int:
    try:
        n = int(value.strip())
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"{var}={value!r}: expected a whole number >= 1")
    return n


def jobs() -> int:
    """Stages running at once: ``UNLEARN_JOBS`` (unset or empty: 1); a ValueError naming it when not >= 1."""
    value = os.environ.get(JOBS_VAR, "")
    return _positive_int(JOBS_VAR, value) if value.strip() else 1


def budget() -> tuple[int, str]:
    """(threads this process may use, why): the rule of the module docstring."""
    n_jobs = jobs()  # checked even when OMP_NUM_THREADS wins, so a bad value never goes unnoticed
    omp = os.environ.get(OMP_VAR, "")
    if omp.strip():
        # OpenMP allows a list per nesting level ("4,2"): the outer level is this process's threads
        return _positive_int(OMP_VAR, omp.split(",")[0]), f"{OMP_VAR}={omp.strip()}"
    n = cores()
    shared = f"{JOBS_VAR}={n_jobs}" if os.environ.get(JOBS_VAR, "").strip() else f"{JOBS_VAR} unset"
    return max(1, n // n_jobs), f"{n} cores // {shared}"


def count() -> int:
    """Threads this process may use (:func:`budget` without the reason)."""
    return budget()[0]


def workers(cap: int | None = None) -> int:
    """Size of a thread or process pool: the thread budget, at most ``cap`` (when given), at least 1."""
    n = count()
    return max(1, min(n, cap) if cap is not None else n)


def apply(log: logging.Logger | None = None) -> tuple[int, str]:
    """Give every thread pool the process has loaded the thread budget: torch's (when torch is imported) and the
    BLAS and OpenMP pools of numpy, scipy and scikit-learn (threadpoolctl), which size themselves to every core
    otherwise, so that two stages side by side each keep to their share. Every stage calls it once its libraries
    are imported (:class:`stages.core.stage.Stage`); log and return (threads, why)."""
    from threadpoolctl import threadpool_limits

    n, why = budget()
    if "torch" in sys.modules:  # a stage that does not use torch does not pay for importing it
        sys.modules["torch"].set_num_threads(n)
    threadpool_limits(n)
    (log or logging.getLogger(__name__)).info("threads: %d (%s)", n, why)
    return n, why


def deterministic_torch(log: logging.Logger | None = None) -> int:
    """Make torch's math deterministic (a warning where an operation has no deterministic version) for the training
    stages, leaving the thread pools as they are: every stage has applied the budget at its start
    (:class:`stages.core.stage.Stage` calls :func:`apply`), and a script outside a stage calls :func:`apply` first.
    Log and return the threads torch runs with."""
    import torch

    torch.use_deterministic_algorithms(True, warn_only=True)
    n = torch.get_num_threads()
    (log or logging.getLogger(__name__)).info("torch: deterministic algorithms, %d threads", n)
    return n
