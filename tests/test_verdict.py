"""Verdicts at a margin: equivalence, difference and unresolved, from the paired difference's interval."""
import pytest

from stages import tasks
from stages.core import config
from stages.core.config import ParamError
from stages.metrics import verdict
from tests.conftest import ROOT

PARAMS = config.read_params(str(ROOT / "params.yaml"))


@pytest.mark.parametrize("lo,hi,margin,want", [
    (-0.01, 0.01, 0.02, verdict.APPROX),      # inside +/- margin
    (0.005, 0.015, 0.02, verdict.APPROX),     # excludes 0 but inside the margin: equivalent at that margin
    (0.03, 0.08, 0.02, verdict.PLUS),         # above Retrain, beyond the margin
    (-0.08, -0.001, 0.02, verdict.MINUS),     # below, excludes 0
    (-0.05, 0.04, 0.02, verdict.UNRESOLVED),  # holds 0, wider than the margin
    (-0.02, 0.02, 0.02, verdict.APPROX),      # the margin's ends count as inside
])
def test_cells(lo, hi, margin, want):
    assert verdict.cell({"diff_lo": lo, "diff_hi": hi}, margin) == want


def test_missing_interval_is_unresolved():
    assert verdict.cell({"diff": 0.1}, 0.02) == verdict.UNRESOLVED
    assert verdict.cell(None, 0.02) == verdict.UNRESOLVED


def test_percent_margin_is_of_retrains_value():
    assert verdict.margin_value("10%", 0.44) == pytest.approx(0.044, rel=1e-15)  # one float64 product and division
    assert verdict.margin_value("10%", -2.0) == pytest.approx(0.2, rel=1e-15)
    assert verdict.margin_value(0.05, 0.44) == 0.05
    assert verdict.margin_value("10%", None) is None


def test_verdicts_per_axis_and_cost():
    records = {
        "retrain": {"MAE": {"value": 0.5}, "MIA": {"value": 0.5}, "cost_steps_vs_retrain": {"value": 1.0}},
        "finetune": {"MAE": {"value": 0.52, "diff": 0.02, "diff_lo": -0.01, "diff_hi": 0.04},
                     "MIA": {"value": 0.6, "diff": 0.1, "diff_lo": 0.06, "diff_hi": 0.14},
                     "cost_steps_vs_retrain": {"value": 0.25}},
    }
    axes = {"utility": "MAE", "membership": "MIA", "cost": "cost_steps_vs_retrain"}
    v = verdict.verdicts(records, axes, {"MAE": "10%", "MIA": 0.05})
    assert list(v) == ["finetune"]
    assert v["finetune"]["utility"]["verdict"] == verdict.APPROX and v["finetune"]["utility"]["margin"] == 0.05
    assert v["finetune"]["membership"]["verdict"] == verdict.PLUS
    assert v["finetune"]["cost"] == {"metric": "cost_steps_vs_retrain", "value": 0.25}
    md = verdict.table(v, axes)
    assert "| finetune | ≈ Retrain | differs (+) | x0.250 |" in md


def test_settings_need_a_margin_for_every_axis_metric():
    axes = [tasks.task_class(n).VERDICT_AXES for n in tasks.all_names(PARAMS)]
    margins = verdict.settings(PARAMS, axes)
    assert {c for a in axes for k, m in a.items() if k != verdict.COST for c in verdict.candidates(m)} <= set(margins)
    bad = {**PARAMS, "verdict": {"margins": {k: v for k, v in PARAMS["verdict"]["margins"].items() if k != "FA"}}}
    with pytest.raises(ParamError, match=r"verdict\.margins\.FA: missing \(the forgetting axis reads FA\)"):
        verdict.settings(bad, axes)
    bad = {**PARAMS, "verdict": {"margins": {k: v for k, v in PARAMS["verdict"]["margins"].items() if k != "LiRA_AUC"}}}
    with pytest.raises(ParamError, match=r"verdict\.margins\.LiRA_AUC: missing \(the membership axis reads LiRA_AUC\)"):
        verdict.settings(bad, axes)


def _attack(diff, lo, hi):
    return {"value": 0.5 + diff, "diff": diff, "diff_lo": lo, "diff_hi": hi}


def test_the_membership_axis_reads_the_strongest_attack_that_resolves():
    """Strength = |diff| / half-width of the Original's paired difference to Retrain; resolves above 1."""
    axes = {"membership": ("RMIA_AUC", "LiRA_AUC", "MIA"), "utility": "TA"}
    records = {"retrain": {}, "original": {"RMIA_AUC": _attack(0.02, -0.02, 0.06),   # 0.5: holds 0
                                           "LiRA_AUC": _attack(0.10, 0.05, 0.15),    # 2.0
                                           "MIA": _attack(0.06, 0.04, 0.08)}}        # 3.0: the strongest
    assert verdict.resolve(axes, records) == {"membership": "MIA", "utility": "TA"}
    records["original"]["MIA"] = _attack(0.06, -0.01, 0.13)                          # 0.86: no longer resolves
    assert verdict.resolve(axes, records)["membership"] == "LiRA_AUC"
    records["original"]["LiRA_AUC"] = _attack(-0.10, -0.15, -0.05)                   # below Retrain counts too
    assert verdict.resolve(axes, records)["membership"] == "LiRA_AUC"
    del records["original"]["LiRA_AUC"]
    assert verdict.resolve(axes, records)["membership"] == "RMIA_AUC"                # none resolves: the first
    records["finetune"] = {"RMIA_AUC": _attack(0.01, -0.01, 0.03), "TA": _attack(0.0, -0.01, 0.01)}
    v = verdict.verdicts(records, axes, {"RMIA_AUC": 0.05, "LiRA_AUC": 0.05, "MIA": 0.05, "TA": 0.02})
    assert v["finetune"]["membership"]["metric"] == "RMIA_AUC"
    assert v["finetune"]["membership"]["verdict"] == verdict.APPROX
    text = verdict.legend(verdict.resolve(axes, records), {"RMIA_AUC": 0.05, "TA": 0.02}, axes)
    assert "membership axis reads the strongest of RMIA_AUC, LiRA_AUC, MIA" in text and "here RMIA_AUC" in text
    for value, msg in [(-0.1, r"verdict\.margins\.TA = -0\.1: must be >= 0"),
                       ("ten%", r"verdict\.margins\.TA = 'ten%': expected a number >= 0 or a percentage")]:
        bad = {**PARAMS, "verdict": {"margins": {**PARAMS["verdict"]["margins"], "TA": value}}}
        with pytest.raises(ParamError, match=msg):
            verdict.settings(bad, axes)
