"""DVC's own cost of a no-op `dvc repro`: N trivial stages (one 1-byte dependency, one output, K params each) in a
scratch repository, timed like the pipeline's no-op. What is left above this floor is the pipeline's own
(its dependencies, outputs and lock files).

    python bench/noop_floor.py --stages 92 --runs 5                   # tiny params file
    python bench/noop_floor.py --stages 92 --params params.yaml       # this project's params.yaml, K real keys

Prints one JSON line: stages, params nodes, per-run seconds, median.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import yaml


def leaves(tree, prefix=""):
    """Dotted keys of the params tree's leaves (lists count as leaves, as DVC tracks them)."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from leaves(v, f"{prefix}{k}.")
    else:
        yield prefix[:-1]


def nodes(tree) -> int:
    if isinstance(tree, dict):
        return len(tree) + sum(nodes(v) for v in tree.values())
    if isinstance(tree, list):
        return 1 + sum(nodes(v) for v in tree)
    return 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stages", type=int, default=92)
    ap.add_argument("--params", help="params file to copy (default: a tiny one, one key per stage)")
    ap.add_argument("--keys", type=int, default=5, help="params keys per stage with --params")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        run = lambda *c: subprocess.run(c, cwd=root, check=True, capture_output=True)  # noqa: E731
        run("git", "init", "-q")
        run("dvc", "init", "-q")
        if args.params:
            params = yaml.safe_load(Path(args.params).read_text())
            keys = sorted(leaves(params))
        else:
            params = {"p": {f"s{i}": i for i in range(args.stages)}}
            keys = None
        (root / "params.yaml").write_text(Path(args.params).read_text() if args.params else yaml.safe_dump(params))
        stages = {}
        for i in range(args.stages):
            (root / f"dep{i % 5}.txt").write_text("x")
            own = [keys[(i * args.keys + j) % len(keys)] for j in range(args.keys)] if keys else [f"p.s{i}"]
            stages[f"s{i}"] = {"cmd": f"echo {i} > out{i}.txt", "deps": [f"dep{i % 5}.txt"], "params": own,
                               "outs": [f"out{i}.txt"]}
        (root / "dvc.yaml").write_text(yaml.safe_dump({"stages": stages}))
        run("dvc", "repro", "-q")
        run("git", "add", "-A")
        run("git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "floor")
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            run("dvc", "repro", "-q")
            times.append(round(time.perf_counter() - t, 2))
    print(json.dumps({"stages": args.stages, "params_nodes": nodes(params), "runs_s": times,
                      "median_s": statistics.median(times)}))


if __name__ == "__main__":
    main()
