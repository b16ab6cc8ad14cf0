"""Sharing results between machines through a DVC remote and the run-cache (README "Sharing results",
docs/design.md "Sharing results (DVC remote and run-cache)"): a local-folder remote stands for the shared storage
and two git clones for two machines.

Machine A runs a one-stage pipeline for two values of a param, each run followed by ``dvc push --run-cache``
(the workspace's outputs and the run-cache records), and commits the pipeline with the lock of the second. Machine
B clones the git repo and pulls (``dvc pull --run-cache``): ``dvc repro`` finds nothing changed; after going back
to the first param value, which no committed dvc.lock holds (only the run-cache, keyed by the stage's command,
deps and params, knows it), ``dvc repro --pull`` restores its output from the remote instead of running the
command. (``push --run-cache`` sends only the run records beside the current workspace's outputs, hence the push
after each run; ``--pull`` fetches the outputs a run-cache hit needs.) The command counts its runs in a file
outside both repos: 2 in total, both on A.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

SCRIPT = """\
import os, sys
scale = int(open("params.yaml").read().split(":")[1])
value = int(open("input.txt").read())
with open(os.environ["RUN_COUNTER"], "a") as f:
    f.write("%d\\n" % scale)
open("out.txt", "w").write("%d\\n" % (scale * value))
"""


def sh(cwd, *cmd):
    # timeout: a hang guard only; each command takes about a second, far below it
    r = subprocess.run(["nice", "-n", "10", *cmd], cwd=cwd, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "DVC_NO_ANALYTICS": "1", "RUN_COUNTER": str(cwd.parent / "runs.txt")})
    assert r.returncode == 0, f"{' '.join(cmd)}:\n{r.stdout}\n{r.stderr}"
    return r.stdout + r.stderr


def dvc(cwd, *args):
    return sh(cwd, sys.executable, "-m", "dvc", *args)


def git(cwd, *args):
    return sh(cwd, "git", "-c", "user.name=t", "-c", "user.email=t@t", *args)


def runs(tmp_path) -> list[int]:
    path = tmp_path / "runs.txt"
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def test_second_clone_restores_from_remote_run_cache(tmp_path):
    a, b, remote = tmp_path / "a", tmp_path / "b", tmp_path / "remote"
    a.mkdir()
    git(a, "init", "-q")
    dvc(a, "init", "-q")
    (a / "scale.py").write_text(SCRIPT)
    (a / "input.txt").write_text("7\n")
    (a / "params.yaml").write_text("scale: 2\n")
    stage = {"cmd": f"{sys.executable} scale.py", "deps": ["scale.py", "input.txt"], "params": ["scale"],
             "outs": ["out.txt"]}
    (a / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"scale": stage}}))
    dvc(a, "remote", "add", "-d", "shared", str(remote))
    dvc(a, "repro")
    dvc(a, "push", "--run-cache")
    (a / "params.yaml").write_text("scale: 3\n")
    dvc(a, "repro")
    dvc(a, "push", "--run-cache")
    assert runs(tmp_path) == [2, 3] and (a / "out.txt").read_text() == "21\n"
    git(a, "add", ".")
    git(a, "commit", "-q", "-m", "pipeline")

    git(tmp_path, "clone", "-q", str(a), str(b))
    assert not (b / "out.txt").exists()
    dvc(b, "pull", "--run-cache")
    assert (b / "out.txt").read_text() == "21\n"
    assert json.loads(dvc(b, "status", "--json").strip().splitlines()[-1]) == {}  # outputs match the lock
    dvc(b, "repro")
    assert runs(tmp_path) == [2, 3]  # nothing ran on B
    # a param value only the run-cache knows (no committed dvc.lock has it): restored, not recomputed
    (b / "params.yaml").write_text("scale: 2\n")
    dvc(b, "repro", "--pull")
    assert (b / "out.txt").read_text() == "14\n"
    assert runs(tmp_path) == [2, 3]  # the command ran twice in all, both times on A
