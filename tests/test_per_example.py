"""Per-example membership attacks (offline LiRA and RMIA against reference models) and the population attack's
replicates on resamples: analytic AUCs on synthetic logits, hand cases, slow reference loops, the leave-one-out
rule, and the bias of a bootstrap replicate of the population attack on null data."""
import math

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_curve
from sklearn.model_selection import StratifiedShuffleSplit

from stages.metrics import bootstrap, membership, per_example
from stages.metrics.families.classification import cross_entropy
from tests.tolerance import F64, rel_tol

K = 10            # classes of the synthetic logits
CFG = {"a": 0.3, "gamma": 1.0, "fprs": [0.01, 0.05]}


def _logits(phi: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Logits whose logit-scaled confidence in class y is phi: z_y = phi + log(K - 1), every other logit 0, so
    log p_y - log sum_{y' != y} p_y' = z_y - log(K - 1) = phi."""
    z = np.zeros((len(phi), K))
    z[np.arange(len(phi)), y] = phi + np.log(K - 1)
    return z


def _world(shift: float, n1=300, n0=300, refs=4, spread=1.0, noise=0.5, level=2.0, seed=0):
    """Per sample a difficulty d ~ N(level, spread^2) shared by every model; per model and sample phi = d + N(0,
    noise^2); the target's members (the first n1 samples) get phi + shift. Returns the target's and the references'
    Signals and the target's per-sample cross-entropy (the population attack's loss)."""
    rng = np.random.default_rng(seed)
    n = n1 + n0
    d, y = rng.normal(level, spread, n), rng.integers(0, K, n)
    member = np.arange(n) < n1

    def model(s):
        sig = per_example.classification_signals(_logits(d + rng.normal(0, noise, n) + s * member, y), y)
        return per_example.Signals("logits", sig[:n1], sig[n1:])

    target = model(shift)
    z = _logits(np.r_[target.member[:, 0], target.nonmember[:, 0]], y)
    return target, [model(0.0) for _ in range(refs)], cross_entropy(z, y)


def _hanley_mcneil(a: float, n1: int, n0: int) -> float:
    """Standard error of an AUC a on n1 positives and n0 negatives (Hanley and McNeil 1982)."""
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    return math.sqrt((a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a)) / (n1 * n0))


# ------------------------------------------------------------------------------------------------ analytic AUCs
def test_per_example_attacks_reach_the_analytic_auc_and_the_population_attack_does_not():
    """Gaussian case: phi_target - mean_ref phi = e_t - mean of K e_ref + shift * member, e ~ N(0, s^2) independent:
    variance s^2 (1 + 1/K), the difficulty d cancels. AUC = P(member > non-member) = Phi(shift / sqrt(2 s^2 (1 +
    1/K))) = Phi(0.8 / sqrt(0.625)) = 0.8442. The population attack ranks by the loss alone, where d stays: AUC =
    Phi(shift / sqrt(2 (D^2 + s^2))) = 0.6936. Tolerance: 4 Hanley-McNeil standard errors (0.016 on 300 + 300)."""
    n1 = n0 = 300
    target, refs, loss = _world(0.8, n1, n0, refs=4, spread=1.0, noise=0.5)
    ideal = stats.norm.cdf(0.8 / math.sqrt(2 * 0.25 * (1 + 1 / 4)))
    population = stats.norm.cdf(0.8 / math.sqrt(2 * (1.0 + 0.25)))
    tol = 4 * _hanley_mcneil(ideal, n1, n0)
    got = per_example.metrics(target, refs, (np.arange(n1), np.arange(n0)), CFG)
    pop = per_example.auc(-loss[:n1], -loss[n1:])  # the lower the loss, the likelier a member
    assert abs(got["LiRA_AUC"] - ideal) < tol
    # RMIA approximates the same likelihood ratio (offline, through a): near the optimum, below it at most by noise
    assert ideal - tol < got["RMIA_AUC"] < ideal + tol
    assert abs(pop - population) < 4 * _hanley_mcneil(population, n1, n0)
    assert pop < ideal - tol  # per-sample difficulty hides the shift from one threshold over all losses
    assert got["RMIA_TPR@1%FPR"] > 0.01 and got["RMIA_TPR@5%FPR"] > got["RMIA_TPR@1%FPR"]


def test_no_shift_gives_chance_within_the_null_noise():
    """Members and non-members exchangeable: each AUC is a Mann-Whitney statistic under the null, standard error
    sqrt((n1 + n0 + 1) / (12 n1 n0)) = 0.0236 on 300 + 300; within 4 of them of 0.5."""
    n1 = n0 = 300
    se0 = math.sqrt((n1 + n0 + 1) / (12 * n1 * n0))
    for seed in (1, 2):
        target, refs, _ = _world(0.0, n1, n0, seed=seed)
        got = per_example.metrics(target, refs, (np.arange(n1), np.arange(n0)), CFG)
        assert abs(got["LiRA_AUC"] - 0.5) < 4 * se0 and abs(got["RMIA_AUC"] - 0.5) < 4 * se0


def test_regression_attacks_see_a_fitted_target_and_not_an_unfitted_one():
    """Gaussian likelihood of the true target: members fitted (error shrunk 3-fold) are found, while a model with
    the references' error distribution scores chance."""
    rng = np.random.default_rng(3)
    n1 = n0 = 200
    bias = rng.normal(0, 3, n1 + n0)  # per-sample difficulty: a systematic error every model shares

    def model(shrink):
        e = bias + rng.normal(0, 1, n1 + n0)
        e[:n1] /= shrink
        return per_example.Signals("gaussian", e[:n1] ** 2, e[n1:] ** 2)

    refs, rows = [model(1.0) for _ in range(3)], (np.arange(n1), np.arange(n0))
    fitted, null = per_example.metrics(model(3.0), refs, rows, CFG), per_example.metrics(model(1.0), refs, rows, CFG)
    assert fitted["LiRA_AUC"] > 0.8 and fitted["RMIA_AUC"] > 0.8
    se0 = math.sqrt((n1 + n0 + 1) / (12 * n1 * n0))
    assert abs(null["LiRA_AUC"] - 0.5) < 4 * se0 and abs(null["RMIA_AUC"] - 0.5) < 4 * se0


# ------------------------------------------------------------------------------------------------ hand cases
def test_signals_by_hand():
    # p = (0.7, 0.2, 0.1) for class 0: phi = log 0.7 - log 0.3, p_y = 0.7
    z = np.log([[0.7, 0.2, 0.1]])
    phi, p = per_example.classification_signals(z, np.array([0]))[0]
    assert phi == pytest.approx(math.log(0.7 / 0.3), rel=rel_tol(20, F64))
    assert p == pytest.approx(0.7, rel=rel_tol(20, F64))
    # a certain prediction keeps a finite, exact phi (p_y rounds to 1, log p_y - log(1 - p_y) would be inf)
    phi, p = per_example.classification_signals(np.array([[60.0, 0.0, 0.0]]), np.array([0]))[0]
    assert phi == pytest.approx(60 - math.log(2), rel=rel_tol(20, F64)) and p == 1.0
    # regression: error 1, s^2 = 2: L = 1/4, p = exp(-1/4), phi = log p - log(1 - p)
    phi, p = per_example.regression_signals(np.array([1.0]), 2.0)
    want = math.exp(-0.25)
    assert p[0] == pytest.approx(want, rel=rel_tol(10, F64))
    assert phi[0] == pytest.approx(math.log(want) - math.log(1 - want), rel=rel_tol(40, F64))
    assert np.isfinite(per_example.regression_signals(np.array([0.0]), 1.0)[0][0])  # a perfect prediction
    refs = [per_example.Signals("gaussian", np.zeros(1), np.array([1.0, 3.0])),
            per_example.Signals("gaussian", np.zeros(1), np.array([5.0, 7.0]))]
    assert per_example.gaussian_variance(refs, np.array([0, 1])) == 4.0  # (1 + 3 + 5 + 7) / 4
    assert per_example.gaussian_variance(refs, np.array([1, 1])) == 5.0  # a replicate's rows, repeats counted


def test_lira_by_hand():
    """References (2 x 2) [[0, 2], [2, 4]]: means (1, 3); sigma = std of (0, 2, 2, 4) = sqrt(2); target (2, 3) ->
    z = (1 / sqrt 2, 0); Lambda = Phi(z)."""
    z = per_example.lira(np.array([2.0, 3.0]), np.array([[0.0, 2.0], [2.0, 4.0]]))
    assert z == pytest.approx([1 / math.sqrt(2), 0.0], abs=rel_tol(10, F64))
    assert per_example.lira_score(np.array([2.0]), np.array([[0.0], [2.0]]))[0] == pytest.approx(
        stats.norm.cdf(1.0), rel=rel_tol(10, F64))  # mean 1, sigma 1


def _rmia_slow(p_x, ref_x, p_z, ref_z, a, gamma):
    """RMIA written out sample by sample, exactly as REFERENCE section 14 states it."""
    def ratio(p, refs):
        mean = sum(refs) / len(refs)
        return p / ((1 + a) / 2 * mean + (1 - a) / 2)
    out = []
    for i in range(len(p_x)):
        r_x = ratio(p_x[i], [r[i] for r in ref_x])
        wins = 0
        for j in range(len(p_z)):
            if r_x / ratio(p_z[j], [r[j] for r in ref_z]) > gamma:
                wins += 1
        out.append(wins / len(p_z))
    return np.array(out)


@pytest.mark.parametrize("a,gamma", [(0.3, 1.0), (0.6, 1.3)])
def test_rmia_matches_the_slow_loop(a, gamma):
    rng = np.random.default_rng(4)
    p_x, ref_x = rng.uniform(0.05, 1, 6), rng.uniform(0.05, 1, (2, 6))
    p_z, ref_z = rng.uniform(0.05, 1, 5), rng.uniform(0.05, 1, (2, 5))
    fast = per_example.rmia(per_example.rmia_ratio(p_x, ref_x, a), per_example.rmia_ratio(p_z, ref_z, a), gamma)
    np.testing.assert_array_equal(fast, _rmia_slow(p_x, ref_x, p_z, ref_z, a, gamma))
    assert len(set(fast)) > 2  # the case exercises several counts, not only 0 and 1


def test_auc_and_tpr_by_hand_and_against_the_roc_curve():
    assert per_example.auc([3.0, 2.0], [1.0, 2.0]) == 0.875  # 1 + 1 + 1 + 1/2 of 4 pairs
    neg, pos = np.arange(100.0), np.array([99.5, 98.5, 50.0])
    assert per_example.tpr_at_fpr(pos, neg, 0.01) == 2 / 3  # one negative (99) may be flagged
    assert per_example.tpr_at_fpr(pos, neg, 0.001) == 1 / 3  # none
    rng = np.random.default_rng(5)
    for _ in range(5):
        pos, neg = rng.normal(1, 1, 60).round(1), rng.normal(0, 1, 140).round(1)  # ties included
        fpr, tpr, _ = roc_curve(np.r_[np.ones(60), np.zeros(140)], np.r_[pos, neg])
        for f in (0.01, 0.05):
            assert per_example.tpr_at_fpr(pos, neg, f) == pytest.approx(tpr[fpr <= f + 1e-12].max(), abs=1e-12)
    assert per_example.resolvable([0.01, 0.05], 100) == [0.01, 0.05]
    assert per_example.resolvable([0.01, 0.05], 99) == [0.05]
    assert per_example.resolvable([0.01, 0.05], 19) == []
    assert per_example.metric_name(0.01) == "RMIA_TPR@1%FPR" and per_example.metric_name(0.05) == "RMIA_TPR@5%FPR"


# ------------------------------------------------------------------------------------------------ the evaluate stage
class _Family:
    """A metric family with a seed-dependent attack (value = seed) and given per-example signals."""

    def __init__(self, signals):
        self.sig = signals

    def metrics(self, p, ref, idx):
        return {}

    def attacks(self, p, ref, idx, seed):
        return {"MIA": float(seed)}

    def per_example(self, p):
        return self.sig[p]

    def per_example_rows(self, idx):
        return (np.arange(40), np.arange(40)) if idx is None else (idx["member"], idx["nonmember"])


def _evaluation(R: int, models=("original", "retrain")):
    """An Evaluation of a fake family, without files: predictions are keys into per-run signals; a tiny probe."""
    from stages.evaluate import Evaluation

    rng = np.random.default_rng(6)
    sig = {(m, r): per_example.Signals("logits", np.c_[rng.normal(size=40), rng.uniform(size=40)],
                                       np.c_[rng.normal(size=40), rng.uniform(size=40)])
           for m in models for r in range(R)}
    ev = object.__new__(Evaluation)
    ev.models, ev.R, ev.family = list(models), R, _Family(sig)
    ev.cfg = {"mia_seed": 7, "mia_seeds": 4, "bootstrap_attack": 10, "bootstrap": 20}
    ev.preds = {m: [(m, r) for r in range(R)] for m in models}
    ev.signals = {m: [sig[(m, r)] for r in range(R)] for m in models}
    ev.per_example_cfg = {**CFG, "fprs": [0.05]}
    ev.draws = bootstrap.draw({"member": 40, "nonmember": 40}, R, 20, 0)
    ev.meta = {m: {"optimizer_steps": [1] * R, "images_seen": [1] * R} for m in models}
    ev.feats = {m: rng.normal(size=(R, 20, 3)) for m in models}
    ev.probe_y, ev.probe_kind = np.arange(20) % 2, "balanced_accuracy"
    ev.halves = [(np.arange(10), np.arange(10, 20))]
    return ev, sig


def test_a_retrain_run_is_never_its_own_reference():
    ev, sig = _evaluation(3)
    rows = (np.arange(40), np.arange(40))
    for r in range(3):
        got = ev._per_example("retrain")(r, None)
        others = [sig[("retrain", j)] for j in range(3) if j != r]
        assert got == per_example.metrics(sig[("retrain", r)], others, rows, ev.per_example_cfg)
        every = [sig[("retrain", j)] for j in range(3)]
        assert got != per_example.metrics(sig[("retrain", r)], every, rows, ev.per_example_cfg)
        # any other model is scored against every Retrain run
        assert ev._per_example("original")(r, None) == per_example.metrics(sig[("original", r)], every, rows,
                                                                           ev.per_example_cfg)
    assert per_example.references(3, 1, leave_out=True) == [0, 2] and per_example.references(3, 1, False) == [0, 1, 2]
    one, _ = _evaluation(1)
    assert one._per_example("retrain")(0, None) == {}  # one run: no reference left for Retrain
    assert set(one._per_example("original")(0, None)) == {"LiRA_AUC", "RMIA_AUC", "RMIA_TPR@5%FPR"}


def test_the_attack_value_averages_the_seeds_its_replicates_use():
    """Replicate b of the population attack uses seed mia_seed + 1 + b; the value is the mean over the first
    mia_seeds of them (the fake attack returns its seed: 8, 9, 10, 11 -> 9.5). The per-example attacks come with
    every run's value and a replicate per bootstrap draw."""
    ev, _ = _evaluation(2)
    values, runs, reps = ev.model("original")
    assert values["MIA"] == 9.5 and runs["MIA"] == [9.5, 9.5]
    np.testing.assert_array_equal(reps["MIA"], np.repeat(8.0 + np.arange(10), 2).reshape(10, 2))
    for k in ("LiRA_AUC", "RMIA_AUC", "RMIA_TPR@5%FPR"):
        assert len(runs[k]) == 2 and reps[k].shape == (20, 2) and np.isfinite(reps[k]).all()
    assert "RMIA_TPR@1%FPR" not in values  # not a resolvable level here
    _, runs, _ = ev.model("retrain")
    assert len(runs["LiRA_AUC"]) == 2  # each Retrain run against the other


# ------------------------------------------------------------------------------------------------ population attack
def test_sample_splits_keep_every_copy_on_one_side_with_the_kits_class_counts():
    rng = np.random.default_rng(7)
    n = 37
    ids = np.r_[rng.integers(0, n, n), rng.integers(0, n, n)]  # a bootstrap draw of each class
    y = np.r_[np.zeros(n, int), np.ones(n, int)]
    key = ids * 2 + y
    n_test = math.ceil(membership.TEST_SHARE * y.size)
    kit = next(StratifiedShuffleSplit(n_splits=1, random_state=0).split(np.zeros((y.size, 1)), y))[1]
    assert n_test == kit.size
    for tr, te in membership._sample_splits(key, y, 10, n_test, seed=0):
        assert not set(key[tr]) & set(key[te])  # no sample on both sides
        assert te.size == n_test and sorted(np.bincount(y[te], minlength=2)) == sorted(np.bincount(y[kit]))
        assert np.union1d(tr, te).size == y.size


def test_ids_without_repeats_give_the_kits_attack():
    rng = np.random.default_rng(8)
    m, nm = rng.exponential(1.0, 60), rng.exponential(1.3, 45)
    plain = membership.mia_accuracy(m, nm, seed=3)
    assert membership.mia_accuracy(m, nm, seed=3, member_ids=np.arange(60) + 5, nonmember_ids=np.arange(45)) == plain
    with pytest.raises(ValueError, match="member_ids"):
        membership.mia_accuracy(m, nm, member_ids=np.arange(3))


def test_replicates_of_the_population_attack_are_unbiased_on_null_data():
    """Members and non-members from one distribution: per data set, the mean of 30 bootstrap replicates (each with
    its own seed, copies of a sample on one side of every split) minus the value (the attack on all samples, mean
    over 10 seeds). Their mean over 6 data sets is within noise of 0: the t quantile for a two-sided 0.1 % (5
    degrees of freedom) times the standard error from the data sets' spread. The noise is that of an accuracy on a
    few held-out rows (about 0.05 per data set), so this bounds the bias only coarsely; the mechanism behind the
    bias, copies on both sides of a split, is checked exactly by
    test_sample_splits_keep_every_copy_on_one_side_with_the_kits_class_counts."""
    rng = np.random.default_rng(9)
    diffs = []
    for _ in range(6):
        a, b = rng.exponential(1.0, 40), rng.exponential(1.0, 40)
        point = np.mean([membership.mia_accuracy(a, b, seed=s, n_splits=5) for s in range(1, 11)])
        reps = []
        for k in range(30):
            ia, ib = rng.integers(0, 40, 40), rng.integers(0, 40, 40)
            reps.append(membership.mia_accuracy(a[ia], b[ib], seed=100 + k, n_splits=5, member_ids=ia,
                                                nonmember_ids=ib))
        diffs.append(np.mean(reps) - point)
    se = np.std(diffs, ddof=1) / math.sqrt(len(diffs))
    assert abs(np.mean(diffs)) < stats.t.ppf(0.9995, len(diffs) - 1) * se
