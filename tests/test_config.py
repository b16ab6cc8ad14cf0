import pytest
import yaml

from stages import config, methods, prepare_ltd, train, unlearn
from stages.config import Choice, Float, Int, List, ParamError


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
    params = config.read_params("params.yaml")
    config.load_global(params)
    config.load("data.ltd", prepare_ltd.SCHEMA, params)
    config.load("train.ltd", train.SCHEMA, params)
    config.load("train.utk", train.SCHEMA, params)
    config.load("unlearn", unlearn.schema(), params)


@pytest.mark.parametrize("key,value,msg", [
    ("prune_amount", 1.0, r"unlearn\.prune_amount = 1\.0: must be < 1"),
    ("prune_amount", -0.1, r"unlearn\.prune_amount = -0\.1: must be >= 0"),
    ("sigma", -0.05, r"unlearn\.sigma = -0\.05: must be >= 0"),
    ("anchor_lambda", -1.0, r"unlearn\.anchor_lambda = -1\.0: must be >= 0"),
])
def test_invalid_unlearn_settings_stop_the_stage(key, value, msg, tmp_path, monkeypatch):
    params = config.read_params("params.yaml")
    params["unlearn"][key] = value
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    monkeypatch.setattr(config, "PARAMS_FILE", str(path))
    with pytest.raises(ParamError, match=msg):
        unlearn.main(["--task", "ltd", "--method", "confuse"])


def test_every_method_module_exists():
    for name in methods.NAMES:
        assert issubclass(methods.get(name), methods.base.Method)
    with pytest.raises(ValueError, match="unknown unlearning method 'nope'"):
        methods.get("nope")
