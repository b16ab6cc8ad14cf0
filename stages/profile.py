"""A profile file applied as a DVC experiment: ``profiles/<name>.yaml`` -> ``dvc exp run -S key=value ...``.

    python -m stages.profile paper            # print the command
    python -m stages.profile paper --run -n paper-1   # run it (arguments after --run go to dvc exp run)

A profile holds dotted params.yaml keys and their values (``profiles/paper.yaml``: the published works' settings;
``profiles/quick.yaml``: the defaults of the same keys; ``profiles/images.yaml``: your own image folder and its task).
Before printing anything it checks that every key is in params.yaml (or is an optional key a stage accepts, such as a
method's own ``epochs.<task>``, or a key of a task or dataset the profile adds, such as ``train.images.epochs``:
written ``-S +key=...`` as DVC requires for a key it adds) and that params.yaml with the profile applied passes every
stage's validation (:func:`stages.check_params.check`), so a typo in a profile stops here instead of hours into a GPU
run.
"""
from __future__ import annotations

import argparse
import copy
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from stages import check_params, tasks
from stages.core import config
from stages.sweeps import catalog

PROFILES = Path("profiles")


def load(name: str, folder: Path = PROFILES) -> dict:
    """The profile's ``{dotted key: value}`` (a missing file names the known profiles)."""
    path = folder / f"{name}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in folder.glob("*.yaml"))
        raise SystemExit(f"{path}: no such profile (known: {', '.join(known) or 'none'})")
    data = yaml.load(path.read_text(), Loader=config._UniqueKeyLoader) or {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise config.ParamError(f"{path}: expected a mapping of dotted params.yaml keys to values")
    return data


# the mappings whose entries are tasks or datasets: a profile may add an entry (a task, a dataset: an image folder)
ENTRIES = (tasks.SECTION, "data")


def added(profile: dict, params: dict) -> set[str]:
    """The task and dataset names the profile adds: ``<list>.<name>.*`` keys of a name the list does not hold yet."""
    out = set()
    for key in profile:
        parts = key.split(".")
        for entries in ENTRIES:
            head = entries.split(".")
            if parts[:len(head)] == head and len(parts) > len(head):
                try:
                    node = config.get(params, entries)
                except config.ParamError:
                    continue
                if isinstance(node, dict) and parts[len(head)] not in node:
                    out.add(parts[len(head)])
    return out


def state(params: dict, key: str, new: set[str] = frozenset()) -> str:
    """'set' or 'optional' as :func:`stages.sweeps.catalog.key_state` says (a method's ``epochs.<task>`` is optional there),
    else 'optional' for a task not yet named under a ``repeats`` mapping (it takes the default) or an entry named
    after a task or dataset in ``new``, which the profile adds (``train.images.epochs``,
    ``explain.n_images.images``), else 'missing'."""
    got = catalog.key_state(key, params)
    if got != "missing":
        return got
    parts = key.split(".")
    if parts[0] == "repeats" and len(parts) == 2 and isinstance(params.get("repeats"), dict):
        return "optional"
    for i in range(1, len(parts)):  # the first absent part: a new task or dataset under an existing mapping
        try:
            node = config.get(params, ".".join(parts[:i]))
        except config.ParamError:
            return "missing"
        if not isinstance(node, dict):
            return "missing"
        if parts[i] not in node:
            return "optional" if parts[i] in new else "missing"
    return "missing"


def apply(params: dict, profile: dict) -> dict:
    """A copy of ``params`` with every key of the profile set (parents created for optional keys)."""
    out = copy.deepcopy(params)
    for key, value in profile.items():
        node, *path, last = [out, *key.split(".")]
        for p in path:
            node = node.setdefault(p, {})
        node[last] = value
    return out


def overrides(profile: dict, params: dict) -> list[str]:
    """The ``-S`` values, in the profile's order; ``+key=value`` for a key params.yaml does not hold yet."""
    new = added(profile, params)
    missing = [k for k in profile if state(params, k, new) == "missing"]
    if missing:
        raise config.ParamError(f"profile key {missing[0]}: not in params.yaml")
    return [f"{'+' if state(params, key, new) == 'optional' else ''}{key}={hydra_value(value)}"
            for key, value in profile.items()]


PLAIN = re.compile(r"^[A-Za-z0-9_./-]+$")  # a string Hydra's override grammar reads as itself, unquoted


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def hydra_value(value) -> str:
    """``value`` in the grammar of DVC's ``-S`` (Hydra's overrides), read back as the same value: a string that would
    read as another type (``true``, ``null``, ``1e5``) or holds other characters (a file name with a space, a comma, a
    quote) is single-quoted, with a quote and the backslashes before it escaped as Hydra requires."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        if PLAIN.match(value) and yaml.safe_load(value) == value and not _number(value):
            return value
        text = re.sub(r"(\\*)'", lambda m: m.group(1) * 2 + "\\'", value)
        return "'" + re.sub(r"(\\+)$", lambda m: m.group(1) * 2, text) + "'"
    if isinstance(value, list):
        return "[" + ",".join(hydra_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{hydra_value(v)}" for k, v in value.items()) + "}"
    raise config.ParamError(f"profile value {value!r}: expected a number, string, null, list or mapping")


def command(name: str, params: dict | None = None, folder: Path = PROFILES) -> list[str]:
    """``dvc exp run -S ...`` for profile ``name``, after checking it against params.yaml and every stage's schema."""
    params = config.read_params() if params is None else params
    profile = load(name, folder)
    sets = overrides(profile, params)
    check_params.check(apply(params, profile))
    return ["dvc", "exp", "run", *[x for s in sets for x in ("-S", s)]]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m stages.profile", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", help="a profile of profiles/ (paper, quick)")
    p.add_argument("--run", nargs=argparse.REMAINDER, default=None,
                   help="run the command; further arguments go to dvc exp run (e.g. -n paper-1)")
    args = p.parse_args(argv)
    cmd = command(args.name)
    if args.run is None:
        print(" ".join(shlex.quote(c) for c in cmd))
        return 0
    return subprocess.run([*cmd, *args.run]).returncode


if __name__ == "__main__":
    sys.exit(main())
