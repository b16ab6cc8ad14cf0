"""Per-stage wall times of a `dvc repro` log (not a test): from each stage's first log line to the next stage's.

    dvc repro 2>&1 | tee repro.log; python bench/stage_times.py repro.log

Prints every stage and the sums per stage family (train@, unlearn@<task>, explain@<task>, ...). The first stage's
start-up and DVC's own bookkeeping between stages are counted in the stage before.
"""
from __future__ import annotations

import datetime as dt
import re
import sys


def main(path: str) -> None:
    cur, first = None, {}
    order = []
    for line in open(path):
        m = re.match(r"Running stage '(.+)':", line)
        if m:
            cur = m.group(1).rsplit(":", 1)[-1]  # 'pipelines/unlearn/dvc.yaml:unlearn@ltd-prune' -> 'unlearn@ltd-prune'
            continue
        t = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+)", line)
        if t and cur and cur not in first:
            first[cur] = dt.datetime.strptime(t.group(1), "%Y-%m-%d %H:%M:%S,%f")
            order.append(cur)
    groups: dict[str, float] = {}
    for i, s in enumerate(order[:-1]):
        d = (first[order[i + 1]] - first[s]).total_seconds()
        fam = s.split("@")[0] + ("@" + s.split("@")[1].split("-")[0] if "@" in s else "")
        groups[fam] = groups.get(fam, 0.0) + d
        print(f"{s:45s} {d:7.1f} s")
    print("\nper family:")
    for g, d in groups.items():
        print(f"{g:30s} {d:7.1f} s")


if __name__ == "__main__":
    main(sys.argv[1])
