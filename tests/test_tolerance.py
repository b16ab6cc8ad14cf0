"""tests/tolerance.py against hand computations and real float32 sums."""
import math

import numpy as np
import pytest
import torch

from tests.tolerance import F32, F64, gamma, prob_rel_tol, rel_tol, sum_tol, unit_roundoff


def test_unit_roundoff_and_bound_by_hand():
    assert unit_roundoff(torch.float32) == unit_roundoff(np.float32) == F32 == 2.0 ** -24
    assert unit_roundoff(torch.float64) == unit_roundoff(np.float64) == F64 == 2.0 ** -53
    assert unit_roundoff(torch.bfloat16) == 2.0 ** -8
    # 3 terms, |x| summing to 1, float32: 2 gamma_3 = 2 * 3u / (1 - 3u) = 6 / (2**24 - 3)
    hand = 6 / (2 ** 24 - 3)
    assert hand == pytest.approx(3.5762795e-07, rel=5e-8)  # printed with 8 digits
    # the formula and the hand simplification differ by a few float64 roundings (about 5 operations)
    assert sum_tol(3, 1.0) == pytest.approx(hand, rel=rel_tol(5, np.float64))
    assert sum_tol(3, 4.0) == 4 * sum_tol(3, 1.0) and rel_tol(3) == sum_tol(3, 1.0)
    assert gamma(0) == 0 and gamma(1, np.float64) == F64 / (1 - F64)
    assert prob_rel_tol(100) == 2 * 6 * 10 * 2.0 ** -24  # 2 lam sqrt(n) u, exact in binary
    with pytest.raises(ValueError, match="gamma"):
        gamma(2 ** 24)


def test_float32_sums_in_two_orders_stay_within_the_bound():
    n = 4096
    x = np.random.default_rng(0).normal(size=n).astype(np.float32)
    exact = math.fsum(x.astype(np.float64))  # float32 values are exact in float64; fsum rounds once
    forward = np.cumsum(x)[-1]  # sequential float32 additions, first to last
    backward = np.cumsum(x[::-1])[-1]  # the same terms, last to first
    pairwise = np.sum(x)  # numpy's blocked pairwise summation
    blocked = torch.from_numpy(x).view(64, 64).sum(1).sum().item()  # another order, as a batched reduction
    tol = sum_tol(n, np.abs(x.astype(np.float64)).sum())
    sums = [float(forward), float(backward), float(pairwise), float(blocked)]
    assert len(set(sums)) > 1  # the orders do round differently: the bound is exercised
    assert max(sums) - min(sums) <= tol
    assert all(abs(s - exact) <= tol / 2 for s in sums)  # each within gamma_n sum|x| of the exact sum


def test_bound_is_nearly_attained():
    """1 followed by n - 1 terms of u: summed first to last each addition of u to 1 rounds away (a tie, to even);
    last to first the small terms add up exactly. The two orders differ by (n - 1) u, half of the two-order bound
    2 gamma_n * sum|x| ~ 2 n u: the bound is not loose by more than a factor of about 2."""
    n = 1025
    x = np.full(n, F32, dtype=np.float32)
    x[0] = 1.0
    forward, backward = float(np.cumsum(x)[-1]), float(np.cumsum(x[::-1])[-1])
    assert forward == 1.0 and backward == 1.0 + (n - 1) * F32
    tol = sum_tol(n, 1.0 + (n - 1) * F32)
    assert backward - forward <= tol < 2.01 * (backward - forward)


def test_long_float32_sum_is_within_the_probabilistic_bound():
    """Positive terms, the worst case for a random walk of rounding errors (every partial sum grows): two orders
    in float32 differ by a sizeable part of sqrt(n) u sum|x|, hundreds of times below the worst case n u sum|x|."""
    n = 2 ** 16
    x = np.random.default_rng(1).random(n).astype(np.float32)
    scale = math.fsum(x.astype(np.float64))  # = sum |x|, exact up to one rounding
    forward, backward = float(np.cumsum(x)[-1]), float(np.cumsum(x[::-1])[-1])
    difference = abs(forward - backward)
    assert difference > 0.05 * math.sqrt(n) * F32 * scale  # the random walk is really there: not a few ulps
    assert difference <= prob_rel_tol(n) * scale <= rel_tol(n) / 40 * scale
