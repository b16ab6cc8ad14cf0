"""Benchmark (not a test): wall and CPU time of a no-op `dvc repro` in a repository whose pipeline is up to date,
for the whole pipeline or for part of it.

    python bench/noop.py                                       # this repository, every stage, 9 runs
    python bench/noop.py --repo /tmp/clone --runs 15
    python bench/noop.py --drop per_task_ agents_             # the LTD and UTKFace part only

`--drop P...` times a hard-linked copy of the repository in which the stages whose names start with one of the
prefixes are removed from every dvc.yaml and lock file (the repository itself is not touched). Prints one JSON
line: stages, runs, per-run wall seconds, wall and CPU medians. The machine's load moves these figures by up to
a second between runs: compare configurations in one call each, run back to back, and read the medians.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml


def dvc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["dvc", *args], cwd=cwd, capture_output=True, text=True)


def link_or_copy(repo: Path, src: str, dst: str) -> None:
    """Hard-link data, models and code (fast, no extra space: a no-op writes none of them); copy what git and DVC
    rewrite in place (.git, .dvc/tmp's lock files), so that the copy never writes into the repository."""
    rel = Path(src).relative_to(repo).parts
    if rel[0] == ".git" or rel[:2] == (".dvc", "tmp"):
        shutil.copy2(src, dst)
    else:
        os.link(src, dst)


def drop_stages(root: Path, prefixes: tuple[str, ...]) -> None:
    """Remove the stages named ``prefix...`` from every dvc.yaml and dvc.lock under ``root`` (comments and YAML
    anchors are lost: the copy is only timed)."""
    for dvcfile in [root / "dvc.yaml", *sorted(root.glob("pipelines/*/dvc.yaml"))]:
        for path in (dvcfile, dvcfile.with_suffix(".lock")):
            if not path.exists():
                continue
            data = yaml.safe_load(path.read_text())
            data["stages"] = {k: v for k, v in data.get("stages", {}).items() if not k.startswith(prefixes)}
            path.unlink()  # a hard link: write a new file, never through the link
            path.write_text(yaml.safe_dump(data, sort_keys=False, width=200))


def stage_count(root: Path) -> int:
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        return len(repo.index.stages)


def time_runs(root: Path, runs: int) -> tuple[list[float], list[float]]:
    dvc("repro", "-q", cwd=root)  # warm the page cache and DVC's state database
    wall, cpu = [], []
    for _ in range(runs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        out = dvc("repro", "-q", cwd=root)
        wall.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
        if out.returncode:
            sys.exit(f"dvc repro failed in {root}:\n{out.stderr}")
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--drop", nargs="*", default=[], metavar="PREFIX", help="stage-name prefixes to remove")
    args = ap.parse_args()
    repo = args.repo.resolve()
    if dvc("status", "-q", cwd=repo).returncode:
        sys.exit(f"{repo}: the pipeline is not up to date (`dvc status`); a no-op needs every output in place")
    with tempfile.TemporaryDirectory(dir=repo.parent) as tmp:
        root = repo
        if args.drop:
            root = Path(tmp) / repo.name
            shutil.copytree(repo, root, symlinks=True, copy_function=lambda s, d: link_or_copy(repo, s, d))
            drop_stages(root, tuple(args.drop))
            if dvc("status", "-q", cwd=root).returncode:
                sys.exit(f"the copy without {args.drop} is not up to date:\n{dvc('status', cwd=root).stdout}")
        wall, cpu = time_runs(root, args.runs)
        print(json.dumps({"repo": str(repo), "dropped": args.drop, "stages": stage_count(root), "runs": args.runs,
                          "wall_s": [round(w, 2) for w in wall], "wall_median_s": round(statistics.median(wall), 2),
                          "cpu_median_s": round(statistics.median(cpu), 2)}))


if __name__ == "__main__":
    main()
