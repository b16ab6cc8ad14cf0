"""Sweeps: the papers' experiments in one command. Not a stage: it drives DVC experiments of the whole pipeline.
This module is the command line; the sweeps and their parts are the package :mod:`stages.sweeps`.

    python -m stages.sweep --help                  # every sweep, one line each
    python -m stages.sweep alpha --dry-run         # print the `dvc exp run --queue ...` commands, run nothing
    python -m stages.sweep alpha -j 2              # queue, run 2 at a time, wait, collect
    python -m stages.sweep alpha --gpus 0,1        # as -j 2, worker i pinned to GPU i (CUDA_VISIBLE_DEVICES)
    python -m stages.sweep alpha --collect         # only collect experiments that already ran

One DVC experiment per swept value, named ``<sweep>-<value>``, limited to the task's chain (target
``report@<task>``): ``dvc exp run --queue -n <name> -S key=value ... report@<task>`` (``-S +key=value`` for a key that
params.yaml does not hold yet, such as ``unlearn.methods.finetune.epochs.utk``: DVC's plain ``-S`` refuses to add a
key), then ``dvc queue start -j N`` and a wait on ``dvc queue status``. An experiment name that already exists on
this commit is reused, never queued twice. Collecting reads each experiment's ``reports/<task>/summary.json`` (its
value: the mean over the ``repeats`` training runs) from ``dvc exp show --json`` and ``intervals.json`` (the 95 %
interval over runs and samples) from the experiment's commit, and writes
``reports/sweeps/<name>/`` table.md, results.csv and figure.png, with the published values beside ours.

One GPU per worker: queue workers inherit the environment of the ``dvc queue start`` that spawned them, and worker
k of a repository is started only by a ``dvc queue start -j n`` with n >= k (a worker already running is skipped,
so ``CUDA_VISIBLE_DEVICES=1 dvc queue start -j 1`` after worker 1 is up starts nothing). Hence, worker by worker,
once the previous one shows in ``dvc queue status``: ``CUDA_VISIBLE_DEVICES=0 dvc queue start -j 1``, then
``CUDA_VISIBLE_DEVICES=1 dvc queue start -j 2``, ... which is what ``--gpus 0,1,...`` does.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stages.core import config
from stages.sweeps import collect, queue
from stages.sweeps.catalog import SWEEPS, check_keys


def main(argv=None) -> int:
    """Queue the sweep's experiments (or print their commands), start the workers, wait, collect; the exit status."""
    args = parse_args(argv)
    name, sw = args.name, SWEEPS[args.name]
    params = config.read_params()
    check_keys(sw, params)
    cmds = queue.queue_commands(name, sw, params)
    if args.dry_run:
        print("\n".join(" ".join(c) for c in cmds))
        return 0
    if not args.collect:
        waiting = queue.enqueue(cmds)
        if waiting:
            gpus = [g for g in args.gpus.split(",") if g.strip()]
            queue.start_workers(args.jobs, gpus)
            queue.wait(name, waiting, args.poll, restart=lambda: queue.start_workers(args.jobs, gpus))
    return collect.collect(name, sw, Path(args.out))


def parse_args(argv=None) -> argparse.Namespace:
    """The command line: the sweep's name and how to run it (``--help`` lists every sweep)."""
    p = argparse.ArgumentParser(
        prog="python -m stages.sweep", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Queue, run and collect the DVC experiments of a named sweep -> reports/sweeps/<name>/.",
        epilog="sweeps:\n" + "\n".join(f"  {n:<14} {s.doc}" for n, s in SWEEPS.items())
        + "\n\nOne GPU per worker: --gpus 0,1 starts worker k with CUDA_VISIBLE_DEVICES=<k-th id> "
          "(see docs/design.md, 'Sweeps').")
    p.add_argument("name", choices=list(SWEEPS), metavar="name", help="the sweep (listed below)")
    p.add_argument("-j", "--jobs", type=int, default=1, help="queue workers: experiments run at a time (default 1)")
    p.add_argument("--gpus", default="", help="comma-separated GPU ids, one queue worker each (overrides -j)")
    p.add_argument("--dry-run", action="store_true", help="print the dvc exp run --queue commands and exit")
    p.add_argument("--collect", action="store_true", help="only collect the experiments that already ran")
    p.add_argument("--poll", type=float, default=10, help="seconds between dvc queue status polls")
    p.add_argument("--out", default="reports/sweeps", help="reports folder (default reports/sweeps)")
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
