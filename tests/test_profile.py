"""Profiles as files (profiles/<name>.yaml): every key is a params.yaml key, the profile applied passes every stage's
validation, and DVC's own `-S` code (dvc.utils.hydra.apply_overrides, what `dvc exp run -S` calls) accepts the
printed overrides and sets exactly the profile's values."""
from __future__ import annotations

import shutil

import pytest
from dvc.utils.hydra import apply_overrides

from stages import profile
from stages.core import config
from tests.conftest import ROOT

NAMES = sorted(p.stem for p in (ROOT / "profiles").glob("*.yaml"))


def test_the_two_profiles_exist():
    assert NAMES == ["paper", "quick"]


@pytest.mark.parametrize("name", NAMES)
def test_dvc_applies_the_profile_and_every_stage_accepts_it(name, tmp_path):
    params = config.read_params(str(ROOT / "params.yaml"))
    cmd = profile.command(name, params, ROOT / "profiles")  # checks every key and every stage's schema
    assert cmd[:3] == ["dvc", "exp", "run"] and cmd[3::2] == ["-S"] * len(cmd[4::2])
    f = tmp_path / "params.yaml"
    shutil.copy(ROOT / "params.yaml", f)
    apply_overrides(str(f), cmd[4::2])
    got = config.read_params(str(f))
    for key, value in profile.load(name, ROOT / "profiles").items():
        assert config.get(got, key) == value, key


def test_quick_holds_the_defaults_and_paper_changes_them():
    params = config.read_params(str(ROOT / "params.yaml"))
    quick, paper = (profile.load(n, ROOT / "profiles") for n in ("quick", "paper"))
    assert all(config.get(params, k) == v for k, v in quick.items())
    assert set(quick) <= set(paper)
    assert [k for k in paper if k not in quick] == ["unlearn.methods.random_labels.epochs.utk"]  # absent by default
    assert sum(config.get(params, k) != paper[k] for k in quick) == len(quick)  # every listed key changes


def test_a_bad_profile_stops_naming_the_key(tmp_path):
    params = config.read_params(str(ROOT / "params.yaml"))
    (tmp_path / "typo.yaml").write_text("train.ltd.epochss: 3\n")
    with pytest.raises(config.ParamError, match=r"profile key train\.ltd\.epochss: not in params\.yaml"):
        profile.command("typo", params, tmp_path)
    (tmp_path / "range.yaml").write_text("data.ltd.frame_stride: 0\n")
    with pytest.raises(config.ParamError, match=r"data\.ltd\.frame_stride = 0"):
        profile.command("range", params, tmp_path)
    with pytest.raises(SystemExit, match=r"no such profile \(known: range, typo\)"):
        profile.command("nope", params, tmp_path)
