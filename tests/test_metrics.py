"""Metric library: hand-computed cases and slow reference implementations."""
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedShuffleSplit, cross_val_score

from stages.metrics import coverage, cost, forgetting, membership, published, regression
from tests.tolerance import EXP_ROUNDINGS, rel_tol, sum_tol

F64 = np.float64  # the metrics compute in float64; hand values are float64 too
ROUNDED_6 = 5e-7  # half a unit in the 6th decimal: reference values printed with 6 decimals
ROUNDED_2 = 5e-3  # half a unit in the 2nd decimal: the published tables


# ---------------------------------------------------------------- regression
def test_mae_rmse_hand():
    pred, target = np.array([1.0, 2.0, 4.0]), np.array([1.0, 0.0, 1.0])  # errors 0, 2, 3
    # small integers are exact; the mean's division and the square root round once each, as in the hand values
    assert regression.mae(pred, target) == pytest.approx(5 / 3, rel=rel_tol(2, F64))
    assert regression.rmse(pred, target) == pytest.approx(math.sqrt(13 / 3), rel=rel_tol(4, F64))
    assert regression.per_sample_loss(pred, target, "abs").tolist() == [0, 2, 3]
    assert regression.per_sample_loss(pred, target, "squared").tolist() == [0, 4, 9]


@pytest.mark.parametrize("pred,target,msg", [
    ([1, 2], [1, 2, 3], "shape"),
    ([], [], "empty"),
    ([1, np.nan], [1, 2], "non-finite"),
    ([[1, 2]], [[1, 2]], "1-D"),
])
def test_regression_validation(pred, target, msg):
    with pytest.raises(ValueError, match=msg):
        regression.mae(pred, target)


def test_per_sample_loss_bad_kind():
    with pytest.raises(ValueError, match="kind"):
        regression.per_sample_loss([1], [1], "huber")


def test_loss_histograms_integrate_to_one():
    rng = np.random.default_rng(0)
    f, t = rng.exponential(1.0, 200), rng.exponential(3.0, 150)
    h = regression.loss_histograms(f, t, bins=12)
    assert list(h.columns) == ["bin_center", "forget", "test"] and len(h) == 12
    width = np.diff(h["bin_center"]).mean()
    lo, hi = min(f.min(), t.min()), max(f.max(), t.max())
    # edges lo + i (hi - lo) / 12, centres, their differences and mean: about 16 roundings on values up to hi
    edge_tol = sum_tol(16, hi, F64)
    assert np.allclose(np.diff(h["bin_center"]), width, rtol=0, atol=edge_tol)
    # density = count / (n * bin width): each bin width is off by edge_tol, relative edge_tol / width; plus the
    # sum of 12 terms
    density_tol = edge_tol / width + rel_tol(12 + 4, F64)
    assert (h["forget"] * width).sum() == pytest.approx(1, abs=density_tol)
    assert (h["test"] * width).sum() == pytest.approx(1, abs=density_tol)
    # shared edges span both samples
    assert h["bin_center"].iloc[0] - width / 2 == pytest.approx(lo, abs=edge_tol)
    assert h["bin_center"].iloc[-1] + width / 2 == pytest.approx(hi, abs=edge_tol)


def test_loss_histograms_explicit_edges_and_errors():
    h = regression.loss_histograms([0.5, 0.5, 1.5], [2.5], bins=np.array([0.0, 1.0, 2.0, 4.0]))
    tol = sum_tol(4, 1.0, F64)  # count / n / width on small integers: a few roundings of values <= 1
    assert h["forget"].tolist() == pytest.approx([2 / 3, 1 / 3, 0], abs=tol)
    assert h["test"].tolist() == pytest.approx([0, 0, 0.5], abs=tol)  # width-2 bin
    with pytest.raises(ValueError, match="bins"):
        regression.loss_histograms([1.0], [1.0], bins=0)
    with pytest.raises(ValueError, match="increasing"):
        regression.loss_histograms([1.0], [1.0], bins=np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="test_losses: no value"):
        regression.loss_histograms([1.0], [9.0], bins=np.array([0.0, 2.0]))


# ---------------------------------------------------------------- box masks
def _boxes(rows):
    return pd.DataFrame(rows, columns=["row", "cls", "x_tl", "y_tl", "x_br", "y_br"])


def test_box_masks_hand_drawn():
    boxes = _boxes([
        (0, "human", 1, 1, 3, 2),              # integer box: y 1:2, x 1:3
        (0, "vehicle", 3.5, 0.2, 4.1, 1.0),    # float: floor/ceil -> y 0:1, x 3:5
        (1, "bicycle", 4.0, 2.5, 7.9, 5.0),    # past the right/bottom border -> y 2:4, x 4:6
        (1, "motorcycle", -1.5, -2, 0.5, 0.2),  # past the top-left corner -> y 0:1, x 0:1
        (1, "human", 0, 0, 0, 3),              # zero width: no pixel
    ])
    m = coverage.box_masks(boxes, n_images=3, height=4, width=6, classes=["bicycle", "motorcycle", "vehicle"])
    expect = np.zeros((3, 4, 6), dtype=int)
    expect[0] = [[0, 0, 0, 1, 1, 0],
                 [0, 0, 0, 0, 0, 0],
                 [0, 0, 0, 0, 0, 0],
                 [0, 0, 0, 0, 0, 0]]
    expect[1] = [[1, 0, 0, 0, 0, 0],
                 [0, 0, 0, 0, 0, 0],
                 [0, 0, 0, 0, 1, 1],
                 [0, 0, 0, 0, 1, 1]]
    assert m.dtype == bool and m.shape == (3, 4, 6)
    np.testing.assert_array_equal(m.astype(int), expect)  # image 2 has no box: all False

    h = coverage.box_masks(boxes, 3, 4, 6, classes="human")  # a single class name is accepted
    expect_h = np.zeros((3, 4, 6), dtype=bool)
    expect_h[0, 1:2, 1:3] = True
    np.testing.assert_array_equal(h, expect_h)


def test_box_masks_errors():
    with pytest.raises(ValueError, match="row = 5"):
        coverage.box_masks(_boxes([(5, "human", 0, 0, 1, 1)]), 2, 4, 4, ["human"])
    with pytest.raises(ValueError, match="index 0"):
        coverage.box_masks(_boxes([(0, "human", 3, 0, 1, 1)]), 2, 4, 4, ["human"])
    with pytest.raises(ValueError, match="missing column"):
        coverage.box_masks(pd.DataFrame({"row": [0]}), 1, 4, 4, ["human"])
    with pytest.raises(ValueError, match="classes"):
        coverage.box_masks(_boxes([]), 1, 4, 4, [])


# ---------------------------------------------------------------- heatmap coverage
def test_hc_all_mass_in_boxes_is_one():
    mask = np.zeros((2, 5, 5), dtype=bool)
    mask[0, 1:3, 1:4] = True
    mask[1, 0:2, 0:2] = True
    rng = np.random.default_rng(0)
    heat = rng.random((2, 5, 5)) * mask
    assert coverage.heatmap_coverage(heat, mask) == 1.0  # heat * mask is heat: the same sum over and over, exactly


def test_hc_uniform_heatmap_is_area_share():
    mask = np.zeros((2, 4, 5), dtype=bool)
    mask[0, 0:2, 0:2] = True   # 4 / 20
    mask[1, :, 0:3] = True     # 12 / 20
    heat = np.full((2, 4, 5), 0.7)
    # two float64 sums of up to 20 positive terms and a division, then a mean of 2
    np.testing.assert_allclose(coverage.heatmap_coverage_per_image(heat, mask), [0.2, 0.6], rtol=rel_tol(22, F64))
    assert coverage.heatmap_coverage(heat, mask) == pytest.approx(0.4, rel=rel_tol(24, F64))


def test_hc_excludes_empty_masks():
    mask = np.zeros((3, 2, 2), dtype=bool)
    mask[1, 0, 0] = True
    heat = np.array([[[1, 1], [1, 1]], [[3, 1], [0, 0]], [[0, 0], [0, 5]]], dtype=float)
    per = coverage.heatmap_coverage_per_image(heat, mask)
    assert np.isnan(per[0]) and np.isnan(per[2]) and per[1] == 0.75  # 3 / 4 of small integers: exact
    assert coverage.heatmap_coverage(heat, mask) == 0.75
    with pytest.raises(ValueError, match="none of the 3 masks"):
        coverage.heatmap_coverage(heat, np.zeros_like(mask))


def test_hc_shape_mismatch():
    with pytest.raises(ValueError, match="shape"):
        coverage.heatmap_coverage(np.ones((2, 3, 3)), np.ones((2, 3, 4), dtype=bool))


# ---------------------------------------------------------------- attention shift
def test_as_zero_for_identical_maps():
    rng = np.random.default_rng(1)
    h = rng.random((3, 6, 7)) + 0.01
    assert coverage.attention_shift(h, h) == 0
    # scale-free: 5 h / sum(5 h) equals h / sum(h) up to the rounding of 5 h, of the sum of 42 terms and of the
    # division, relative to the normalised values
    tol = sum_tol(h[0].size + 3, (h / h.sum(axis=(1, 2), keepdims=True)).max(), F64)
    assert coverage.attention_shift(h, 5 * h) == pytest.approx(0, abs=tol)


def test_as_2x2_hand():
    h = np.array([[[1, 0], [0, 1]], [[1, 0], [0, 0]]], dtype=float)
    r = np.ones((2, 2, 2))
    # image 0: diff [[.25, -.25], [-.25, .25]] -> std .25
    # image 1: diff [[.75, -.25], [-.25, -.25]], mean 0 -> std sqrt((.5625 + 3 * .0625) / 4)
    expect = (0.25 + math.sqrt(0.75 / 4)) / 2
    # quarters and halves are exact; the square root, the mean's sum and division round once each
    assert coverage.attention_shift(h, r) == pytest.approx(expect, rel=rel_tol(4, F64))
    np.testing.assert_allclose(coverage.attention_shift_per_image(h, r), [0.25, math.sqrt(0.1875)],
                               rtol=rel_tol(2, F64))


@pytest.mark.parametrize("bad,msg", [(0.0, "image 2 is all zero"), (np.nan, "image 2 has NaN"),
                                     (-1.0, "image 2 has negative")])
def test_as_hc_raise_naming_image(bad, msg):
    h = np.ones((4, 3, 3))
    h[2] = 0.0
    if bad != 0.0:
        h[2, 1, 1] = bad
    ok = np.ones((4, 3, 3))
    mask = np.ones((4, 3, 3), dtype=bool)
    with pytest.raises(ValueError, match="heatmaps: " + msg):
        coverage.heatmap_coverage(h, mask)
    with pytest.raises(ValueError, match="heatmaps: " + msg):
        coverage.attention_shift(h, ok)
    with pytest.raises(ValueError, match="reference: " + msg):
        coverage.attention_shift(ok, h)


def test_error_names_image_id():
    h = np.ones((2, 2, 2))
    h[1] = 0
    with pytest.raises(ValueError, match=r"image 1 \(clip_40_1813/image_0102\)"):
        coverage.attention_shift(h, np.ones((2, 2, 2)), ids=["a", "clip_40_1813/image_0102"])


# ---------------------------------------------------------------- utility / forgetting / F
def test_utility_and_f_hand():
    assert forgetting.utility(6.17, 4.81) == pytest.approx(6.17 / 4.81, rel=rel_tol(1, F64))  # the same division
    assert forgetting.f_score(1.25, 0.8) == pytest.approx(1.0, rel=rel_tol(2, F64))  # 0.8 and the product round
    with pytest.raises(ValueError, match="mae_model"):
        forgetting.utility(1.0, 0.0)
    with pytest.raises(ValueError, match="forgetting"):
        forgetting.f_score(1.0, 1.5)


def test_forgetting_hand():
    r = np.array([0.0, 2.0, 7.0])
    assert forgetting.forgetting(r, r) == 1.0
    e = np.array([0.0, 5.0, 1.0])  # |r - e| = 0, 3, 6
    expect = (1 + math.exp(-3 / 15) + math.exp(-6 / 15)) / 3
    tol = rel_tol(EXP_ROUNDINGS + 5, F64)  # per term a division and an exp, then a mean of 3 positive terms
    assert forgetting.forgetting(r, e) == pytest.approx(expect, rel=tol)
    assert forgetting.forgetting(r, e, alpha=3) == pytest.approx((1 + math.exp(-1) + math.exp(-2)) / 3, rel=tol)


def test_forgetting_legacy_pairwise_matches_double_loop():
    rng = np.random.default_rng(3)
    r, e = rng.exponential(5, 7), rng.exponential(6, 7)
    loop = sum(math.exp(-abs(r[j] - e[i]) / 15) for i in range(7) for j in range(7)) / 49
    # the notebook's own expression: (N,) minus (N, 1) broadcast to all pairs
    notebook = np.mean(np.exp(-np.abs(r - e.reshape(-1, 1)) / 15))
    legacy = forgetting.forgetting(r, e, legacy_pairwise=True)
    tol = rel_tol(EXP_ROUNDINGS + 49 + 4, F64)  # per pair a subtraction, a division and an exp; a mean of 49 terms > 0
    assert legacy == pytest.approx(loop, rel=tol) and legacy == pytest.approx(notebook, rel=tol)
    assert legacy != pytest.approx(forgetting.forgetting(r, e), rel=tol)  # another quantity (0.745 vs 0.706)
    assert forgetting.forgetting(r, r, legacy_pairwise=True) < 1  # pairs of different samples


def test_forgetting_legacy_reproduces_the_notebook_check_case():
    # the thesis notebook's legacy form: labels (n,) against Keras predictions (n, 1)
    y, r, o = [20, 25, 28], [24, 30, 22], [20, 26, 35]
    # a mean of 9 exp terms <= 1 (a few roundings each), against a value printed with 6 decimals
    tol = rel_tol(EXP_ROUNDINGS + 9 + 4, F64)
    printed = ROUNDED_6 + tol
    assert forgetting.forgetting_legacy(y, r, o, alpha=15) == pytest.approx(0.756954, abs=printed)
    err_r, err_o = np.abs(np.subtract(y, r)), np.abs(np.subtract(y, o))
    assert forgetting.forgetting(err_r, err_o, alpha=15) == pytest.approx(0.822455, abs=printed)
    # the notebook's own expression, predictions shaped (n, 1) as Keras returns them
    yy, rr, oo = np.array(y, float), np.array(r, float).reshape(-1, 1), np.array(o, float).reshape(-1, 1)
    notebook = np.mean(np.exp(-np.abs(np.abs(yy - rr) - np.abs(yy - oo)) / 15))
    assert forgetting.forgetting_legacy(yy, rr, oo) == pytest.approx(notebook, rel=tol)
    # the all-pairs-of-errors variant is another quantity (0.787): not the printed number
    assert forgetting.forgetting(err_r, err_o, legacy_pairwise=True) != pytest.approx(0.756954, abs=printed)
    with pytest.raises(ValueError, match="shape"):
        forgetting.forgetting_legacy([1.0, 2.0], [1.0], [1.0])
    with pytest.raises(ValueError, match="alpha"):
        forgetting.forgetting_legacy(y, r, o, alpha=0)


def test_forgetting_validation():
    with pytest.raises(ValueError, match="absolute errors"):
        forgetting.forgetting([1.0, -1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="shape"):
        forgetting.forgetting([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="alpha"):
        forgetting.forgetting([1.0], [1.0], alpha=0)


# ---------------------------------------------------------------- membership inference
def test_mia_identical_distributions_near_chance():
    rng = np.random.default_rng(0)
    acc = membership.mia_accuracy(rng.exponential(1, 300), rng.exponential(1, 300))
    assert abs(acc - 0.5) < 0.1  # sampling, not rounding: the mean over 10 splits of 60 test rows (fixed seed)


def test_mia_separated_distributions():
    rng = np.random.default_rng(0)
    members, nonmembers = rng.normal(0.1, 0.05, 200), rng.normal(3.0, 0.5, 200)
    assert membership.mia_accuracy(members, nonmembers) > 0.95


def test_mia_matches_starting_kit_and_is_deterministic():
    rng = np.random.default_rng(1)
    m, nm = rng.exponential(1.0, 120), rng.exponential(1.5, 120)
    # the kit on balanced groups: test losses (0) then forget losses (1), LR, SSS(10, random_state=0)
    x = np.concatenate([nm, m]).reshape(-1, 1)
    y = [0] * 120 + [1] * 120
    kit = cross_val_score(LogisticRegression(), x, y, scoring="accuracy",
                          cv=StratifiedShuffleSplit(n_splits=10, random_state=0)).mean()
    # the same fits and predictions; the 10 accuracies (k / 24, rounded once) averaged, at most in another order
    assert membership.mia_accuracy(m, nm, seed=0) == pytest.approx(kit, rel=rel_tol(10 + 1, F64))
    # unbalanced in either direction: deterministic for a fixed seed
    big = rng.exponential(1.0, 400)
    for a, b in ((big, nm), (m, big)):
        assert membership.mia_accuracy(a, b, seed=7) == membership.mia_accuracy(a, b, seed=7)
    kit3 = cross_val_score(LogisticRegression(), x, y, scoring="accuracy",
                           cv=StratifiedShuffleSplit(n_splits=3, random_state=0)).mean()
    # n_splits: the kit's mean over 3 splits instead of 10 (3 accuracies, one mean); a different value here
    assert membership.mia_accuracy(m, nm, seed=0, n_splits=3) == pytest.approx(kit3, rel=rel_tol(3 + 1, F64))
    assert kit3 != kit


def test_mia_too_few_samples():
    with pytest.raises(ValueError, match="at least 10"):
        membership.mia_accuracy(np.ones(50), np.ones(4))
    with pytest.raises(ValueError, match="n_splits"):
        membership.mia_accuracy(np.ones(50), np.ones(50), n_splits=0)


# ---------------------------------------------------------------- cost
def test_cost_ratio():
    out = cost.cost_ratio({"wall_time_s": 30.0, "optimizer_steps": np.int64(300)},
                          {"wall_time_s": 120, "optimizer_steps": 1000})
    one = rel_tol(1, F64)  # a single division
    assert out == {"time_ratio": pytest.approx(0.25, rel=one), "steps_ratio": pytest.approx(0.3, rel=one)}
    with pytest.raises(ValueError, match="optimizer_steps"):
        cost.cost_ratio({"wall_time_s": 1.0}, {"wall_time_s": 1.0, "optimizer_steps": 1})
    with pytest.raises(ValueError, match="retrain_meta.*> 0"):
        cost.cost_ratio({"wall_time_s": 1.0, "optimizer_steps": 1}, {"wall_time_s": 0, "optimizer_steps": 1})


# ---------------------------------------------------------------- published tables
def test_published_tables_consistent():
    assert set(published.LTD_TABLE1) == {"original", "retrain", "finetune", "prune", "reinit", "confuse"}
    assert [m for m, row in published.LTD_TABLE1.items() if row["AS"] is None] == ["original"]
    assert len(published.UTK_THESIS_TABLE8) == 5
    for group in published.UTK_THESIS_TABLE8.values():  # F = Utility x Forgetting up to the 2-digit rounding
        for row in group.values():
            # printed U, Fo and F each within r = ROUNDED_2 of the true values, so U Fo - F =
            # e_U Fo + e_Fo U + e_U e_Fo - e_F (true U, Fo) is at most r (U + Fo + 1) + 3 r^2 (printed U, Fo)
            tol = ROUNDED_2 * (1 + row["Utility"] + row["Forgetting"]) + 3 * ROUNDED_2 ** 2
            assert forgetting.f_score(row["Utility"], row["Forgetting"]) == pytest.approx(row["F"], abs=tol)
    t5, t8 = published.UTK_THESIS_TABLE5_MAE, published.UTK_THESIS_TABLE8[(20, 28)]
    assert round(forgetting.utility(t5["retrain"][102], t5["original"][142]), 2) == t8["original"]["Utility"]
    assert round(forgetting.utility(t5["retrain"][102], t5["finetune"][8]), 2) == t8["finetune"]["Utility"]
    for model in published.UTK_THESIS:
        assert published.UTK_THESIS[model]["F"] == t8[model]["F"]


def test_valid_maps_flags_zero_negative_and_nan_heatmaps():
    from stages.metrics.coverage import valid_maps

    h = np.ones((4, 2, 2))
    h[1] = 0
    h[2, 0, 0] = -1
    h[3, 1, 1] = np.nan
    assert valid_maps(h).tolist() == [True, False, False, False]
