"""params.yaml survives `dvc exp run -S`: it is written in the style DVC's YAML writer round-trips unchanged
(single quotes, flow collections within 80 columns, block mappings beyond), so setting a param rewrites one line."""
from __future__ import annotations

import shutil

from dvc.utils.serialize import modify_yaml

from tests.conftest import ROOT


def test_dvc_params_update_keeps_every_byte(tmp_path):
    f = tmp_path / "params.yaml"
    shutil.copy(ROOT / "params.yaml", f)
    with modify_yaml(f) as d:   # what `dvc exp run -S seed=0` does to the file (same value)
        d["seed"] = d["seed"]
    assert f.read_bytes() == (ROOT / "params.yaml").read_bytes()


def test_dvc_params_update_changes_only_the_set_line(tmp_path):
    f = tmp_path / "params.yaml"
    shutil.copy(ROOT / "params.yaml", f)
    with modify_yaml(f) as d:   # `dvc exp run -S unlearn.methods.confuse.sigma=0.1`
        d["unlearn"]["methods"]["confuse"]["sigma"] = 0.1
    old, new = (ROOT / "params.yaml").read_text().splitlines(), f.read_text().splitlines()
    assert len(old) == len(new)
    changed = [(a, b) for a, b in zip(old, new) if a != b]
    assert len(changed) == 1 and "sigma: 0.1" in changed[0][1] and "confuse" in changed[0][1]
