"""Profiles as files (profiles/<name>.yaml): every key is a params.yaml key, the profile applied passes every stage's
validation, and DVC's own `-S` code (dvc.utils.hydra.apply_overrides, what `dvc exp run -S` calls) accepts the
printed overrides and sets exactly the profile's values."""
from __future__ import annotations

import shutil

import pytest
import yaml
from dvc.utils.hydra import apply_overrides

from stages import profile
from stages.core import config
from tests.conftest import ROOT

NAMES = sorted(p.stem for p in (ROOT / "profiles").glob("*.yaml"))


def test_the_profiles_exist():
    assert NAMES == ["images", "paper", "quick"]


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


def applied_project(tmp_path, name: str):
    """A scratch DVC project: the pipeline's YAML files and params.yaml with profile ``name`` applied by DVC's code."""
    (tmp_path / ".dvc").mkdir()
    (tmp_path / ".dvc" / "config").write_text("[core]\n    no_scm = true\n    analytics = false\n")
    for f in [ROOT / "params.yaml", ROOT / "dvc.yaml", *(ROOT / "pipelines").glob("*/dvc.yaml")]:
        (tmp_path / f.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, tmp_path / f.relative_to(ROOT))
    cmd = profile.command(name, config.read_params(str(ROOT / "params.yaml")), ROOT / "profiles")
    apply_overrides(str(tmp_path / "params.yaml"), cmd[4::2])
    return tmp_path


def test_the_images_profile_adds_a_folder_its_dataset_and_its_task(tmp_path):
    """profiles/images.yaml adds keys (`-S +key=...`) for the dataset and the task it names and changes none of
    params.yaml's; with it applied DVC's graph holds the folder's stages, each reached by a plain `dvc repro` (the
    task's report is a root stage) and each declared param present."""
    import contextlib

    import networkx as nx
    from dvc.dependency.param import ParamsDependency
    from dvc.repo import Repo

    params = config.read_params(str(ROOT / "params.yaml"))
    images = profile.load("images", ROOT / "profiles")
    assert profile.added(images, params) == {"images", "my_images"}
    sets = profile.overrides(images, params)
    assert all(s.startswith("+") for s in sets)                     # nothing of the default pipeline changes
    project = applied_project(tmp_path, "images")
    got = config.read_params(str(project / "params.yaml"))
    assert {k: v for k, v in got.items() if k not in ("data", "train", "unlearn", "attributions", "explain", "tasks",
                                                     "tracks")} == \
        {k: v for k, v in params.items() if k not in ("data", "train", "unlearn", "attributions", "explain", "tasks",
                                                     "tracks")}
    assert got["data"] == {**params["data"], "images": got["data"]["images"]}  # one dataset added: the folder
    assert got["data"]["images"]["format"] == "image_folder" and got["data"]["images"]["root"] == "data/raw/images"
    assert got["tasks"] == {**params["tasks"], "my_images": got["tasks"]["my_images"]}   # one task added,
    assert got["tracks"] == {**params["tracks"], "per_task": {**params["tracks"]["per_task"], "my_images": "images"}}
    with contextlib.chdir(project), Repo(".") as repo:
        stages = {s.name: s for s in repo.index.stages}
        new = {n for n in stages if n.endswith(("@images", "@my_images", "@my_images-sidu"))}
        assert new == {"prepare@images", "train@images", *(f"per_task_{s}@my_images" for s in (
            "task", "attributions", "models")), "per_task_explain@my_images-sidu", "evaluate@my_images",
            "explain_report@my_images", "report@my_images"}      # to the per-task track
        graph = repo.index.graph
        report = stages["report@my_images"]
        assert {stages[n] for n in new} - {report} <= nx.descendants(graph, report)
        assert report.dvcfile.path.endswith("/dvc.yaml") and "pipelines" not in report.dvcfile.path
        for n in new:
            for dep in stages[n].deps:
                if isinstance(dep, ParamsDependency):
                    for key in dep.params or []:
                        config.get(got, key)                        # a missing key stops `dvc repro` there


def test_a_profile_may_add_keys_only_for_the_names_it_adds():
    params = config.read_params(str(ROOT / "params.yaml"))
    new = profile.added({"train.photos.epochs": 3, "data.photos.seed": 0}, params)
    assert new == {"photos"}
    assert profile.state(params, "train.photos.epochs", new) == "optional"
    assert profile.state(params, "explain.n_images.photos", new) == "optional"
    assert profile.state(params, "explain.n_imagess.photos", new) == "missing"   # a typo above the new name
    assert profile.state(params, "train.ltd.epochss", new) == "missing"
    assert profile.state(params, "train.fotos.epochs", new) == "missing"         # a name the profile does not add


def test_values_reach_params_yaml_unchanged_through_dvc(tmp_path):
    """Any file name of a forget list (spaces, commas, quotes, backslashes, names that read as numbers or booleans)
    and every kind of value comes back from DVC's `-S` code as the profile wrote it."""
    names = ["3/0003.png", "cat/my photo 1.jpg", "a,b.png", "o'k.png", 'q"d.png', "back\\slash.png", "end\\",
             "q\\'x", "ü.png", "$x.png", "a]b", "x=y", "3", "true", "null", "1e5", "inf", "0x1F", ""]
    values = {"a.names": names, "a.none": None, "a.flag": True, "a.n": 3, "a.f": 0.0005, "a.map": {"x": 1, "y": [1, 2]}}
    f = tmp_path / "params.yaml"
    f.write_text("a: {}\n")
    apply_overrides(str(f), [f"+{k}={profile.hydra_value(v)}" for k, v in values.items()])
    got = yaml.safe_load(f.read_text())["a"]
    assert {f"a.{k}": v for k, v in got.items()} == values
