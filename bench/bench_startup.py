"""Start-up cost of every stage module: the wall time of `python -c "import stages.<module>"` (median of a few runs)
and, with --detail, the heaviest imports of one module (from `python -X importtime`).

Every DVC stage is its own process, so this cost is paid once per stage: with ~100 stages it is a large share of a full
`dvc repro` (docs/performance.md, "How the pipeline got faster").

    python bench/bench_startup.py                 # every stage module
    python bench/bench_startup.py --detail explain
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def stage_modules() -> list[str]:
    return sorted(p.stem for p in (ROOT / "stages").glob("*.py") if p.stem != "__init__")


def import_time(module: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import stages.{module}"], cwd=ROOT, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def detail(module: str, top: int = 15) -> None:
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import stages.{module}"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stderr
    rows = []
    for line in err.splitlines()[1:]:
        parts = line.split("|")
        if len(parts) == 3:
            rows.append((int(parts[1]), parts[2].rstrip()))
    for cum, name in sorted(rows, reverse=True)[:top]:
        print(f"{cum / 1e6:7.2f} s  {name}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--detail", metavar="MODULE", help="heaviest cumulative imports of one stage module")
    a = p.parse_args()
    if a.detail:
        detail(a.detail)
        return
    base = import_time("core", a.runs)
    print(f"{'python + stages.core':28s} {base:6.2f} s")
    for m in stage_modules():
        print(f"{m:28s} {import_time(m, a.runs):6.2f} s")


if __name__ == "__main__":
    main()
