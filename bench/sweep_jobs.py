"""Benchmark (not a test): `python -m stages.sweep` with one queue worker against two.

    python bench/sweep_jobs.py [--values 4] [--task utk]

Run it in a scratch clone whose pipeline is reproduced (`dvc repro` done, cache filled): it queues real DVC
experiments there. It runs the same sweep twice, as `stages.sweep` does (queue, start workers, wait, collect): once
with `-j 1`, once with `-j 2`, each over its own values of `evaluate.alpha` (re-evaluation only: evaluate and report
of the task rerun), so that DVC's run-cache cannot answer the second from the first. Prints the wall time of each
and their ratio; two workers share the cores (UNLEARN_JOBS=2, set by stages.sweep), so the ideal ratio j2 / j1 is
about 0.5 plus the part of an experiment that does not parallelise (DVC's own bookkeeping per experiment).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stages import sweep as cli  # noqa: E402
from stages.sweeps import catalog  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--values", type=int, default=4, help="experiments per run (default 4)")
    p.add_argument("--task", default="utk")
    args = p.parse_args()
    os.chdir(ROOT)
    n = args.values
    runs = {1: [3 + k for k in range(n)], 2: [3 + n + k for k in range(n)]}  # distinct alphas: no run-cache hits
    out, times = Path(tempfile.mkdtemp()), {}
    for jobs, values in runs.items():
        name = f"bench_j{jobs}"
        cli.SWEEPS[name] = catalog.sweep(f"alpha, {jobs} worker(s)", args.task, ["evaluate.alpha"], values,
                                         ["original", "retrain"], ["Forgetting"])
        t0 = time.monotonic()
        cli.main([name, "-j", str(jobs), "--poll", "2", "--out", str(out)])
        times[jobs] = time.monotonic() - t0
        print(f"-j {jobs}: {n} experiments in {times[jobs]:.0f} s", flush=True)
    print(f"| workers | experiments | wall time (s) |\n|---|---|---|\n| 1 | {n} | {times[1]:.0f} |\n"
          f"| 2 | {n} | {times[2]:.0f} |\n\n-j 2 / -j 1 = {times[2] / times[1]:.2f}")


if __name__ == "__main__":
    main()
