"""Every stage validates the settings it will use before it reads data or trains.

Each case runs a stage's ``main`` in an empty folder (no data, no models): a stage that reached its data would fail
with FileNotFoundError, so a ParamError naming the key shows that the setting was checked first.
"""
import importlib

import pytest
import yaml

from stages.core import config
from stages.core.config import ParamError
from tests.conftest import ROOT

PARAMS = config.read_params(str(ROOT / "params.yaml"))

# every stage of the pipeline: module -> arguments of one of its runs
STAGES = {
    "check_params": [],
    "synthesize_ltd": [],
    "synthesize_utk": [],
    "export_digits": [],
    "prepare": ["--dataset", "ltd"],
    "train": ["--dataset", "ltd"],
    "task": ["--task", "ltd"],
    "retrain": ["--task", "ltd"],
    "attributions": ["--task", "ltd"],
    "unlearn": ["--task", "ltd", "--method", "confuse"],
    "task_models": ["--task", "digits_class"],
    "explain": ["--task", "ltd", "--model", "original", "--explainer", "sidu"],
    "explain_report": ["--task", "ltd"],
    "evaluate": ["--task", "ltd"],
    "report": ["--task", "ltd"],
    "agents_table": [],
}


def with_setting(params: dict, dotted: str, value) -> dict:
    params = yaml.safe_load(yaml.safe_dump(params))  # a deep copy
    *path, last = dotted.split(".")
    node = params
    for part in path:
        node = node[part]
    node[last] = value
    return params


@pytest.fixture
def run_stage(tmp_path, monkeypatch):
    """Run stage ``name`` with ``params`` in an empty folder."""
    monkeypatch.chdir(tmp_path)

    def run(name: str, params: dict):
        path = tmp_path / "params.yaml"
        path.write_text(yaml.safe_dump(params, sort_keys=False))
        monkeypatch.setattr(config, "PARAMS_FILE", str(path))
        importlib.import_module(f"stages.{name}").main(list(STAGES[name]))
    return run


LIST_ERRORS = [  # (key, value, message): a bad plugin list stops every stage
    ("explainers", ["sidu", "sidu"], r"explainers: 'sidu' appears twice"),
    ("explainers", ["gradcam"], r"explainers: unknown explainer 'gradcam' \(known: lime, sidu\)"),
    ("explainers", [], r"explainers: expected a non-empty list"),
    ("agents.methods", ["finetune", "finetune"], r"agents\.methods: 'finetune' appears twice"),
    ("unlearn.methods.foo", {}, r"unlearn\.methods: unknown unlearning method 'foo' \(known: anchored, .*\)"),
]


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("key,value,message", LIST_ERRORS, ids=[f"{k}={v}" for k, v, _ in LIST_ERRORS])
def test_a_bad_plugin_list_stops_every_stage(stage, key, value, message, run_stage):
    with pytest.raises(ParamError, match=message):
        run_stage(stage, with_setting(PARAMS, key, value))


OWN_ERRORS = {  # stage -> a setting of its own, made invalid, and the key its message must name
    "check_params": ("unlearn.methods.confuse.sigmaa", 0.1, r"unlearn\.methods\.confuse\.sigmaa: unknown key"),
    "synthesize_ltd": ("data.ltd.synth.dates", 0, r"data\.ltd\.synth\.dates = 0"),
    "synthesize_utk": ("data.utk.synth.n_faces", 1, r"data\.utk\.synth\.n_faces = 1"),
    "export_digits": ("data.digits.export.test_share", 2.0, r"data\.digits\.export\.test_share = 2\.0"),
    "prepare": ("data.ltd.frame_stride", 0, r"data\.ltd\.frame_stride = 0"),
    "train": ("train.ltd.epochs", 0, r"train\.ltd\.epochs = 0"),
    "task": ("explain.n_images.ltd", 0, r"explain\.n_images\.ltd = 0"),
    "retrain": ("train.ltd.lr", 0.0, r"train\.ltd\.lr = 0\.0"),
    "attributions": ("attributions.n_samples", 0, r"attributions\.n_samples = 0"),
    "unlearn": ("unlearn.sigma", -1.0, r"unlearn\.sigma = -1\.0"),
    "task_models": ("unlearn.methods.neggrad_plus.alpha", 2.0, r"unlearn\.methods\.neggrad_plus\.alpha = 2\.0"),
    "explain": ("explain.sidu.dedup", "yes", r"explain\.sidu\.dedup = 'yes'"),
    "explain_report": ("explain.n_figure", 0, r"explain\.n_figure = 0"),
    "evaluate": ("evaluate.bootstrap_attack", 10_000, r"evaluate\.bootstrap_attack = 10000: at most"),
    "report": ("verdict.margins.TA", -0.5, r"verdict\.margins\.TA = -0\.5: must be >= 0"),
    "agents_table": ("tracks.agents.agents_gru", "mnist", r"tracks\.agents\.agents_gru = 'mnist'"),
}


def test_every_stage_has_a_case():
    assert set(OWN_ERRORS) == set(STAGES)
    stage_modules = {p.stem for p in (ROOT / "stages").glob("*.py")
                     if "Stage(" in p.read_text() and p.stem not in {"__init__"}}
    assert stage_modules - {"sweep"} <= set(STAGES), stage_modules - set(STAGES)


@pytest.mark.parametrize("stage", STAGES)
def test_a_bad_own_setting_stops_the_stage_before_any_data(stage, run_stage):
    key, value, message = OWN_ERRORS[stage]
    with pytest.raises(ParamError, match=message):
        run_stage(stage, with_setting(PARAMS, key, value))


PREPARE_ERRORS = [  # (dataset, a setting of its section made invalid, the message): stage prepare@<dataset>
    ("ltd", "data.ltd.frame_stride", 0, r"data\.ltd\.frame_stride = 0"),
    ("utk", "data.utk.subsample", 2.0, r"data\.utk\.subsample = 2\.0"),
    ("digits", "data.digits.val_share", 2.0, r"data\.digits\.val_share = 2\.0"),
    ("digits", "data.digits.format", "idx", r"data\.digits\.format = 'idx': unknown format \(known: cifar10, "
                                            r"image_folder, ltd, mnist, utkface\)"),
    ("images", "data.images.root", "", r"data\.images\.root: must not be empty"),
    ("images", "data.images.split.test", 0.5, r"data\.images\.split: ratios must sum to 1"),
]


@pytest.mark.parametrize("dataset,key,value,message", PREPARE_ERRORS, ids=[f"{d}:{k}" for d, k, *_ in PREPARE_ERRORS])
def test_prepare_checks_its_dataset_section_before_any_data(dataset, key, value, message, run_stage, monkeypatch):
    """Every format's reader validates its section first (an image folder: the section profiles/images.yaml adds)."""
    from stages import profile

    params = profile.apply(PARAMS, profile.load("images", ROOT / "profiles")) if dataset == "images" else PARAMS
    monkeypatch.setitem(STAGES, "prepare", ["--dataset", dataset])
    with pytest.raises(ParamError, match=message):
        run_stage("prepare", with_setting(params, key, value))


def test_check_params_finds_a_misspelt_setting_of_any_plugin(run_stage):
    for key, value, message in [
        ("unlearn.methods.prune.amount", 1.5, r"unlearn\.methods\.prune\.amount = 1\.5"),
        ("explain.lime.n_samples", 0, r"explain\.lime\.n_samples = 0"),  # an explainer of the agents track only
        ("unlearn.utk.epochs", 0, r"unlearn\.utk\.epochs = 0"),
        ("agents.train.hidden", 0, r"agents\.train\.hidden = 0"),
        ("data.utk.format", "utk", r"data\.utk\.format = 'utk': unknown format \(known: cifar10, image_folder, ltd, "
                                   r"mnist, utkface\)"),
        ("data.ltd.format", "utkface", r"data\.ltd\.forget_class: unknown key"),  # another reader's section
    ]:
        with pytest.raises(ParamError, match=message):
            run_stage("check_params", with_setting(PARAMS, key, value))


def test_a_key_given_twice_is_an_error(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("seed: 0\nunlearn:\n  methods:\n    finetune: {}\n    finetune: {amount: 1}\n")
    with pytest.raises(ParamError, match=r"params\.yaml:5: key 'finetune' given twice"):
        config.read_params(str(path))
