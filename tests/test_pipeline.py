"""The DVC wiring: each stage depends on exactly the params it reads, so a param change reruns only its chain.

Uses DVC's own parser of dvc.yaml/params.yaml (no stage is run): a stage is invalidated by a param change
when one of its declared param keys is that key or a section containing it; everything downstream of such a
stage in DVC's graph reruns too.
"""
import networkx as nx
import pytest
from dvc.dependency.param import ParamsDependency
from dvc.repo import Repo

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def repo():
    r = Repo(str(ROOT))
    yield r
    r.close()


def rerun_set(repo, key: str) -> tuple[set[str], set[str]]:
    """(stages whose params include ``key``, those plus everything downstream of them)."""
    stages = list(repo.index.stages)
    direct = set()
    for s in stages:
        for dep in s.deps:
            if isinstance(dep, ParamsDependency):
                keys = dep.params or []
                if any(key == k or key.startswith(k + ".") for k in keys):
                    direct.add(s)
    graph = repo.index.graph  # edges point from a stage to the stages it depends on
    affected = set(direct)
    for s in direct:
        affected |= nx.ancestors(graph, s)
    return {s.addressing for s in direct}, {s.addressing for s in affected}


def test_sigma_reruns_only_the_confuse_chain(repo):
    direct, affected = rerun_set(repo, "unlearn.sigma")
    assert direct == {"unlearn@ltd-confuse", "unlearn@utk-confuse"}
    assert all("confuse" in s or s.startswith(("report@", "explain_figures@")) for s in affected), affected
    assert {"explain@ltd-confuse", "evaluate@utk-confuse", "report@ltd"} <= affected
    assert not any(s.startswith(("train@", "prepare", "synth")) or "finetune" in s for s in affected)


def test_prune_amount_reruns_prune_and_reinit_only(repo):
    direct, affected = rerun_set(repo, "unlearn.prune_amount")
    assert direct == {f"unlearn@{t}-{m}" for t in ("ltd", "utk") for m in ("prune", "reinit")}
    assert all(("prune" in s or "reinit" in s) or s.startswith(("report@", "explain_figures@")) for s in affected)


def test_task_recipe_changes_stay_in_their_task(repo):
    direct, affected = rerun_set(repo, "unlearn.utk.lr")
    assert direct == {f"unlearn@utk-{m}" for m in ("finetune", "prune", "reinit", "confuse", "random_labels", "anchored")}
    assert not any("ltd" in s for s in affected)
    direct, _ = rerun_set(repo, "unlearn.ltd.epochs.confuse")
    assert direct == {"unlearn@ltd-confuse"}


def test_data_root_and_training_params(repo):
    direct, affected = rerun_set(repo, "data.ltd.root")
    assert direct == {"prepare_ltd"} and not any("utk" in s for s in affected)
    direct, affected = rerun_set(repo, "train.utk.epochs")
    assert direct == {"train@utk-original", "train@utk-retrain"}
    assert "unlearn@utk-confuse" in affected and not any("ltd" in s for s in affected)
