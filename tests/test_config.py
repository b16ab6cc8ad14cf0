import pytest
import yaml

from stages import methods, tasks, train, unlearn, xai
from stages.data import ltd_prepare
from stages.core import config
from stages.models import recipes
from stages.core.config import Choice, Float, Int, List, ParamError


def test_unknown_key_named():
    with pytest.raises(ParamError, match=r"a\.b\.colour: unknown key"):
        config.validate({"x": 1, "colour": 2}, {"x": Int()}, "a.b")


def test_wrong_type_and_range_named():
    schema = {"n": Int(min=1), "p": Float(min=0, max=1, max_open=True), "k": Choice("a", "b"), "l": List(Int(), length=2)}
    good = {"n": 3, "p": 0.5, "k": "a", "l": [1, 2]}
    assert config.validate(good, schema, "s") == good
    for bad, msg in [({"n": "3"}, r"s\.n = '3': expected a number"), ({"n": 0}, r"s\.n = 0: must be >= 1"),
                     ({"n": 1.5}, r"s\.n = 1\.5: expected an integer"), ({"p": 1.0}, r"s\.p = 1\.0: must be < 1"),
                     ({"k": "c"}, r"s\.k = 'c': must be one of"), ({"l": [1]}, r"s\.l: expected 2 items")]:
        with pytest.raises(ParamError, match=msg):
            config.validate({**good, **bad}, schema, "s")


def test_missing_key_named():
    with pytest.raises(ParamError, match=r"s\.n: missing"):
        config.validate({}, {"n": Int()}, "s")


def test_shipped_params_validate():
    """Every section of the shipped params.yaml passes its schema (a ParamError would raise here) and the checked
    settings are the shipped values themselves (defaults only fill keys the file leaves out)."""
    params = config.read_params("params.yaml")
    assert config.load_global(params) == {"seed": params["seed"], "device": params["device"]}
    assert config.load("data.ltd", ltd_prepare.SCHEMA, params) == params["data"]["ltd"]
    names = tasks.all_names(params)
    assert {"ltd", "utk"} <= set(names)
    methods.recipes(params, names)
    for name in names:
        task = tasks.get(name, params)
        shipped = config.get(params, task.recipe_key)
        recipe = recipes.load_recipe(params, task.recipe_key)
        assert {k: recipe[k] for k in shipped} == shipped, name
        for m in methods.names(params, task.METHODS):
            methods.settings(params, m, name)
        for e in xai.names(params, task.EXPLAINERS):
            got, shipped = xai.settings(params, e), params["explain"][e]
            assert {k: got[k] for k in shipped} == shipped, (name, e)


@pytest.mark.parametrize("key,value,msg", [
    ("prune.amount", 1.0, r"unlearn\.methods\.prune\.amount = 1\.0: must be < 1"),
    ("reinit.amount", -0.1, r"unlearn\.methods\.reinit\.amount = -0\.1: must be >= 0"),
    ("..sigma", -0.05, r"unlearn\.sigma = -0\.05: must be >= 0"),
    ("anchored.lambda", -1.0, r"unlearn\.methods\.anchored\.lambda = -1\.0: must be >= 0"),
    ("neggrad_plus.alpha", 1.5, r"unlearn\.methods\.neggrad_plus\.alpha = 1\.5: must be <= 1"),
    ("confuse.colour", 1, r"unlearn\.methods\.confuse\.colour: unknown key"),
    ("confuse.epochs", {"ltd": 0}, r"unlearn\.methods\.confuse\.epochs\.ltd = 0: must be >= 1"),
])
def test_invalid_unlearn_settings_stop_the_stage(key, value, msg, tmp_path, monkeypatch):
    params = config.read_params("params.yaml")
    if key.startswith(".."):  # a method's shared knob, directly under unlearn (unlearn.sigma: Confuse)
        method, k = "confuse", key[2:]
        params["unlearn"][k] = value
    else:
        method, k = key.split(".")
        params["unlearn"]["methods"][method][k] = value
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    monkeypatch.setattr(config, "PARAMS_FILE", str(path))
    with pytest.raises(ParamError, match=msg):
        unlearn.main(["--task", "ltd", "--method", method])


def test_unknown_top_level_section_stops_every_stage(tmp_path, monkeypatch):
    params = config.read_params("params.yaml")
    params["unlearnn"] = params["unlearn"]
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    monkeypatch.setattr(config, "PARAMS_FILE", str(path))
    for stage in (unlearn.main, train.main):
        with pytest.raises(ParamError, match=r"unlearnn: unknown section of params\.yaml"):
            stage(["--task", "ltd", "--method", "confuse"] if stage is unlearn.main else ["--dataset", "ltd"])
