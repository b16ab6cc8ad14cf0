"""Benchmark (not a test): what running stages side by side costs, with and without sharing the cores.

    python bench/concurrency.py [--steps 100] [--repeats 1] [--jobs 2] [--limit 6]

The target is a stand-in for a training stage: a child process that imports torch, takes its thread count from
:mod:`stages.core.threads` (as every stage does) and trains a small conv net for ``--steps`` fixed steps on CPU.
Per repeat it runs the target alone, then ``--jobs`` copies at once with ``UNLEARN_JOBS=<jobs>`` (each takes its
share of the cores), then ``--jobs`` copies at once without it (each takes every core, as before the division).
OMP_NUM_THREADS is removed from the children's environment, since it would override the rule being measured.

Prints a markdown table, medians over repeats: threads per process, the wall time from start until the last copy
ended (torch import included), the slowest copy's training loop alone, and each one's ratio to the target alone.
Doing ``jobs`` times the work on the same cores, the ideal ratio is ``jobs``; the goal for the shared run is at
most about 1.1 x that, while oversubscribed threads can be many times slower. A run slower than ``--limit`` x the
target alone is stopped and shown as ``> limit``, which bounds the default run to a few minutes on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(steps: int) -> None:
    """The target: train a small conv net for ``steps`` steps; print a JSON line (threads, why, train seconds)."""
    sys.path.insert(0, str(ROOT))
    import torch

    from stages.core import threads

    n, why = threads.apply()
    threads.deterministic_torch()
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(64, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(), torch.nn.Linear(64, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    x, y = torch.randn(64, 3, 32, 32), torch.randint(0, 10, (64,))
    t0 = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    print(json.dumps({"threads": n, "why": why, "train_s": time.perf_counter() - t0}), flush=True)


def launch(copies: int, steps: int, jobs_env: str | None, limit_s: float | None) -> dict:
    """Start ``copies`` targets at once; wall seconds until the last one ends (None: stopped at ``limit_s``)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "UNLEARN_JOBS")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if jobs_env is not None:
        env["UNLEARN_JOBS"] = jobs_env
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--steps", str(steps)]
    t0 = time.perf_counter()
    procs = [subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(copies)]
    outs, wall = [], None
    try:
        for p in procs:
            left = None if limit_s is None else max(0.0, limit_s - (time.perf_counter() - t0))
            out, _ = p.communicate(timeout=left)
            if p.returncode:
                raise SystemExit(f"target failed ({p.returncode}): {' '.join(cmd)}")
            outs.append(json.loads(out.strip().splitlines()[-1]))
        wall = time.perf_counter() - t0
    except subprocess.TimeoutExpired:
        pass
    finally:
        for p in procs:  # only the children started here
            if p.poll() is None:
                p.kill()
                p.wait()
    return {"wall_s": wall, "threads": outs[0]["threads"] if outs else None,
            "why": outs[0]["why"] if outs else None, "train_s": [o["train_s"] for o in outs]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=100, help="training steps per target (default 100)")
    p.add_argument("--repeats", type=int, default=1, help="rounds of the three runs; medians shown (default 1)")
    p.add_argument("--jobs", type=int, default=2, help="targets run at once (default 2)")
    p.add_argument("--limit", type=float, default=6.0,
                   help="stop a run slower than this many times the target alone (default 6)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        return child(a.steps)
    if min(a.steps, a.repeats, a.jobs) < 1 or a.limit <= 0:
        p.error("--steps, --repeats and --jobs must be >= 1, --limit > 0")

    sys.path.insert(0, str(ROOT))
    from stages.core import threads

    print(f"cores available: {threads.cores()}; target: {a.steps} steps; {a.jobs} at once; {a.repeats} repeat(s)",
          file=sys.stderr)
    walls = {"alone": [], "shared": [], "unshared": []}  # per repeat; None: stopped at the limit
    ratios = {name: [] for name in walls}
    trains = {name: [] for name in walls}  # the slowest copy's training loop, without its start-up
    train_ratios = {name: [] for name in walls}
    thread_counts = {}
    for r in range(a.repeats):
        alone = launch(1, a.steps, None, None)
        limit_s = a.limit * alone["wall_s"]
        for name, res in (("alone", alone), ("shared", launch(a.jobs, a.steps, str(a.jobs), limit_s)),
                          ("unshared", launch(a.jobs, a.steps, None, limit_s))):
            walls[name].append(res["wall_s"])
            ratios[name].append(res["wall_s"] and res["wall_s"] / alone["wall_s"])
            train = max(res["train_s"]) if res["wall_s"] else None
            trains[name].append(train)
            train_ratios[name].append(train and train / max(alone["train_s"]))
            thread_counts[name] = res["threads"] or thread_counts.get(name)
            shown = "stopped" if res["wall_s"] is None else f"{res['wall_s']:.1f} s"
            print(f"repeat {r + 1} {name}: {shown} ({res['why'] or 'no output'})", file=sys.stderr)
    # a stopped run printed nothing: its count from the rule (unshared: the same environment as the target alone)
    thread_counts["shared"] = thread_counts["shared"] or max(1, threads.cores() // a.jobs)
    thread_counts["unshared"] = thread_counts["unshared"] or thread_counts["alone"]

    def median(xs):  # None when any repeat was stopped
        return None if None in xs else statistics.median(xs)

    print(f"\n| run | UNLEARN_JOBS | at once | threads each | wall s | ratio | train s | train ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for name, env, copies in (("alone", "unset", 1), ("shared", str(a.jobs), a.jobs), ("unshared", "unset", a.jobs)):
        wall, ratio = median(walls[name]), median(ratios[name])
        wall_s = f"{wall:.1f}" if wall is not None else f"> {a.limit * statistics.median(walls['alone']):.1f}"
        ratio_s = f"{ratio:.2f}" if ratio is not None else f"> {a.limit:g}"
        train, train_ratio = median(trains[name]), median(train_ratios[name])
        train_s = f"{train:.1f}" if train is not None else "-"
        train_ratio_s = f"{train_ratio:.2f}" if train_ratio is not None else f"> {a.limit:g}"
        print(f"| {name} | {env} | {copies} | {thread_counts[name] or '?'} | {wall_s} | {ratio_s} | {train_s} "
              f"| {train_ratio_s} |")
    print(f"\nratio: to the target alone; ideal {a.jobs} ({a.jobs} x the work on the same cores). wall: processes "
          f"started to the last one ended (torch import included); train: the slowest copy's training loop.")

if __name__ == "__main__":
    main()
