"""Drop the entries of stages that no longer exist from every dvc.lock (DVC keeps them when a list in params.yaml
shrinks or a stage is renamed: the lock then grows, and DVC parses and rewrites it after every stage).

    python bench/prune_locks.py          # in the repository; prints what it removes; `dvc status` is unchanged
"""
from __future__ import annotations

import sys
from pathlib import Path

from dvc.repo import Repo
from dvc.utils.serialize import modify_yaml


def main() -> int:
    with Repo() as repo:  # the repository holding the working directory
        root = Path(repo.root_dir)
        live: dict[Path, set[str]] = {}
        for stage in repo.index.stages:
            live.setdefault(Path(stage.dvcfile.path).with_suffix(".lock"), set()).add(stage.name)
    removed = 0
    for lock, names in sorted(live.items()):
        if not lock.exists():
            continue
        with modify_yaml(str(lock)) as data:
            stale = [name for name in data.get("stages", {}) if name not in names]
            for name in stale:
                del data["stages"][name]
        removed += len(stale)
        print(f"{lock.relative_to(root)}: {len(stale)} stale entries removed, {len(names)} stages live")
    print(f"{removed} entries removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
