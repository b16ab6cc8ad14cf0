"""The ``dvc`` and ``git`` commands of a sweep, run as subprocesses, and their output parsed: the experiments of
``dvc exp show --json``, the task states and workers of ``dvc queue status``, a report file as an experiment
committed it."""
from __future__ import annotations

import json
import re
import subprocess
import tempfile


def sh(*cmd: str, env=None) -> str:
    """Run ``cmd``; its stdout, or SystemExit with its output when it fails.

    Its output goes to files, not pipes: the queue worker that ``dvc queue start`` leaves running would hold a pipe
    open until it exits."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        rc = subprocess.run(cmd, stdout=out, stderr=err, text=True, env=env).returncode
        out.seek(0), err.seek(0)
        if rc:
            raise SystemExit(f"{' '.join(cmd)} failed ({rc}):\n{out.read()}{err.read()}")
        return out.read()


def exp_show(all_commits: bool = False) -> dict[str, dict]:
    """The experiments of this commit (of every commit with ``all_commits``), as :func:`experiments` reads them."""
    return experiments(json.loads(sh("dvc", "exp", "show", "--json", *(["-A"] if all_commits else []))))


def experiments(show: list) -> dict[str, dict]:
    """``dvc exp show --json`` -> {name: {rev, state, params, metrics}}; the newest one where a name repeats."""
    out = {}
    for base in show:
        for exp in base.get("experiments") or []:
            for r in exp.get("revs") or []:
                data = r.get("data") or {}
                rec = {"rev": r["rev"], "state": (exp.get("executor") or {}).get("state") or "success",
                       "timestamp": data.get("timestamp") or "", "params": data.get("params") or {},
                       "metrics": {p: (m or {}).get("data") or {} for p, m in (data.get("metrics") or {}).items()}}
                if rec["state"] == "success" and r.get("error"):
                    rec["state"] = "failed"
                name = r.get("name") or exp.get("name")
                if name and (name not in out or rec["timestamp"] > out[name]["timestamp"]):
                    out[name] = rec
    return out


def queue_status() -> tuple[dict[str, set], int]:
    """``dvc queue status`` -> ({experiment name: its tasks' states}, number of running workers)."""
    return parse_queue_status(sh("dvc", "queue", "status"))


def parse_queue_status(text: str) -> tuple[dict[str, set], int]:
    """The text of ``dvc queue status`` -> ({experiment name: its tasks' states}, number of running workers)."""
    states, workers, cols = {}, 0, None
    for line in text.splitlines():
        if m := re.match(r"Worker status: (\d+) active, (\d+) idle", line):
            workers = int(m[1]) + int(m[2])
        elif line.startswith("Task") and "Status" in line:  # columns are aligned under the header's words
            cols = line.index("Name"), line.index("Created")
        elif cols and (tok := line.split()) and tok[-1] in ("Queued", "Running", "Success", "Failed"):
            if name := line[cols[0]:cols[1]].strip():
                states.setdefault(name, set()).add(tok[-1])
    return states, workers


def committed_json(rev: str, path: str) -> dict:
    """The JSON file ``path`` as commit ``rev`` holds it; {} where it holds none."""
    r = subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True, text=True)
    return json.loads(r.stdout) if r.returncode == 0 else {}
