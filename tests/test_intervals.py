"""Intervals, readings, membership populations and the representation probe (issue: verdicts that hold up)."""
import itertools

import numpy as np
import pandas as pd
import pytest

from stages.core import config
from stages.core.tables import fmt, fmt_interval
from stages.metrics import bootstrap, membership, probe
from stages.metrics.families import age_forgetting, counting
from tests.conftest import ROOT
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
    got = tuple(np.percentile(bootstrap.replicates(_mean_stat([x]), d)["m"], [2.5, 97.5]))
    # Monte Carlo, not rounding: resample means lie on a 0.2 grid, and 20000 draws put a 2.5 % quantile within
    # about 0.03 (one standard error) of the exact one; one grid step plus that margin
    assert got == pytest.approx(tuple(want), abs=0.25)
    assert bootstrap.point(_mean_stat([x]), 1)[0]["m"] == 3.0  # 15 / 5: small integers, exact


def test_repeats_alone_give_the_hand_computed_interval():
    """Two runs, constant over the samples, values 1 and 3: no sampling part; run-to-run variance s^2 = 2, so the
    mean 2 has standard error sqrt(2 / 2) = 1 on 1 degree of freedom: 2 +/- t(0.975, 1) = 2 +/- 12.7062."""
    data = [np.ones(4), 3 * np.ones(4)]
    d = bootstrap.draw({"s": 4}, repeats=2, n=400, seed=0)
    reps = bootstrap.replicates(_mean_stat(data), d)["m"]
    assert reps.shape == (400, 2) and np.all(reps == [1.0, 3.0])  # each run on every draw of the samples
    value, runs = bootstrap.point(_mean_stat(data), 2)
    assert value["m"] == 2.0 and runs["m"] == [1.0, 3.0]
    mean, lo, hi = bootstrap.t_interval(runs["m"], reps)
    t = 12.706204736174698  # scipy.stats.t.ppf(0.975, 1)
    assert mean == 2.0 and lo == pytest.approx(2 - t, rel=1e-12) and hi == pytest.approx(2 + t, rel=1e-12)  # float64, a handful of operations


def test_one_run_gives_the_sampling_part_alone():
    """R = 1: the interval is mean +/- t(0.975, B - 1) * sd(replicates)."""
    reps = np.array([0.1, 0.3, 0.2, 0.4])
    mean, lo, hi = bootstrap.t_interval([0.25], reps)
    half = 3.182446305284263 * reps.std(ddof=1)  # t(0.975, 3)
    assert (mean, lo, hi) == pytest.approx((0.25, 0.25 - half, 0.25 + half), rel=1e-12)


def test_the_three_variance_parts_by_hand():
    """Two runs with values 1 and 4, replicates a = (0, 2, 4) and b = (1, 1, 4): var a = 4, var b = 3,
    cov(a, b) = 3 -> shared sampling part 3, each run's own part (4 + 3) / 2 - 3 = 0.5; run effects
    tau^2 = var(1, 4) - 0.5 = 4; half^2 = t(.975, 1)^2 * 4 / 2 + t(.975, 2)^2 * (3 + 0.5 / 2)."""
    reps = np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 4.0]])
    t1, t2 = 12.706204736174698, 4.302652729749464  # scipy.stats.t.ppf(0.975, 1), (0.975, 2)
    half = np.sqrt(t1 ** 2 * 2.0 + t2 ** 2 * 3.25)
    assert bootstrap.t_interval([1.0, 4.0], reps) == pytest.approx((2.5, 2.5 - half, 2.5 + half), rel=1e-12)


def _coverage(R: int, tau: float, sigma_sample: float, sigma_noise: float, sims: int = 1000, n: int = 60,
              B: int = 100, seed: int = 0) -> float:
    """Share of ``sims`` simulated evaluations whose 95 % interval covers the truth mu. Per simulation: R runs with
    run effects N(0, tau^2), n samples with difficulties N(0, sigma_sample^2) shared by the runs, and per run and
    sample noise N(0, sigma_noise^2); the metric of a run is its mean over the samples; the estimand is mu."""
    rng, mu, hits = np.random.default_rng(seed), 0.3, 0
    for s in range(sims):
        x = (mu + rng.normal(0, tau, (R, 1)) + rng.normal(0, sigma_sample, (1, n))
             + rng.normal(0, sigma_noise, (R, n)))
        d = bootstrap.draw({"s": n}, R, B, seed=s)
        runs = x.mean(axis=1)
        reps = x[:, d.idx["s"]].mean(axis=2).T  # (B, R): every run on replicate b's samples
        _, lo, hi = bootstrap.t_interval(runs, reps)
        hits += lo <= mu <= hi
    return hits / sims


def test_the_vectorised_replicates_are_the_pipelines():
    x = np.random.default_rng(1).normal(size=(3, 20))
    d = bootstrap.draw({"s": 20}, 3, 50, seed=2)
    got = bootstrap.replicates(lambda r, idx: {"m": float(np.mean(x[r] if idx is None else x[r][idx["s"]]))}, d)
    np.testing.assert_allclose(got["m"], x[:, d.idx["s"]].mean(axis=2).T, rtol=1e-12)


@pytest.mark.parametrize("R", [2, 3, 5])
@pytest.mark.parametrize("case,tau,sigma_sample,sigma_noise", [
    ("sampling dominates", 0.005, 1.0, 0.3),
    ("runs dominate", 0.3, 0.1, 0.1),
])
def test_intervals_cover_the_truth_95_percent_of_the_time(R, case, tau, sigma_sample, sigma_noise):
    """1,000 independent simulated evaluations: a calibrated 95 % interval covers the truth in 93-97 % of them (the
    binomial standard error of 1,000 draws at 0.95 is 0.7 points, so the band is about +/- 3 of them)."""
    cov = _coverage(R, tau, sigma_sample, sigma_noise)
    assert 0.93 <= cov <= 0.97, f"{case}, R = {R}: coverage {cov:.3f}"


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
    # the gap is the difference of two float64 means of 40 values (a + 0.5 and a), rounded to 6 digits once
    tol = SIG6 * 0.5 + sum_tol(len(a) + 2, np.abs(a).mean() + 0.5, F64)
    assert rec["b"]["m"]["gap"] == pytest.approx(0.5, abs=tol)
    assert rec["b"]["m"]["gap_lo"] == pytest.approx(0.5, abs=tol)
    assert rec["b"]["m"]["gap_hi"] == pytest.approx(0.5, abs=tol)
    assert "gap" not in rec["retrain"]["m"]


def test_gap_interval_from_the_signed_difference():
    assert bootstrap.gap_from(-0.2, 0.6) == (0.0, 0.6)
    assert bootstrap.gap_from(-0.6, -0.2) == (0.2, 0.6)


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
def _records(gap_a: float, gap_b: float, seed: int = 0) -> dict:
    """records() of Original, Retrain and methods a, b on one metric X: R = 3 runs with a large run effect and B = 100
    replicates with a large sampling effect shared by every model, so each model's own interval is wide; a and b sit
    gap_a and gap_b above Retrain, with little noise of their own."""
    rng = np.random.default_rng(seed)
    R, B = 3, 100
    run_fx, samp_fx = rng.normal(0, 0.5, R), rng.normal(0, 0.5, (B, 1))
    runs, reps, values = {}, {}, {}
    for m, g in {"original": 1.0, "retrain": 0.0, "a": gap_a, "b": gap_b}.items():
        own = rng.normal(0, 0.01, R)
        runs[m] = {"X": list(1.0 + g + run_fx + own)}
        reps[m] = {"X": 1.0 + g + run_fx + own + samp_fx + rng.normal(0, 0.01, (B, R))}
        values[m] = {"X": float(np.mean(runs[m]["X"]))}
    return bootstrap.records(values, runs, reps, rank=["a", "b"])


def test_a_winner_only_when_the_paired_gap_difference_excludes_zero():
    from stages.report import closest_to_retrain

    rec = _records(0.1, 0.3)
    a, b = rec["a"]["X"], rec["b"]["X"]
    assert not bootstrap.separated((a["lo"], a["hi"]), (b["lo"], b["hi"]))  # their own intervals overlap ...
    res = closest_to_retrain(rec, "X")                                      # ... the paired comparison decides
    assert res["separated"] and res["best"] == ["a"] and [r[0] for r in res["ranked"]] == ["a", "b"]
    d, lo, hi = res["vs"]["b"][1:]
    assert lo > 0 and abs(d - 0.2) < 0.02 and rec["a"]["X"]["gap_vs_best"] == ["a", 0.0, 0.0, 0.0]
    res = closest_to_retrain(_records(0.1, 0.1), "X")
    assert not res["separated"] and sorted(res["best"]) == ["a", "b"]
    assert "gap_vs_best" not in rec["original"]["X"]  # the Original is not a candidate


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
    fam = counting.CountingMetrics(task, CFG)
    train, test = task.table("train"), task.table("test")
    members = train.iloc[fam.member_rows]
    assert (members["human"] > 0).all() and not members["file_name"].duplicated().any()  # trained frames with humans, once
    assert set(members["file_name"]) == set(train.loc[train["human"] > 0, "file_name"])
    y_tr, y_te = task.original_target(train), task.original_target(test)
    preds = pd.DataFrame({"repeat": 0, "split": ["train"] * len(train) + ["test"] * len(test),
                          "row": np.r_[np.arange(len(train)), np.arange(len(test))], "pred": np.r_[y_tr, y_te]})
    p = fam.prepare(preds, 0)
    member, nonmember, mi, ni = fam._membership(p, None, np.random.default_rng(0))
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
    fam = age_forgetting.AgeForgettingMetrics(task, CFG)
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


@pytest.mark.parametrize("task", sorted(p.parent.name for p in (ROOT / "reports").glob("*/intervals.json")))
def test_no_reported_value_lies_outside_its_interval(task):
    """Every committed report: each value of summary.json inside its interval in intervals.json (the value is the
    estimator the interval describes). Values and ends are written with 6 significant digits, so an end may move
    by half a unit in the 6th digit of its magnitude."""
    import json

    summary = json.loads((ROOT / "reports" / task / "summary.json").read_text())
    intervals = json.loads((ROOT / "reports" / task / "intervals.json").read_text())
    outside = []
    for m, metrics in summary.items():
        for k, v in metrics.items():
            iv = intervals.get(m, {}).get(k)
            if v is None or not iv or iv.get("lo") is None:
                continue
            slack = 5e-6 * max(abs(v), abs(iv["lo"]), abs(iv["hi"]))
            if not iv["lo"] - slack <= v <= iv["hi"] + slack:
                outside.append(f"{m}.{k} = {v} not in [{iv['lo']}, {iv['hi']}]")
    assert not outside, outside
