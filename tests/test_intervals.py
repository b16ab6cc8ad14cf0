"""Intervals, readings, membership populations and the representation probe (issue: verdicts that hold up)."""
import itertools

import numpy as np
import pandas as pd
import pytest

from stages.core import config
from stages.core.tables import fmt, fmt_interval
from stages.metrics import bootstrap, membership, probe
from stages.metrics.families import age_forgetting, counting
from tests.tolerance import sum_tol

F64 = np.float64
SIG6 = 5e-6  # bootstrap.records rounds to 6 significant digits: within half a unit of the 6th, relative


# ------------------------------------------------------------------------------------------------ bootstrap
def _mean_stat(data):
    return lambda r, idx: {"m": float(np.mean(data[r] if idx is None else data[r][idx["s"]]))}


def test_interval_matches_the_exhaustive_bootstrap():
    """Slow, obviously correct reference: every one of the 5^5 resamples of 5 values, equally likely."""
    x = np.array([0.0, 1.0, 2.0, 4.0, 8.0])
    exact = np.array([x[list(c)].mean() for c in itertools.product(range(5), repeat=5)])
    want = np.percentile(exact, [2.5, 97.5])
    d = bootstrap.draw({"s": 5}, repeats=1, n=20000, seed=1)
    got = bootstrap.interval(bootstrap.replicates(_mean_stat([x]), d)["m"])
    # Monte Carlo, not rounding: resample means lie on a 0.2 grid, and 20000 draws put a 2.5 % quantile within
    # about 0.03 (one standard error) of the exact one; one grid step plus that margin
    assert got == pytest.approx(tuple(want), abs=0.25)
    assert bootstrap.point(_mean_stat([x]), 1)[0]["m"] == 3.0  # 15 / 5: small integers, exact


def test_repeats_alone_give_the_hand_computed_interval():
    """Two runs, constant values 1 and 3: a replicate draws 2 runs with replacement, so its mean is 1, 2 or 3 with
    probabilities 1/4, 1/2, 1/4; the 95 % interval is [1, 3] and the value the mean over runs, 2."""
    data = [np.ones(4), 3 * np.ones(4)]
    d = bootstrap.draw({"s": 4}, repeats=2, n=4000, seed=0)
    reps = bootstrap.replicates(_mean_stat(data), d)["m"]
    assert set(reps.tolist()) == {1.0, 2.0, 3.0}  # count-weighted means of 1 and 3: exact
    # binomial, not rounding: 4000 replicates give a standard error of 0.008 for the share 0.5; 0.03 is 3.8 of them
    assert np.mean(reps == 2.0) == pytest.approx(0.5, abs=0.03)
    assert bootstrap.interval(reps) == (1.0, 3.0)
    value, runs = bootstrap.point(_mean_stat(data), 2)
    assert value["m"] == 2.0 and runs["m"] == [1.0, 3.0]


def test_pairing_removes_shared_variation():
    """Model B = model A + 0.5 on every sample: each interval is wide, the paired gap's is exactly [0.5, 0.5]."""
    a = np.random.default_rng(0).normal(size=40)
    d = bootstrap.draw({"s": 40}, repeats=1, n=300, seed=3)
    values, runs, reps = {}, {}, {}
    for m, data in (("retrain", [a]), ("b", [a + 0.5])):
        values[m], runs[m] = bootstrap.point(_mean_stat(data), 1)
        reps[m] = bootstrap.replicates(_mean_stat(data), d)
    rec = bootstrap.records(values, runs, reps)
    lo, hi = rec["b"]["m"]["lo"], rec["b"]["m"]["hi"]
    assert hi - lo > 0.3
    # the gap is taken between the two rounded values and rounded again (6 digits each), the replicate differences
    # are means of 40 values of a + 0.5 and of a (float64), far below that
    tol = SIG6 * (abs(rec["b"]["m"]["value"]) + abs(rec["retrain"]["m"]["value"]) + 0.5)
    tol += sum_tol(len(a) + 2, np.abs(a).mean() + 0.5, F64)
    assert rec["b"]["m"]["gap"] == pytest.approx(0.5, abs=tol)
    assert rec["b"]["m"]["gap_lo"] == pytest.approx(0.5, abs=tol)
    assert rec["b"]["m"]["gap_hi"] == pytest.approx(0.5, abs=tol)
    assert "gap" not in rec["retrain"]["m"]


def test_gap_interval_from_the_signed_difference():
    # linspace and the percentile's linear interpolation: a few float64 roundings of values up to |start| + |stop|
    tol = sum_tol(8, 0.8, F64)
    assert bootstrap.gap_interval(np.linspace(-0.2, 0.6, 1001)) == pytest.approx((0.0, 0.58), abs=tol)
    assert bootstrap.gap_interval(np.linspace(-0.6, -0.2, 1001)) == pytest.approx((0.21, 0.59), abs=tol)


def test_draws_are_seeded():
    a, b = bootstrap.draw({"s": 9, "t": 4}, 3, 10, seed=5), bootstrap.draw({"s": 9, "t": 4}, 3, 10, seed=5)
    assert np.array_equal(a.reps, b.reps) and all(np.array_equal(a.idx[k], b.idx[k]) for k in a.idx)
    assert not np.array_equal(a.idx["s"], bootstrap.draw({"s": 9, "t": 4}, 3, 10, seed=6).idx["s"])
    with pytest.raises(ValueError, match="population 'e' is empty"):
        bootstrap.draw({"e": 0}, 1, 5, 0)


@pytest.mark.parametrize("v, want", [(0.5, "0.500"), (12.345, "12.3"), (0.000437, "4.37e-04"), (1.0, "1.00"),
                                     (-0.0123, "-0.0123"), (2048.0, "2048"), (None, "-")])
def test_three_significant_digits(v, want):
    assert fmt(v) == want


def test_fmt_interval():
    assert fmt_interval(0.5, 0.4512, 0.55) == "0.500 [0.451, 0.550]"
    assert fmt_interval(3e-5, 2e-5, 4.5e-5) == "3.00e-05 [2.00e-05, 4.50e-05]"


# ------------------------------------------------------------------------------------------------ readings
def _records(gaps: dict[str, tuple[float, float, float]]) -> dict:
    rec = {"original": {"X": {"value": 2.0, "lo": 1.9, "hi": 2.1}}, "retrain": {"X": {"value": 1.0, "lo": 0.9, "hi": 1.1}}}
    for m, (g, lo, hi) in gaps.items():
        rec[m] = {"X": {"value": 1.0 + g, "lo": 1.0, "hi": 1.0, "gap": g, "gap_lo": lo, "gap_hi": hi}}
    return rec


def test_a_winner_only_when_its_interval_separates():
    from stages.report import closest_to_retrain

    res = closest_to_retrain(_records({"a": (0.1, 0.05, 0.15), "b": (0.5, 0.3, 0.7), "c": (0.9, 0.8, 1.0)}), "X")
    assert res["separated"] and res["best"] == ["a"]
    res = closest_to_retrain(_records({"a": (0.1, 0.05, 0.35), "b": (0.2, 0.3, 0.7), "c": (0.9, 0.8, 1.0)}), "X")
    assert not res["separated"] and res["best"] == ["a", "b"]


# ------------------------------------------------------------------------------------------------ attacks
def test_matched_populations_have_equal_counts_per_value():
    rng = np.random.default_rng(0)
    a, b = np.array([1, 1, 1, 2, 2, 3, 5]), np.array([1, 2, 2, 2, 3, 3, 4])
    ia, ib = membership.matched(a, b, rng)
    for v in (1, 2, 3, 4, 5):
        assert (a[ia] == v).sum() == (b[ib] == v).sum() == min((a == v).sum(), (b == v).sum())
    assert len(set(ia)) == len(ia) and len(set(ib)) == len(ib)  # without replacement


class _FakeTask:
    """Just what a metric family reads from a task: tables, targets, forget rows."""

    def __init__(self, tables, original, retain, forget):
        self.tables, self.original_target, self.retain_target, self.forget_rows = tables, original, retain, forget

    def table(self, split):
        return self.tables[split]


CFG = {"loss": "abs", "mia_splits": 3, "mia_seed": 0, "hist_bins": 5, "alpha": 15.0}


def _ltd_task():
    rng = np.random.default_rng(1)

    def frames(n, prefix):
        t = pd.DataFrame({"human": rng.integers(0, 3, n), "vehicle": rng.integers(0, 3, n)})
        t.insert(0, "file_name", [f"{prefix}{i}.jpg" for i in range(n)])
        return t

    train, test = frames(80, "tr"), frames(60, "te")
    train = pd.concat([train, train.iloc[:10]], ignore_index=True)  # rebalancing duplicated 10 frames
    return _FakeTask({"train": train, "test": test},
                     original=lambda t: (t["human"] + t["vehicle"]).to_numpy(float),
                     retain=lambda t: t["vehicle"].to_numpy(float), forget=lambda t: t["human"].to_numpy() > 0)


def test_ltd_membership_populations():
    task = _ltd_task()
    fam = counting.Family(task, CFG)
    train, test = task.table("train"), task.table("test")
    members = train.iloc[fam.member_rows]
    assert (members["human"] > 0).all() and not members["file_name"].duplicated().any()  # trained frames with humans, once
    assert set(members["file_name"]) == set(train.loc[train["human"] > 0, "file_name"])
    y_tr, y_te = task.original_target(train), task.original_target(test)
    preds = pd.DataFrame({"repeat": 0, "split": ["train"] * len(train) + ["test"] * len(test),
                          "row": np.r_[np.arange(len(train)), np.arange(len(test))], "pred": np.r_[y_tr, y_te]})
    p = fam.prepare(preds, 0)
    member, nonmember = fam._membership(p, None, np.random.default_rng(0))
    assert len(member) == len(nonmember) > 0 and np.all(member == 0) and np.all(nonmember == 0)
    # the populations are matched on y: same count distribution
    m, t = fam._membership_rows(None, np.random.default_rng(0))
    assert sorted(fam.y_member[m]) == sorted(y_te[t]) and (test["human"].to_numpy()[t] > 0).all()
    w, wo = fam._leak_rows(None, np.random.default_rng(0))
    has = test["human"].to_numpy() > 0
    assert has[w].all() and not has[wo].any() and sorted(fam.yp_test[w]) == sorted(fam.yp_test[wo])


def test_utk_membership_populations():
    ages_tr = np.array([20, 21, 22, 23, 24, 25, 30, 40, 50, 21, 22])
    aug = np.array([False] * 9 + [True, True])
    ages_te = np.array([20, 22, 27, 35, 45, 55])
    train = pd.DataFrame({"age": ages_tr, "group": np.minimum((ages_tr - 20) // 8, 4), "augmented": aug})
    test = pd.DataFrame({"age": ages_te, "group": np.minimum((ages_te - 20) // 8, 4)})
    task = _FakeTask({"train": train, "test": test}, original=lambda t: t["age"].to_numpy(float),
                     retain=lambda t: t["age"].to_numpy(float), forget=lambda t: t["group"].to_numpy() == 0)
    fam = age_forgetting.Family(task, CFG)
    assert fam.member_rows.tolist() == [0, 1, 2, 3, 4, 5]  # the group's real faces, never the augmented copies
    assert fam.group_test.tolist() == [0, 1, 2]  # held-out faces of the same group
    assert fam.populations() == {"test": 6, "member": 6, "nonmember": 3}


# ------------------------------------------------------------------------------------------------ probe
def test_probe_recovers_a_linear_count_and_not_noise():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 30))
    count = np.round(2 + x[:, 0] + 0.5 * x[:, 3]).clip(0)
    a, b = probe.halves(count, "r2", 0)
    assert len(set(a) & set(b)) == 0 and len(a) + len(b) == 200
    assert probe.score(x, count, "r2", a, b) > 0.8
    assert probe.score(rng.normal(size=(200, 30)), count, "r2", a, b) < 0.1


def test_probe_balanced_accuracy_separable_and_chance():
    rng = np.random.default_rng(1)
    y = (np.arange(120) % 4 == 0).astype(int)  # imbalanced: 1 in 4
    x = rng.normal(size=(120, 20))
    x[:, 2] += 4 * y  # Bayes balanced accuracy Phi(2) = 0.98
    a, b = probe.halves(y, "balanced_accuracy", 0)
    assert y[a].sum() == y[b].sum() == 15  # stratified halves
    assert probe.score(x, y, "balanced_accuracy", a, b) > 0.8  # 60 fitting samples, regularised
    chance = [probe.score(rng.normal(size=(120, 20)), y, "balanced_accuracy", *probe.halves(y, "balanced_accuracy", s),)
              for s in range(5)]
    assert 0.3 < np.mean(chance) < 0.7
    with pytest.raises(ValueError, match="at least 2 classes with 4 held-out samples each"):
        probe.check_target(np.r_[np.zeros(20), np.ones(2)], "balanced_accuracy", "test.csv")
    with pytest.raises(ValueError, match="at least 2 classes"):
        probe.check_target(np.zeros(20), "balanced_accuracy", "test.csv")
    probe.check_target(np.arange(40) % 10, "balanced_accuracy", "test.csv")  # K classes (a class-label probe)


def test_evaluate_settings_are_validated(tmp_path, monkeypatch):
    import yaml

    from stages import evaluate

    params = config.read_params()
    params["evaluate"]["bootstrap_attack"] = params["evaluate"]["bootstrap"] + 1
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.setattr(config, "PARAMS_FILE", str(tmp_path / "params.yaml"))
    with pytest.raises(ValueError, match="evaluate.bootstrap_attack"):
        evaluate.main(["--task", "ltd", "--root", str(tmp_path)])
    params["evaluate"]["bootstrap"] = 5
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(config.ParamError, match="evaluate.bootstrap"):
        evaluate.main(["--task", "ltd", "--root", str(tmp_path)])


def test_the_table_says_when_heatmaps_come_from_fewer_runs(tmp_path):
    """explain.repeats < repeats: the report's header names the explainer and the runs its heatmap intervals span."""
    import json

    from stages import tasks
    from stages.core import config
    from stages.report import explained_runs

    params = config.read_params()
    task = tasks.get("ltd", params)
    xai_dir = tmp_path / "reports" / "ltd" / "xai"
    xai_dir.mkdir(parents=True)
    (xai_dir / "sidu.json").write_text(json.dumps({"explainer": "sidu", "runs": 1, "models": {}}))
    text = explained_runs(task, params, 2, tmp_path)
    assert "Heatmap metrics of sidu: the first 1 of the 2 runs" in text and "that run" in text
    (xai_dir / "sidu.json").write_text(json.dumps({"explainer": "sidu", "runs": 2, "models": {}}))
    assert explained_runs(task, params, 2, tmp_path) == ""
