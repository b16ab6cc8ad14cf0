"""Tolerances for floating-point comparisons in the tests, derived from the computation being compared.

Rounding model (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., sections 2.2, 3.1, 4.2): every
basic operation is exact up to one rounding, fl(a op b) = (a op b)(1 + d) with |d| <= u, the unit roundoff (half
the machine epsilon: :data:`F32` for float32, :data:`F64` for float64). A result that went through n roundings is
within gamma_n = n u / (1 - n u) of the exact value (relative); a sum of n terms, or a dot product of length n, in
ANY order is within gamma_n * sum |x_i| of the exact sum. Two evaluations of the same quantity (another batch size,
thread count, kernel or library version: another summation order) each stay within that bound, so they differ by
at most twice it; that is what :func:`rel_tol` and :func:`sum_tol` return. The bound is nearly attained by some
inputs (tests/test_tolerance.py), so it cannot be tightened in general; for a long chain it is far above the
typical error, which is why a test must also show that its tolerance stays far below the effect it checks.

For a longer expression of sums and products, ``n`` counts the roundings along its longest chain and ``scale`` is
the same expression evaluated on absolute values (every input replaced by its absolute value, every subtraction
by an addition), which bounds every intermediate sum of absolute values.

For sums of thousands of terms the worst case n u is hundreds of times the real error: modelled as independent
zero-mean random variables, the rounding errors add up like a random walk, to about sqrt(n) u. :func:`prob_rel_tol` is
that probabilistic bound (Higham and Mary, "A new approach to probabilistic rounding error analysis", SIAM J.
Sci. Comput. 41(5), 2019): within lam sqrt(n) u relative except with probability about 2 n exp(-lam^2 / 2). Use
it only where the worst case would exceed the effect the test checks, and say so.
"""
from __future__ import annotations

import math

import numpy as np
import torch

F32 = 2.0 ** -24  # unit roundoff of float32 (machine epsilon 2**-23)
F64 = 2.0 ** -53  # unit roundoff of float64
# exp, log and the like are not correctly rounded: the fast vectorised exp of torch's CPU kernels (ATen's exp_u20,
# which softmax-like kernels may use) is documented accurate to 20 ulps, and one ulp is at most 2 u relative: count
# one such call as 40 roundings.
EXP_ROUNDINGS = 40


def unit_roundoff(dtype=torch.float32) -> float:
    """u of a torch or numpy floating dtype: 2**-24 for float32, 2**-53 for float64."""
    finfo = torch.finfo(dtype) if isinstance(dtype, torch.dtype) else np.finfo(dtype)
    return float(finfo.eps) / 2


def gamma(n: int, dtype=torch.float32) -> float:
    """gamma_n = n u / (1 - n u): relative error bound of n roundings (one evaluation against the exact value)."""
    nu = n * unit_roundoff(dtype)
    if not 0 <= nu < 1:
        raise ValueError(f"gamma_{n}: n u = {nu} must lie in [0, 1)")
    return nu / (1 - nu)


def rel_tol(n_ops: int, dtype=torch.float32) -> float:
    """Relative tolerance between two evaluations of a chain of ``n_ops`` roundings (or sums of ``n_ops`` terms of
    one sign): 2 gamma_n."""
    return 2 * gamma(n_ops, dtype)


def prob_rel_tol(n: int, dtype=torch.float32, lam: float = 6.0) -> float:
    """Probabilistic relative tolerance between two evaluations of a sum of ``n`` terms of one sign (or relative to
    the sum of absolute values): 2 lam sqrt(n) u. With lam = 6 the model's failure probability 2 n exp(-lam^2 / 2)
    stays below 1e-3 up to n = 3e4 terms."""
    return 2 * lam * math.sqrt(n) * unit_roundoff(dtype)


def sum_tol(n: int, scale, dtype=torch.float32) -> float:
    """Absolute tolerance between two evaluations, in any orders, of a sum or dot product of ``n`` terms whose
    absolute values sum to ``scale``: 2 gamma_n * scale."""
    return rel_tol(n, dtype) * float(scale)
