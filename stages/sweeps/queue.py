"""Queue control: a sweep's experiments queued (an existing one reused), the queue workers started (one per GPU
with ``--gpus``) and waited for."""
from __future__ import annotations

import os
import sys
import time

from stages.core import progress, threads
from stages.sweeps import dvc_cli
from stages.sweeps.catalog import Sweep, exp_name, key_state


def queue_commands(name: str, sw: Sweep, params: dict) -> list[list[str]]:
    """Per value, ``dvc exp run --queue -n <sweep>-<value> -S key=value ... report@<task>`` (``-S +key=value`` for a
    key params.yaml does not hold yet: DVC's plain ``-S`` refuses to add a key)."""
    cmds = []
    for v, setting in zip(sw.values, sw.settings):
        sets = [x for k, val in setting.items()
                for x in ("-S", f"{'+' if key_state(k, params) == 'optional' else ''}{k}={val}")]
        cmds.append(["dvc", "exp", "run", "--queue", "-n", exp_name(name, v), *sets, f"report@{sw.task}"])
    return cmds


def enqueue(cmds: list[list[str]]) -> list[str]:
    """Queue each command's experiment unless this commit has one of that name already (reused, never queued twice);
    returns the experiments to wait for: those queued now and those still queued or running."""
    exps, waiting = dvc_cli.exp_show(), []
    for cmd in cmds:
        exp = cmd[cmd.index("-n") + 1]
        if exp in exps:
            print(f"{exp}: exists ({exps[exp]['state']}), reused, not queued again")
        else:
            dvc_cli.sh(*cmd)
            print(f"{exp}: queued")
        if exp not in exps or exps[exp]["state"] in ("queued", "running"):
            waiting.append(exp)
    return waiting


def start_workers(jobs: int, gpus: list[str]) -> None:
    """Start the queue workers; each stage they run learns from UNLEARN_JOBS how many share the CPU cores
    (:mod:`stages.core.threads`)."""
    if not gpus:
        env = {**os.environ, threads.JOBS_VAR: str(jobs)}
        print(dvc_cli.sh("dvc", "queue", "start", "-j", str(jobs), env=env).strip())
        return
    shared = {**os.environ, threads.JOBS_VAR: str(len(gpus))}  # all GPU workers run at once
    for k, gpu in enumerate(gpus, 1):  # worker k from `-j k` in its own environment, once worker k-1 is up
        print(f"CUDA_VISIBLE_DEVICES={gpu}:", dvc_cli.sh("dvc", "queue", "start", "-j", str(k),
                                                         env={**shared, "CUDA_VISIBLE_DEVICES": gpu}).strip())
        start = time.monotonic()
        while dvc_cli.queue_status()[1] < k and time.monotonic() - start < 60:
            time.sleep(1)


def wait(name: str, names: list[str], poll: float, grace: float = 120, restart=None, restart_after: float = 20) -> None:
    """Poll ``dvc queue status`` until none of ``names`` is queued or running (a bar over finished experiments).

    DVC's queue worker can exit while experiments are still queued (it idles a few seconds, then stops): when none
    is running for ``restart_after`` seconds and some of ``names`` are still queued, ``restart()`` starts the workers
    again (at most once per experiment). Without ``restart``, or when nothing is left to restart for, the wait ends
    after ``grace`` seconds without a worker, saying how to collect later."""
    pending, idle_since, restarts = set(names), time.monotonic(), 0
    with progress.bar(total=len(names), desc=f"sweep {name}", unit="exp") as bar:
        while pending:
            states, workers = dvc_cli.queue_status()
            for n in sorted(pending):
                if states.get(n) and not states[n] & {"Queued", "Running"}:
                    pending.discard(n)
                    bar.update(1)
                    if "Failed" in states[n]:
                        print(f"experiment {n} failed: `dvc queue logs {n}`", file=sys.stderr)
            idle = time.monotonic() - idle_since
            if workers or any("Running" in states.get(n, ()) for n in pending):
                idle_since = time.monotonic()
            elif (restart is not None and restarts < len(names) and idle > restart_after
                  and any("Queued" in states.get(n, ()) for n in pending)):
                print(f"the queue worker stopped with {', '.join(sorted(pending))} still queued: starting it again",
                      file=sys.stderr)
                restart()
                restarts += 1
                idle_since = time.monotonic()
            elif pending and idle > grace:
                print(f"no queue worker running, still waiting for {', '.join(sorted(pending))}: start one "
                      f"(`dvc queue start`) and collect later with --collect", file=sys.stderr)
                return
            if pending:
                time.sleep(poll)
