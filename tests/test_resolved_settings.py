"""Stage check_params' resolved settings (data/settings/): the files the stages depend on instead of a param key
they cannot name, so `dvc exp run -S unlearn.sigma=...` reruns the Confuse chain only and `repeats` per task reruns
only that task's stages. The overrides go through DVC's own `-S` code (``dvc.utils.hydra.apply_overrides``)."""
from __future__ import annotations

import shutil

import pytest
import yaml
from dvc.utils.hydra import apply_overrides

from stages import check_params, tasks
from stages.core import config
from tests.conftest import ROOT


def _resolved_after(tmp_path, overrides):
    f = tmp_path / "params.yaml"
    shutil.copy(ROOT / "params.yaml", f)
    before = check_params.resolved(config.read_params(str(f)))
    apply_overrides(str(f), overrides)
    params = config.read_params(str(f))
    check_params.check(params)  # the overridden file still passes every stage's validation
    return before, check_params.resolved(params)


def _changed(before, after):
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def test_sigma_override_changes_only_the_confuse_settings(tmp_path):
    before, after = _resolved_after(tmp_path, ["unlearn.sigma=0.1"])
    changed = _changed(before, after)
    confuse_tasks = [t for t in tasks.all_names(config.read_params(str(ROOT / "params.yaml")))
                     if f"methods/{t}/confuse.json" in before]
    assert changed == sorted(f"methods/{t}/confuse.json" for t in confuse_tasks) and len(changed) >= 2
    assert all(after[k]["settings"]["sigma"] == 0.1 for k in changed)


def test_repeats_override_of_one_task_changes_only_that_task(tmp_path):
    # `+`: the task is not named under repeats yet (it takes the default), so DVC adds the key
    before, after = _resolved_after(tmp_path, ["+repeats.agents_gru=3"])
    assert _changed(before, after) == ["tasks/agents_gru.json"]
    assert after["tasks/agents_gru.json"] == {"repeats": 3}


def test_repeats_default_and_per_task(tmp_path):
    params = config.read_params(str(ROOT / "params.yaml"))
    params["repeats"] = {"default": 3, "digits_random": 4, "digits_class": 4}
    assert tasks.repeats(params, "ltd") == 3 and tasks.repeats(params, "digits_class") == 4
    params["repeats"] = 2                      # one number for every task
    assert {tasks.repeats(params, t) for t in tasks.all_names(params)} == {2}
    out = check_params.resolved(params)
    assert out["datasets/digits.json"] == {"repeats": 2} and out["tasks/utk.json"] == {"repeats": 2}


@pytest.mark.parametrize("value,msg", [
    ({"default": 2, "digits_random": 5}, r"repeats\.digits_random = 5, repeats\.digits_class = 2: both tasks share"),
    ({"ltd": 2}, r"repeats\.(utk|digits_random|digits_class|agents_gru|agents_lstm): missing"),
    ({"default": 2, "ltdd": 3}, r"repeats\.ltdd: not a task \(known: ltd, utk"),
    ({"default": 0}, r"repeats\.default = 0: must be >= 1"),
    (1.5, r"repeats = 1\.5"),
])
def test_bad_repeats_name_the_key(value, msg):
    params = config.read_params(str(ROOT / "params.yaml"))
    params["repeats"] = value
    with pytest.raises(config.ParamError, match=msg):
        check_params.check(params)
        check_params.resolved(params)
