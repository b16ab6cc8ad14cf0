"""Tasks, methods and explainers as plugins: registries agree with params.yaml, no task-name branches outside the
task and data packages, and a toy method added as one module plus one params line runs end to end."""
from __future__ import annotations

import ast
import hashlib
import json
import re
import sys
import time
import types

import numpy as np
import pytest
import torch
import yaml

from stages import methods, tasks, xai
from stages.core import config
from stages.core.seeds import derive_seed
from stages.methods import base as mbase
from stages.tasks import base as tbase
from stages.xai import base as xbase
from tests.conftest import ROOT
from tests.tiny import make_project
from tests.tolerance import rel_tol, sum_tol

PARAMS = config.read_params(ROOT / "params.yaml")
TASKS = tasks.names(PARAMS) + tasks.names(PARAMS, "per_task")  # the tracks running every method
ALL_TASKS = tasks.all_names(PARAMS)   # the per-model track's, the per-task track's and the multi-agent track's


# ---------------------------------------------------------------------------------------------- registries
def _plugin_files(folder: str, skip: set[str]) -> set[str]:
    return {p.stem for p in (ROOT / "stages" / folder).glob("*.py") if p.stem not in skip and not p.stem.startswith("_")}


def test_params_lists_and_modules_agree():
    # every task module is a task of params.yaml's lists, or of the lists a profile adds to (profiles/images.yaml: the
    # task on the user's own image folder, off by default)
    from stages import profile

    folder = ROOT / "profiles"
    profiled = {n for p in folder.glob("*.yaml")
                for n in tasks.all_names(profile.apply(PARAMS, profile.load(p.stem, folder)))}
    assert set(ALL_TASKS) <= profiled and profiled == _plugin_files("tasks", {"base"})
    for name in ALL_TASKS:
        assert issubclass(tasks.task_class(name), tbase.Task)
        assert tasks.track_of(name, PARAMS) == tasks.task_class(name).TRACK
    assert set(methods.names(PARAMS)) == _plugin_files("methods", {"base"})
    for name in methods.names(PARAMS):
        assert issubclass(methods.get(name), mbase.Method)
    explainer_modules = {p.stem for p in (ROOT / "stages" / "xai").glob("*.py")
                         if re.search(r"^class \w+\(base\.Explainer\)", p.read_text(), re.M)}
    assert set(xai.available()) == explainer_modules
    # the list turns explainers on; every explainer module has its settings section, on or off
    assert set(xai.names(PARAMS)) <= explainer_modules
    assert explainer_modules <= set(PARAMS["explain"])
    for name in xai.names(PARAMS):
        assert issubclass(xai.get(name), xbase.Explainer)
    # every dataset has a task sharing its Original (stage train@<dataset>)
    assert {d: tasks.for_dataset(d, PARAMS).dataset for d in PARAMS["data"]} == {d: d for d in PARAMS["data"]}
    # the multi-agent track picks its methods and explainers from the main registries
    assert set(methods.names(PARAMS, "agents.methods")) <= set(methods.names(PARAMS))
    assert set(xai.names(PARAMS, "agents.explainers")) <= explainer_modules


def test_each_plugin_module_defines_one_class_of_its_own():
    """The registry takes the one class a plugin module defines that subclasses the package's base; the class has a
    name of its own (what it is), the plugin's name is the module's."""
    from stages.metrics import families
    from stages.metrics.families import Family
    from stages.tasks import agents_gru, agents_lstm

    bases = {"Task", "RegressionTask", "ClassificationTask", "Method", "Explainer", "Family"}
    classes = {**{f"tasks.{n}": tasks.task_class(n) for n in ALL_TASKS},
               **{f"methods.{n}": methods.get(n) for n in methods.names(PARAMS)},
               **{f"xai.{n}": xai.get(n) for n in xai.available()},
               **{f"families.{n}": families.get(n) for n in ("counting", "age_forgetting", "classification")}}
    for where, cls in classes.items():
        assert cls.__name__ not in bases
        assert cls.__module__ == f"stages.{where.replace('families.', 'metrics.families.')}"
    assert [c.__name__ for c in (methods.get("ga"), xai.get("sidu"), tasks.task_class("ltd"))] == \
        ["GradientAscent", "SIDU", "LTDCounting"]
    assert issubclass(families.get("counting"), Family)
    # a shared class of the base module between Method and the plugins is none of them: each module's own class counts
    from stages.methods import random_labels, salun

    assert methods.get("random_labels") is random_labels.RandomLabels and methods.get("salun") is salun.SalUn
    assert issubclass(salun.SalUn, mbase.RandomTargets) and issubclass(random_labels.RandomLabels, mbase.RandomTargets)
    # agents_lstm builds on agents_gru's class, which it imports: only the class it defines counts
    assert tasks.task_class("agents_lstm") is agents_lstm.AgentsLSTM
    assert issubclass(agents_lstm.AgentsLSTM, agents_gru.AgentsGRU)


def test_a_plugin_module_without_exactly_one_class_is_an_error_naming_it(monkeypatch):
    def module(name, source):
        m = types.ModuleType(name)
        exec(source, m.__dict__)
        monkeypatch.setitem(sys.modules, name, m)

    module("stages.methods.no_class", "from stages.methods import base\nX = base.Method\n")
    with pytest.raises(config.ParamError, match=r"^unlearn\.methods\.no_class: module stages\.methods\.no_class "
                                                r"defines no class subclassing stages\.methods\.base\.Method"):
        methods.get("no_class")
    module("stages.methods.two_classes", "from stages.methods import base\n\n\nclass A(base.Method):\n    pass\n\n\n"
                                         "class B(A):\n    pass\n")
    with pytest.raises(config.ParamError, match=r"module stages\.methods\.two_classes defines 2 classes \(A, B\)"):
        methods.get("two_classes")
    with pytest.raises(config.ParamError, match=r"unknown unlearning method \(no module stages/methods/nope\.py\)"):
        methods.get("nope")


def test_the_registry_reads_plugin_files_without_importing_them(tmp_path, monkeypatch):
    """available() reads the class headers and imports of the files: a subclass of the base, also through a class of
    another module, makes a plugin; a library module (no such class) is none; a module with two is an error."""
    from stages.core import registry

    pkg = tmp_path / "methods"
    pkg.mkdir()
    (pkg / "base.py").write_text("class Method:\n    pass\n\n\nclass Helper(Method):\n    pass\n")
    (pkg / "plain.py").write_text("from stages.methods import base\n\n\nclass Plain(base.Method):\n    pass\n")
    (pkg / "derived.py").write_text("from stages.methods.plain import Plain as P\n\n\nclass Derived(P):\n    pass\n")
    (pkg / "library.py").write_text("from stages.methods import base\n\n\nclass Tool:\n    pass\n")
    (pkg / "helped.py").write_text("from stages.methods import base\n\n\nclass Helped(base.Helper):\n    pass\n")
    monkeypatch.setattr(registry, "PACKAGES", tmp_path)
    found = registry.available("methods")
    assert {"plain", "derived", "helped"} <= set(found) and not {"base", "library"} & set(found)
    (pkg / "two.py").write_text("from stages.methods.base import Method\n\n\nclass A(Method):\n    pass\n\n\n"
                                "class B(Method):\n    pass\n")
    with pytest.raises(config.ParamError, match=r"stages/methods/two\.py defines 2 classes \(A, B\)"):
        registry.available("methods")


def test_no_library_module_is_named_like_an_entry_module():
    """Entry modules are stages/<stage>.py (run by dvc.yaml, or a command such as stages.sweep); the libraries in
    the subpackages take other names (stages/xai/attribution_vectors.py beside the entry module
    stages/attributions.py, stages/models/fitting.py beside stages/train.py)."""
    entries = {p.stem for p in (ROOT / "stages").glob("*.py")} - {"__init__"}
    assert {"attributions", "train", "sweep"} <= entries
    libraries = [p for p in (ROOT / "stages").rglob("*.py") if p.parent != ROOT / "stages"]
    assert any(p.stem == "fitting" for p in libraries) and any(p.stem == "attribution_vectors" for p in libraries)
    same = sorted(str(p.relative_to(ROOT)) for p in libraries if p.stem in entries)
    assert not same, f"named like an entry module: {same}"


def test_task_lists_are_disjoint_and_picked_lists_checked():
    import copy

    p = copy.deepcopy(PARAMS)
    p["tracks"]["agents"]["ltd"] = "ltd"
    with pytest.raises(config.ParamError, match=r"tracks\.agents\.ltd: already in tracks\.per_model \(a task has one track\)"):
        tasks.all_names(p)
    p = copy.deepcopy(PARAMS)
    del p["tracks"]["per_task"]["digits_class"]
    with pytest.raises(config.ParamError, match=r"tasks\.digits_class: in no track \(add `digits_class: <dataset>` to one of tracks\.per_model, "):
        tasks.all_names(p)
    p = copy.deepcopy(PARAMS)
    p["tracks"]["per_task"]["nope"] = "digits"
    with pytest.raises(config.ParamError, match=r"tracks\.per_task\.nope: not a task of tasks: \(known: ltd, utk, "):
        tasks.all_names(p)
    p = copy.deepcopy(PARAMS)
    p["tracks"]["classification"] = {}
    with pytest.raises(config.ParamError, match=r"tracks\.classification: unknown track \(known: per_model, per_task, agents\)"):
        tasks.all_names(p)
    p = copy.deepcopy(PARAMS)
    p["tracks"]["per_task"]["digits_class"] = "mnist"
    with pytest.raises(config.ParamError, match=r"tracks\.per_task\.digits_class = 'mnist': no such section data\.mnist \(known: ltd, utk, digits"):
        tasks.get("digits_class", p)
    p = copy.deepcopy(PARAMS)
    p["agents"]["methods"] = ["finetune", "nope"]
    with pytest.raises(config.ParamError, match=r"agents\.methods: unknown unlearning method 'nope' \(known: "):
        methods.names(p, "agents.methods")
    del p["unlearn"]["methods"]["imu"]  # a method module that unlearn.methods does not list
    p["agents"]["methods"] = ["finetune", "imu"]
    with pytest.raises(config.ParamError, match=r"agents\.methods: 'imu' is not a method of unlearn\.methods"):
        methods.names(p, "agents.methods")
    p = copy.deepcopy(PARAMS)   # an agents task in another track is refused by name
    p["tracks"]["per_model"]["agents_gru"] = p["tracks"]["agents"].pop("agents_gru")
    with pytest.raises(config.ParamError, match=r"tracks\.per_model: 'agents_gru' belongs in tracks\.agents"):
        tasks.get("agents_gru", p)


def test_unknown_plugins_are_named():
    with pytest.raises(config.ParamError, match=r"unlearn\.methods\.nope: unknown unlearning method"):
        methods.get("nope")
    with pytest.raises(config.ParamError, match=r"^nope: unknown task \(no module stages/tasks/nope\.py\)"):
        tasks.task_class("nope")
    with pytest.raises(config.ParamError, match="unknown explainer 'nope'"):
        xai.get("nope")
    with pytest.raises(config.ParamError, match=r"task 'nope': not a task of tasks: \(known: ltd, utk, digits_random, "):
        tasks.get("nope", PARAMS)


def _task_name_compares(path, names: set[str], root=ROOT) -> list[str]:
    tree = ast.parse(path.read_text())

    def consts(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return set().union(*(consts(e) for e in node.elts)) if node.elts else set()
        return set()

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            hit = set().union(*(consts(o) for o in [node.left, *node.comparators])) & names
        elif isinstance(node, ast.match_case):
            hit = {c.value.value for c in ast.walk(node.pattern) if isinstance(c, ast.MatchValue)
                   and isinstance(c.value, ast.Constant)} & names
        elif isinstance(node, ast.Dict):
            hit = set().union(*(consts(k) for k in node.keys if k is not None)) & names
        else:
            continue
        if hit:
            found.append(f"{path.relative_to(root)}:{getattr(node, 'lineno', '?')} {sorted(hit)}")
    return found


def test_no_task_name_branch_outside_tasks_and_data():
    from stages import profile

    folder = ROOT / "profiles"  # and the tasks a profile adds (its dataset "images" is too common a word to check)
    profiled = {n for p in folder.glob("*.yaml")
                for n in tasks.all_names(profile.apply(PARAMS, profile.load(p.stem, folder)))}
    names = set(ALL_TASKS) | set(PARAMS["data"]) | profiled
    files = [p for p in (ROOT / "stages").rglob("*.py")
             if not p.is_relative_to(ROOT / "stages" / "tasks") and not p.is_relative_to(ROOT / "stages" / "data")]
    assert len(files) > 20
    found = [hit for p in files for hit in _task_name_compares(p, names)]
    assert not found, found


def test_the_branch_detector_finds_branches(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(task):\n    if task == 'ltd':\n        return 1\n    if task in ('x', 'utk'):\n"
                   "        return 2\n    return {'utk': 2}.get(task)\n")
    assert len(_task_name_compares(bad, {"ltd", "utk"}, root=tmp_path)) == 3


# ---------------------------------------------------------------------------------------------- seeds
def test_seeds_come_from_names_not_positions():
    """derive_seed hashes the names: the first 8 bytes of sha256("<seed>/<part>/...") modulo 2**31 (the reference
    below, with hashlib), so a method's seed is the same whatever its place in the list."""
    def ref(*parts):
        return int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:8], "big") % 2**31

    for parts in [(0, "ltd", "confuse"), (1, "ltd", "confuse"), (0, "utk", "confuse"), (123, "x"), (0, "member", 2)]:
        assert derive_seed(*parts) == ref(*parts), parts
    names = methods.names(PARAMS)
    assert len({derive_seed(0, "ltd", m) for m in names}) == len(names)


# ---------------------------------------------------------------------------------------------- tiny project
@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params = make_project(tmp_path, {"unlearn.methods": {"finetune": {}, "neggrad_plus": {"alpha": 0.9}}})
    monkeypatch.setattr(config, "PARAMS_FILE", str(params))
    return tmp_path


def _set_params(path, fn):
    p = yaml.safe_load(open(path))
    fn(p)
    open(path, "w").write(yaml.safe_dump(p, sort_keys=False))


@pytest.mark.parametrize("name", TASKS)
def test_task_roles(project, name):
    task = tasks.get(name, config.read_params())
    tr, te = task.table("train"), task.table("test")
    forget, retain, full = task.role("forget"), task.role("retain"), task.role("full")
    assert forget.forget.all() and len(forget.rows) == task.forget_rows(tr).sum() > 0
    assert np.array_equal(full.forget, task.forget_rows(tr)) and len(full.rows) == len(tr)
    like = task.role("heldout_like_forget")
    assert like.split == "test" and task.forget_rows(te)[like.rows].all() and len(like.rows) > 0
    val = task.role("val")
    assert task.retain_rows(task.table("val"))[val.rows].all()
    orig = task.training_data("original")
    assert np.array_equal(orig.train_y, task.original_target(tr))
    if name == "ltd":  # y' = y - humans on every frame; the forget set's target is y
        assert np.array_equal(retain.y, (tr["y"] - tr["human"]).to_numpy()) and len(retain.rows) == len(tr)
        assert np.array_equal(forget.y, tr["y"].to_numpy()[forget.rows])
    else:  # the retain set leaves the group out
        assert not task.forget_rows(tr)[retain.rows].any() and len(retain.rows) + len(forget.rows) == len(tr)


def test_forget_class_param_moves_the_forget_set(project):
    _set_params(config.PARAMS_FILE, lambda p: p["data"]["ltd"].update(forget_class="vehicle"))
    task = tasks.get("ltd", config.read_params())
    tr = task.table("train")
    assert np.array_equal(task.forget_rows(tr), tr["vehicle"].to_numpy() > 0)
    assert np.array_equal(task.role("retain").y, (tr["y"] - tr["vehicle"]).to_numpy())
    assert task.coverage_classes()["h-HC"] == ("vehicle",)
    assert "human" in task.coverage_classes()["r-HC"]


TOY = '''
"""Toy method: halve every weight, then the fine-tune."""
import torch
from stages.core.config import Float
from stages.methods import base


class Halve(base.Method):
    PARAMS = {"factor": Float(min=0, max=1)}

    @torch.no_grad()
    def edit(self, model, gen):
        for p in model.parameters():
            p.mul_(self.cfg["factor"])
'''


def _md5(path) -> str:
    return hashlib.md5(open(path, "rb").read()).hexdigest()


def test_toy_method_end_to_end(project, monkeypatch):
    from stages import evaluate, explain, explain_report, report, retrain, task, train, unlearn

    module = types.ModuleType("stages.methods.toy")
    exec(compile(TOY, "stages/methods/toy.py", "exec"), module.__dict__)
    monkeypatch.setitem(sys.modules, "stages.methods.toy", module)
    _set_params(config.PARAMS_FILE, lambda p: p["unlearn"]["methods"].update(toy={"factor": 0.5}))  # one line
    name = "ltd"
    train.main(["--dataset", "ltd"])
    task.main(["--task", name])
    original_md5 = _md5(f"models/{name}/original.pt")
    retrain.main(["--task", name])
    models = ["original", "retrain", "finetune", "neggrad_plus", "toy"]
    for m in models[2:]:
        unlearn.main(["--task", name, "--method", m])
    assert _md5(f"models/{name}/original.pt") == original_md5  # the Original is never edited
    for m in models:
        explain.main(["--task", name, "--model", m, "--explainer", "sidu"])
    evaluate.main(["--task", name])
    explain_report.main(["--task", name])
    report.main(["--task", name])
    summary = json.load(open(f"reports/{name}/summary.json"))
    intervals = json.load(open(f"reports/{name}/intervals.json"))
    assert list(summary) == models
    assert {"MAE", "MIA", "human_leak", "probe", "AS", "h-HC", "r-HC", "cost_steps_vs_retrain"} <= set(summary["toy"])
    for m in models:  # an interval for every number of summary.json
        assert set(intervals[m]) == set(summary[m])
        assert all(intervals[m][k]["lo"] <= intervals[m][k]["hi"] for k in summary[m]), m
        assert intervals[m]["MAE"]["lo"] <= summary[m]["MAE"] <= intervals[m]["MAE"]["hi"]
    table = open(f"reports/{name}/table.md").read()
    assert "| toy |" in table and "## Legend" in table and " [" in table
    toy, ft = (torch.load(f"models/{name}/{m}.pt", weights_only=False) for m in ("toy", "finetune"))
    assert len(toy["runs"]) == 2  # repeats
    assert any(not torch.equal(a, b) for a, b in zip(toy["runs"][0][0].values(), ft["runs"][0][0].values()))
    assert json.load(open(f"models/{name}/toy.json"))["params"]["unlearn"]["toy"] == {"factor": 0.5}
    # the verdict table: one row per model but Retrain, one column per axis of the task
    v = json.load(open(f"reports/{name}/verdicts.json"))
    assert list(v) == [m for m in models if m != "retrain"] and set(v["toy"]) == set(tasks.get(name).VERDICT_AXES)
    assert table.index("## Verdict") < table.index("## Our results")
    # cost: NegGrad+ pushes a forget batch through forward and backward at every step, on top of the retain batch
    meta = {m: json.load(open(f"models/{name}/{m}.json")) for m in ("finetune", "neggrad_plus")}
    steps, bs = meta["neggrad_plus"]["optimizer_steps"], meta["neggrad_plus"]["params"]["unlearn"][name]["batch_size"]
    assert meta["neggrad_plus"]["images_seen"] == [f + s * bs for f, s in zip(meta["finetune"]["images_seen"], steps)]
    # the toy's cost in the summary: its optimizer steps over Retrain's, per run, averaged (a few float64 roundings)
    toy_steps, re_steps = (json.load(open(f"models/{name}/{m}.json"))["optimizer_steps"] for m in ("toy", "retrain"))
    want = np.mean([a / b for a, b in zip(toy_steps, re_steps)])
    assert 0 < want < 1 and summary["toy"]["cost_steps_vs_retrain"] == pytest.approx(want, rel=rel_tol(4, np.float64))

    # seeds by name: adding a method in front of the list leaves another method's weights and predictions as they were
    weights = lambda: torch.load(f"models/{name}/finetune.pt", weights_only=False)["runs"][1][0]  # noqa: E731
    before, preds = weights(), _md5(f"models/{name}/finetune_preds.csv")
    _set_params(config.PARAMS_FILE, lambda p: p["unlearn"].update(
        methods={"aaa_first": {"factor": 0.1}, **p["unlearn"]["methods"]}))
    monkeypatch.setitem(sys.modules, "stages.methods.aaa_first", module)
    unlearn.main(["--task", name, "--method", "finetune"])
    after = weights()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert _md5(f"models/{name}/finetune_preds.csv") == preds


def test_neggrad_plus_loss_is_the_weighted_difference(project):
    """NegGrad+ per batch: alpha * L(retain) - (1 - alpha) * L(forget batch), checked by hand on a linear model."""
    task = tasks.get("ltd", config.read_params())
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(24 * 32, 1), torch.nn.Flatten(0))
    from stages.models.fitting import Recipe

    ctx = mbase.Context(task=task, original=net, recipe=Recipe(epochs=1, batch_size=8, loss="mse", amp=False),
                        device=torch.device("cpu"), seed=0, gen=torch.Generator().manual_seed(0))
    M = methods.get("neggrad_plus")({"alpha": 0.75}, ctx)
    retain_loss = torch.tensor(2.0)
    got = M.batch_loss(net, retain_loss, torch.Generator().manual_seed(5))
    xf, yf = ctx.batch("forget", torch.Generator().manual_seed(5))
    forget_loss = torch.nn.functional.mse_loss(net(xf), yf)
    want = 0.75 * 2.0 - 0.25 * forget_loss
    # the same batch and forward; 0.75 * 2 and 0.25 * L are exact, so at most the final subtraction rounds otherwise
    assert torch.allclose(got, want, rtol=0, atol=sum_tol(1, 1.5 + 0.25 * forget_loss.item()))
    assert (task.forget_rows(task.table("train"))[ctx.role("forget").rows]).all()


def test_two_tasks_share_a_dataset_and_its_original(project, monkeypatch):
    """A second forget request on the LTD data (forget vehicles): one Original, two task views of it."""
    from stages import task as task_stage
    from stages import train
    from stages.tasks import ltd

    module = types.ModuleType("stages.tasks.ltd_vehicle")
    module.LTDVehicle = type("LTDVehicle", (ltd.LTDCounting,), {"__module__": module.__name__})  # a class of its own
    monkeypatch.setitem(sys.modules, "stages.tasks.ltd_vehicle", module)
    _set_params(config.PARAMS_FILE, lambda p: (p["tasks"].update(ltd_vehicle={"forget_class": "vehicle"}),
                                               p["tracks"]["per_model"].update(ltd_vehicle="ltd"),
                                               p["explain"]["n_images"].update(ltd_vehicle=4)))
    train.main(["--dataset", "ltd"])
    for name in ("ltd", "ltd_vehicle"):
        task_stage.main(["--task", name])
    assert _md5("models/ltd/original.pt") == _md5("models/ltd_vehicle/original.pt") == \
        _md5("models/datasets/ltd/original.pt")
    a, b = (json.load(open(f"data/tasks/{n}/task.json")) for n in ("ltd", "ltd_vehicle"))
    assert a["request"]["forget_class"] == "human" and b["request"]["forget_class"] == "vehicle"
    assert a["forget_rows"] != b["forget_rows"] and a["dataset_md5"] == b["dataset_md5"]
    assert a["original_md5"] == b["original_md5"] == _md5("models/datasets/ltd/original.pt")
    tr = tasks.get("ltd_vehicle", config.read_params()).table("train")
    assert b["forget_rows"] == np.flatnonzero(tr["vehicle"].to_numpy() > 0).tolist()


def test_training_and_unlearning_outputs_are_byte_identical(project):
    """Same params, same bytes: every cached output of train, task and unlearn, twice; times live elsewhere."""
    from stages import task, train, unlearn

    files = ["models/datasets/ltd/original.pt", "models/datasets/ltd/original.json",
             "models/datasets/ltd/original_preds.csv", "reports/ltd/curves/original.csv", "data/tasks/ltd/task.json",
             "models/ltd/original.pt", "models/ltd/finetune.pt", "models/ltd/finetune.json",
             "models/ltd/finetune_preds.csv", "reports/ltd/curves/finetune.csv"]
    runs = []
    for _ in range(2):
        train.main(["--dataset", "ltd"])
        task.main(["--task", "ltd"])
        start = time.perf_counter()
        unlearn.main(["--task", "ltd", "--method", "finetune"])
        elapsed = time.perf_counter() - start  # the unlearn stage times itself inside this call (the last one)
        runs.append({f: _md5(f) for f in files})
    assert runs[0] == runs[1]
    timing = json.load(open("reports/ltd/timings/finetune.json"))
    # the fits' seconds of the last run (rounded to 1 ms), inside the call: not a larger span, not milliseconds
    assert 0 < timing["wall_time_s"] <= elapsed + 5e-4
    assert "wall_time_s" not in json.load(open("models/ltd/finetune.json"))  # the model's record holds no time
