"""The DVC wiring: each stage depends on exactly the params it reads, so a param change reruns only its chain.

Uses DVC's own parser of dvc.yaml/params.yaml (no stage is run): a stage is invalidated by a param change
when one of its declared param keys is that key or a section containing it; everything downstream of such a
stage in DVC's graph reruns too.
"""
import networkx as nx
import pytest
import yaml
from dvc.dependency.param import ParamsDependency
from dvc.repo import Repo

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def repo():
    r = Repo(str(ROOT))
    yield r
    r.close()


# Stage check_params reads every section, so it reruns on any param change; its output's content never changes,
# so that rerun reaches no other stage (DVC compares the output's hash). Left out of the rerun sets below.
CHECK = "check_params"


def settings_changed_by(override: str) -> set[str]:
    """The files of check_params' ``data/settings/`` whose content an override (``dvc exp run -S`` syntax, applied
    by DVC's own code to a copy of params.yaml) changes."""
    import shutil
    import tempfile

    from dvc.utils.hydra import apply_overrides

    from stages import check_params
    from stages.core import config

    with tempfile.TemporaryDirectory() as d:
        f = f"{d}/params.yaml"
        shutil.copy(ROOT / "params.yaml", f)
        before = check_params.resolved(config.read_params(f))
        apply_overrides(f, [override])
        after = check_params.resolved(config.read_params(f))
    return {f"{check_params.SETTINGS}/{k}" for k in set(before) | set(after) if before.get(k) != after.get(k)}


def rerun_set(repo, key: str, value=None) -> tuple[set[str], set[str]]:
    """(stages whose params include ``key``, or that depend on a settings file the change ``key=value`` rewrites;
    those plus everything downstream of them), check_params aside."""
    stages = [s for s in repo.index.stages if s.name != CHECK]
    files = settings_changed_by(f"{key}={value}") if value is not None else set()
    direct = set()
    for s in stages:
        for dep in s.deps:
            if isinstance(dep, ParamsDependency):
                keys = dep.params or []
                if any(key == k or key.startswith(k + ".") for k in keys):
                    direct.add(s)
            elif any(f == dep.def_path or f.startswith(dep.def_path.rstrip("/") + "/") for f in files):
                direct.add(s)
    graph = repo.index.graph  # edges point from a stage to the stages it depends on
    affected = set(direct)
    for s in direct:
        affected |= nx.ancestors(graph, s)
    return {s.name for s in direct}, {s.name for s in affected}


PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())
# the tracks that run every method: their stage-name prefix and their tasks
TRACKS = {"": list(PARAMS["tracks"]["per_model"]), "per_task_": list(PARAMS["tracks"]["per_task"])}
# per-task stages that read every model or method (the per-task track trains and explains every model of a
# task in one stage each: per_task_models, per_task_explain)
AGGREGATES = ("report@", "explain_report@", "evaluate@", "per_task_explain@", "per_task_models@")


def base(name: str) -> str:
    """The stage name without its track prefix (per_task_unlearn@... -> unlearn@...)."""
    return name.removeprefix("per_task_")


def aggregate(name: str) -> bool:
    return name.startswith(AGGREGATES) or base(name).startswith(AGGREGATES)


def unlearn_stages(method: str) -> set[str]:
    """The stages that run ``method``: one per task of tracks.per_model, and each tracks.per_task task's models stage."""
    return {f"unlearn@{t}-{method}" for t in TRACKS[""]} | {f"per_task_models@{t}" for t in TRACKS["per_task_"]}


def test_sigma_reruns_only_the_confuse_chain(repo):
    direct, affected = rerun_set(repo, "unlearn.sigma", 0.1)
    assert direct == unlearn_stages("confuse")
    assert all("confuse" in s or aggregate(s) for s in affected), affected
    assert {"explain@ltd-confuse-sidu", "evaluate@utk", "report@ltd", "explain_report@utk",
            "per_task_models@digits_class", "per_task_explain@digits_class-sidu", "evaluate@digits_class",
            "report@digits_random"} <= affected
    assert not any(base(s).startswith(("train@", "task@", "retrain@", "prepare", "synth")) or "finetune" in s
                   for s in affected)


def test_check_params_reads_every_section_and_its_output_is_constant(repo, tmp_path, monkeypatch):
    from stages import check_params
    from stages.core import config

    stage = next(s for s in repo.index.stages if s.name == CHECK)
    keys = {k for d in stage.deps if isinstance(d, ParamsDependency) for k in (d.params or [])}
    assert keys == set(config.TOP_LEVEL)
    root_stages = {s.name for s in repo.index.stages if not any(d.def_path.startswith(("data/", "models/", "reports/"))
                                                               and d.def_path != check_params.OUT for d in s.deps)}
    assert all(check_params.OUT in [d.def_path for d in s.deps] for s in repo.index.stages if s.name in root_stages
               and s.name != CHECK)
    outs = []
    for sigma in (0.05, 0.5):  # two different settings: the same output bytes
        monkeypatch.chdir(tmp_path)
        params = yaml.safe_load((ROOT / "params.yaml").read_text())
        params["unlearn"]["sigma"] = sigma
        (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
        monkeypatch.setattr(config, "PARAMS_FILE", str(tmp_path / "params.yaml"))
        check_params.main([])
        outs.append((tmp_path / check_params.OUT).read_bytes())
    assert outs[0] == outs[1] and outs[0]


def test_repeats_of_one_task_rerun_only_that_task(repo):
    direct, affected = rerun_set(repo, "+repeats.ltd", 3)  # `+`: ltd takes repeats.default until named
    assert {"train@ltd", "retrain@ltd", "attributions@ltd", "unlearn@ltd-finetune", "evaluate@ltd",
            "explain_report@ltd"} <= direct
    assert all("ltd" in s for s in affected), affected
    direct, affected = rerun_set(repo, "repeats.digits_class", 5)  # the value it has: nothing
    assert direct == set()


def test_method_settings_stay_with_their_method(repo):
    direct, affected = rerun_set(repo, "unlearn.methods.prune.amount")
    assert {s for s in direct if "unlearn@" in s or "models@" in s} == unlearn_stages("prune")
    assert all("prune" in s or aggregate(s) for s in affected), affected


def test_task_recipe_changes_stay_in_their_task(repo):
    names = list(PARAMS["unlearn"]["methods"])
    direct, affected = rerun_set(repo, "unlearn.utk.lr")
    assert direct == {f"unlearn@utk-{m}" for m in names}
    assert not any("ltd" in s for s in affected)
    direct, affected = rerun_set(repo, "unlearn.digits_class.lr")
    assert direct == {"per_task_models@digits_class"}
    assert not any("digits_random" in s or "ltd" in s for s in affected)


def test_data_root_and_training_params(repo):
    direct, affected = rerun_set(repo, "data.ltd.root")
    assert "prepare@ltd" in direct and not any("utk" in s for s in affected)
    direct, affected = rerun_set(repo, "train.utk.epochs")
    assert direct == {"train@utk", "task@utk", "retrain@utk"}
    assert "unlearn@utk-confuse" in affected and not any("ltd" in s for s in affected)
    direct, affected = rerun_set(repo, "train.digits.epochs")  # one Original shared by both digits tasks
    assert direct == {"train@digits", *(f"per_task_{s}@{t}" for s in ("task", "models")
                                        for t in TRACKS["per_task_"])}


def test_attribution_settings_rerun_the_attributions_and_their_tasks_methods_only(repo):
    """attributions.* reruns the cached attribution vectors (stage attributions) and the unlearning stages that read
    them; the Original and Retrain stay; a task's source setting stays in its task."""
    direct, affected = rerun_set(repo, "attributions.source.ltd")
    assert direct == {"attributions@ltd"}
    assert {f"unlearn@ltd-{m}" for m in PARAMS["unlearn"]["methods"]} <= affected
    assert not any("utk" in s or "digits" in s or "agents" in s for s in affected), affected
    assert not any(base(s).startswith(("train@", "task@", "retrain@", "prepare", "synth")) for s in affected)
    direct, _ = rerun_set(repo, "attributions.grid")
    assert direct == {f"{track}attributions@{t}" for track, ts in TRACKS.items() for t in ts} | {
        f"agents_attributions@{t}" for t in PARAMS["tracks"]["agents"]}
    direct, _ = rerun_set(repo, "unlearn.methods.imu")  # the method's own settings never recompute the vectors
    assert not any("attributions@" in s for s in direct)


def test_lock_files_hold_only_live_stages(repo):
    """DVC keeps the lock entry of a stage that no longer exists (a list shrank, a stage was renamed); DVC parses and
    rewrites a whole lock file after each of its stages, so stale entries cost time: `python bench/prune_locks.py`."""
    from pathlib import Path

    live: dict[Path, set[str]] = {}
    for s in repo.index.stages:
        live.setdefault(Path(s.dvcfile.path).with_suffix(".lock"), set()).add(s.name)
    for lock, names in live.items():
        if lock.exists():
            stale = sorted(set(yaml.safe_load(lock.read_text()).get("stages", {})) - names)
            assert not stale, f"{lock.relative_to(ROOT)}: entries of stages that no longer exist {stale[:5]}"


def test_a_plain_repro_reaches_every_stage_from_the_root_file(repo):
    """`dvc repro` without targets reproduces the root dvc.yaml's stages and what they depend on: every stage of
    the other files must be upstream of one of them, or a plain `dvc repro` (and CI) would never run it. The root
    file holds the top of the graph (reports) and, so that a user types their names short (`dvc repro
    prepare@digits`), the dataset readers (stage prepare): DVC loads it twice per `dvc repro`, so any other stage that
    something else depends on belongs in its part's file."""
    graph = repo.index.graph  # edges point from a stage to the stages it depends on
    stages = list(repo.index.stages)
    root = [s for s in stages if s.dvcfile.path == str(ROOT / "dvc.yaml")]
    assert root
    reached = set(root)
    for s in root:
        reached |= nx.descendants(graph, s)
    assert not {s.name for s in stages} - {s.name for s in reached}
    readers = [s for s in root if s.name.startswith("prepare@")]
    assert {s.name for s in readers} == {f"prepare@{d}" for d in PARAMS["data"]}
    top = [s for s in root if s not in readers]
    below = {a.name for s in top for a in nx.ancestors(graph, s)} - {s.name for s in root}
    assert not below, f"stages outside the root file depend on root stages: {sorted(below)}"
    not_reports = [s.name for s in top if not s.metrics and nx.ancestors(graph, s)]
    assert not not_reports, f"root stages that are neither reports (DVC metrics) nor final: {not_reports}"


def code_dependents(repo, path: str) -> set[str]:
    """Stages with a deps entry covering the code file ``path`` (the file itself or a folder holding it)."""
    out = set()
    for s in repo.index.stages:
        for d in s.deps:
            if isinstance(d, ParamsDependency):
                continue
            dep = str(d.def_path).rstrip("/")
            if path == dep or path.startswith(dep + "/"):
                out.add(s.name)
    return out


@pytest.mark.parametrize("path", ["stages/report.py", "stages/metrics/coverage.py",
                                  "stages/xai/figures.py", "stages/explain_report.py", "stages/evaluate.py",
                                  "stages/metrics/membership.py", "stages/xai/sidu.py", "stages/methods/confuse.py",
                                  "stages/xai/lime.py", "stages/xai/attribution_vectors.py"])
def test_report_and_metric_code_never_reruns_training(repo, path):
    users = code_dependents(repo, path)
    assert users, path
    assert not any(base(s).startswith(("train@", "task@", "retrain@", "prepare", "synth")) for s in users), users
    if "methods" not in path:  # (the per-task track's models stage runs the methods with its Retrain)
        assert not any(base(s).startswith(("unlearn@", "models@")) for s in users), users


def test_every_declared_param_exists(repo):
    """A params key a stage declares but params.yaml lacks stops `dvc repro` at that stage ("Parameters ... are
    missing"): every declared key must resolve."""
    missing = []
    for s in repo.index.stages:
        for dep in s.deps:
            if isinstance(dep, ParamsDependency):
                for key in dep.params or []:
                    node = PARAMS
                    for part in key.split("."):
                        if not isinstance(node, dict) or part not in node:
                            missing.append(f"{s.name}: {key}")
                            break
                        node = node[part]
    assert not missing, missing
