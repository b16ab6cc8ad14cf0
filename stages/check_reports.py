"""Compare two sets of reports metric by metric, with their intervals.

    python -m stages.check_reports OLD NEW

OLD and NEW are each a folder (a repository root holding ``reports/``, or a ``reports`` folder itself) or a git
ref of this repository (``HEAD``, a branch, a commit). For every task present in both (``reports/<task>/
summary.json`` and ``intervals.json``), every model and metric: NEW's value outside OLD's 95 % interval is
counted and listed; OLD's and NEW's intervals that do not overlap are counted and listed as *disjoint*. Two
independent replicates of calibrated 95 % intervals are disjoint well under 1 % of the time, so a disjoint pair
means the two runs disagree beyond their stated uncertainty (another environment, another setting, a bug).
Prints one line per task; exits 1 when anything is disjoint. Not a pipeline stage: it reads reports only.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path


def _reports_dir(path: Path) -> Path:
    return path / "reports" if (path / "reports").is_dir() else path


def load(source: str) -> dict[str, dict]:
    """Task -> {"summary": ..., "intervals": ...} from a folder or a git ref."""
    path = Path(source)
    out = {}
    if path.is_dir():
        root = _reports_dir(path)
        for f in sorted(root.glob("*/intervals.json")):
            s = f.with_name("summary.json")
            if s.is_file():
                out[f.parent.name] = {"summary": json.loads(s.read_text()), "intervals": json.loads(f.read_text())}
        return out
    try:
        names = subprocess.run(["git", "ls-tree", "-r", "--name-only", source, "--", "reports"], check=True,
                               capture_output=True, text=True).stdout.split()
    except subprocess.CalledProcessError as e:
        raise SystemExit(f"check_reports: {source!r} is neither a folder nor a git ref ({e.stderr.strip()})")
    for name in names:
        parts = Path(name).parts
        if len(parts) == 3 and parts[2] == "intervals.json" and f"reports/{parts[1]}/summary.json" in names:
            show = lambda f: json.loads(subprocess.run(["git", "show", f"{source}:{f}"], check=True,  # noqa: E731
                                                       capture_output=True, text=True).stdout)
            out[parts[1]] = {"summary": show(f"reports/{parts[1]}/summary.json"), "intervals": show(name)}
    return out


def compare(old: dict, new: dict) -> dict[str, dict]:
    """Per task: compared (count), outside (NEW value outside OLD interval) and disjoint (intervals apart)."""
    result = {}
    for task in sorted(set(old) & set(new)):
        o_sum, o_iv, n_sum, n_iv = old[task]["summary"], old[task]["intervals"], new[task]["summary"], new[task]["intervals"]
        r = {"compared": 0, "outside": [], "disjoint": []}
        for m in o_sum:
            for k, v_old in o_sum[m].items():
                a, b = o_iv.get(m, {}).get(k), n_iv.get(m, {}).get(k)
                v_new = n_sum.get(m, {}).get(k)
                if v_old is None or v_new is None or not a or not b or None in (a.get("lo"), a.get("hi"),
                                                                                 b.get("lo"), b.get("hi")):
                    continue
                r["compared"] += 1
                if not a["lo"] <= v_new <= a["hi"]:
                    r["outside"].append(f"{m}.{k}: {v_new} not in [{a['lo']}, {a['hi']}] (was {v_old})")
                if a["hi"] < b["lo"] or b["hi"] < a["lo"]:
                    r["disjoint"].append(f"{m}.{k}: [{a['lo']}, {a['hi']}] vs [{b['lo']}, {b['hi']}]")
        result[task] = r
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m stages.check_reports", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("old", help="folder or git ref of the reference reports")
    p.add_argument("new", help="folder or git ref of the reports to check")
    p.add_argument("--list", action="store_true", help="list every value outside and every disjoint pair")
    a = p.parse_args(argv)
    old, new = load(a.old), load(a.new)
    if not set(old) & set(new):
        raise SystemExit(f"check_reports: no task with summary.json and intervals.json in both {a.old} and {a.new}")
    result = compare(old, new)
    for task, r in result.items():
        print(f"{task}: {r['compared']} metrics, {len(r['outside'])} new values outside the old interval, "
              f"{len(r['disjoint'])} disjoint intervals")
        for line in r["disjoint"] + (r["outside"] if a.list else []):
            print(f"  {line}")
    return 1 if any(r["disjoint"] for r in result.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
