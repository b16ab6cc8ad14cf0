"""params.yaml survives `dvc exp run -S`: it is written in the style DVC's writer round-trips unchanged (block
sequences, no flow lists: `-S` rewrites every flow list into block style; single quotes; no blank line or comment
right after a top-level list, which the writer drops), so setting a param rewrites one line and nothing else.

The tests run DVC's own code for `-S`: ``dvc.utils.hydra.apply_overrides`` (what ``dvc exp run -S`` calls on the
params file) and ``modify_yaml`` (DVC's generic YAML update)."""
from __future__ import annotations

import shutil

import pytest
from dvc.utils.hydra import apply_overrides
from dvc.utils.serialize import modify_yaml

from tests.conftest import ROOT


@pytest.fixture
def copy(tmp_path):
    f = tmp_path / "params.yaml"
    shutil.copy(ROOT / "params.yaml", f)
    return f


def test_exp_run_set_keeps_every_byte(copy):
    apply_overrides(str(copy), ["seed=0"])        # `dvc exp run -S seed=0` (the same value)
    assert copy.read_bytes() == (ROOT / "params.yaml").read_bytes()


def test_exp_run_set_changes_only_the_set_line(copy):
    apply_overrides(str(copy), ["unlearn.sigma=0.1"])
    old, new = (ROOT / "params.yaml").read_text().splitlines(), copy.read_text().splitlines()
    assert len(old) == len(new)
    changed = [(a, b) for a, b in zip(old, new) if a != b]
    assert len(changed) == 1 and changed[0][1].strip() == "sigma: 0.1"


def test_modify_yaml_keeps_every_byte(copy):
    with modify_yaml(copy) as d:
        d["seed"] = d["seed"]
    assert copy.read_bytes() == (ROOT / "params.yaml").read_bytes()


def test_the_check_catches_a_flow_list(tmp_path):
    """The style rule the tests above enforce: a flow list is rewritten by `-S` (so they would fail)."""
    f = tmp_path / "p.yaml"
    f.write_text("seed: 0\nsize: [72, 96]   # H, W\n")
    apply_overrides(str(f), ["seed=0"])
    assert f.read_text() != "seed: 0\nsize: [72, 96]   # H, W\n"
