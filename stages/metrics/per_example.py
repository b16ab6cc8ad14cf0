"""Per-example membership attacks calibrated on reference models: offline LiRA and offline RMIA (REFERENCE 14).

A population attack (:mod:`stages.metrics.membership`) puts one threshold on every sample's loss, so a sample that
is merely easy looks like a member. A per-example attack compares the target model's output on sample x with what
models that never trained on x output there. Every Retrain run is such an OUT reference for every forget sample and
every held-out sample, so the references cost nothing to train; a Retrain run is never its own reference
(:func:`references`).

Signals of one model on one sample (:func:`classification_signals`, :func:`regression_signals`):
- classification: ``phi`` = log p_y - log sum_{y' != y} p_y' (LiRA's logit-scaled confidence of the true class,
  computed from the logits as z_y - logsumexp_{y' != y} z_y'), ``p`` = p_y (RMIA's signal, the softmax);
- regression: ``p`` = exp(-(f(x) - y)^2 / (2 s^2)), the Gaussian likelihood of the true target y (unnormalised, so
  that it is 1 at a perfect prediction as a class probability is 1 at a certain one), ``phi`` = log p - log(1 - p),
  the logit scaling of the two-outcome case. s^2 = the references' mean squared error on the held-out samples: the
  maximum-likelihood noise variance of a Gaussian centred on a reference model's prediction, i.e. the error scale
  of a model that never saw the samples. It is one number per attack (the same for the target and its references),
  so LiRA's ranking does not depend on it; RMIA's does through the constant (1 - a) / 2, which is why p is put on
  the scale of the references' typical error (p = exp(-1/2) at a typical error) instead of an arbitrary one.

Attacks, members = forget samples (positives), non-members = held-out samples of the same kind (negatives):
- **offline LiRA** (Carlini et al. 2022): per sample, the references' mean mu(x) of phi (the authors' script takes
  the median, the same up to 2 references); one global sigma, the standard deviation of every reference value
  pooled over samples and references (the authors' "fixed variance", better than a per-sample one below about 64
  references; we have a handful). Score Lambda = 1 - Pr[Z > phi_target(x)] = Phi((phi_target(x) - mu(x)) / sigma),
  Z ~ N(mu(x), sigma^2): higher = more likely a member (the paper's one-sided test). Ranked by z = (phi - mu) /
  sigma, which orders samples as Lambda does without Lambda's rounding to 1.0 in float64 beyond z ~ 8.
- **offline RMIA** (Zarifzadeh et al. 2024): P(x) = (1 + a) / 2 * mean_ref p(x) + (1 - a) / 2; r_x = p_target(x) /
  P(x); score(x) = share of population samples z (the held-out negatives, r_z with the same P) with r_x / r_z > gamma.

Metrics: ``LiRA_AUC``, ``RMIA_AUC`` (area under the ROC, ties counted half), ``RMIA_TPR@<f>%FPR`` (the highest TPR at
a threshold that flags at most floor(f n0) of the n0 negatives), the latter only for levels f with n0 >= 1 / f
(:func:`resolvable`: 1 % needs 100 negatives, 5 % needs 20). 0.5 AUC = no membership signal; Retrain's is about 0.5
by construction.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from stages.core import config

SCHEMA = {"rmia_a": config.Float(min=0, max=1), "rmia_gamma": config.Float(min=0, min_open=True)}
# FPR levels of the TPR metrics: 1 % and 5 %, the field's low-FPR reading (part of the metrics' names)
FPRS = (0.01, 0.05)
LEGEND = {
    "LiRA_AUC": "per-example attack, offline LiRA: the model's logit-scaled confidence in the true class (regression: "
                "of the Gaussian likelihood of the true target) on each sample against Retrain's runs on that sample "
                "(their mean, one pooled sigma); AUC forget vs held-out samples of the same kind; 0.5 = no trace; "
                "ideal: Retrain's (about 0.5; a Retrain run is scored against the other runs). The per-example "
                "attacks fit nothing: their intervals use every evaluate.bootstrap draw",
    "RMIA_AUC": "per-example attack, offline RMIA (a = evaluate.rmia_a, gamma = evaluate.rmia_gamma): the model's "
                "probability of the true class (regression: Gaussian likelihood of the true target) over Retrain's "
                "runs', compared with the same ratio on the held-out samples; AUC forget vs held-out; ideal: "
                "Retrain's (about 0.5)",
    "RMIA_TPR@1%FPR": "share of forget samples RMIA flags at the threshold that flags 1 % of the held-out ones; "
                      "absent (-) with fewer than 100 held-out samples of the kind; ideal: Retrain's (about 0.01)",
    "RMIA_TPR@5%FPR": "as RMIA_TPR@1%FPR at 5 %; absent (-) with fewer than 20 held-out samples; ideal: Retrain's "
                      "(about 0.05)",
}


@dataclass
class Signals:
    """One model run's attack inputs on the member and non-member samples (whole populations, sample order).
    ``logits``: (n, 2) arrays of (phi, p); ``gaussian``: (n,) squared errors of the true target."""
    kind: str
    member: np.ndarray
    nonmember: np.ndarray


def settings(cfg: dict) -> dict:
    """The attacks' settings from the validated ``evaluate`` section (keys of :data:`SCHEMA`)."""
    return {"a": cfg["rmia_a"], "gamma": cfg["rmia_gamma"], "fprs": list(FPRS)}


def metric_name(fpr: float) -> str:
    """``RMIA_TPR@1%FPR`` for 0.01."""
    return f"RMIA_TPR@{100 * fpr:g}%FPR"


def resolvable(fprs: list[float], negatives: int) -> list[float]:
    """The FPR levels a TPR can be read at with ``negatives`` negatives: n0 * f >= 1, so that the threshold may
    flag at least one negative (1 % needs 100, 5 % needs 20)."""
    return [f for f in fprs if negatives * f >= 1 - 1e-9]


def references(repeats: int, r: int, leave_out: bool) -> list[int]:
    """The Retrain runs that serve as OUT references when scoring run ``r``: all of them, or all but ``r`` when the
    target is a Retrain run itself (``leave_out``): a model is never its own reference."""
    return [j for j in range(repeats) if not (leave_out and j == r)]


# ------------------------------------------------------------------------------------------------ signals
def classification_signals(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(n, 2): phi = z_y - logsumexp_{y' != y} z_y' (= log p_y - log(1 - p_y), exact for any confidence) and p_y."""
    z = np.asarray(logits, np.float64)
    y = np.asarray(y, int)
    rows = np.arange(len(y))
    zy = z[rows, y]
    other = z.copy()
    other[rows, y] = -np.inf
    lse_other = np.logaddexp.reduce(other, axis=1)
    lse_all = np.logaddexp(lse_other, zy)
    return np.stack([zy - lse_other, np.exp(zy - lse_all)], 1)


def regression_signals(sq_err: np.ndarray, var: float) -> tuple[np.ndarray, np.ndarray]:
    """(phi, p) of the Gaussian likelihood p = exp(-L), L = sq_err / (2 var): phi = log p - log(1 - p) = -L -
    log(-expm1(-L)); L is floored at the smallest normal float so that a perfect prediction gets a finite phi."""
    L = np.maximum(np.asarray(sq_err, np.float64) / (2 * var), np.finfo(np.float64).tiny)
    return -L - np.log(-np.expm1(-L)), np.exp(-L)


def gaussian_variance(refs: list[Signals], rows: np.ndarray) -> float:
    """s^2: the references' mean squared error on the non-member samples ``rows`` (at least the smallest normal)."""
    return max(float(np.mean([s.nonmember[rows] for s in refs])), np.finfo(np.float64).tiny)


def _phi_p(s: Signals, member_rows, nonmember_rows, var) -> tuple[np.ndarray, np.ndarray]:
    """(phi, p) of the member rows followed by the non-member rows."""
    if s.kind == "logits":
        x = np.concatenate([s.member[member_rows], s.nonmember[nonmember_rows]])
        return x[:, 0], x[:, 1]
    return regression_signals(np.concatenate([s.member[member_rows], s.nonmember[nonmember_rows]]), var)


# ------------------------------------------------------------------------------------------------ attacks
def lira(phi_target: np.ndarray, phi_refs: np.ndarray) -> np.ndarray:
    """Offline LiRA with fixed variance: z = (phi_target - mean_ref phi) / sigma, sigma the standard deviation of
    every reference value (K references x n samples); Lambda = Phi(z). ``phi_refs``: (K, n)."""
    ref = np.atleast_2d(np.asarray(phi_refs, np.float64))
    d = np.asarray(phi_target, np.float64) - ref.mean(0)
    sigma = float(ref.std())
    return d / sigma if sigma > 0 else d


def lira_score(phi_target: np.ndarray, phi_refs: np.ndarray) -> np.ndarray:
    """Lambda = 1 - Pr[Z > phi_target] = Phi(z) (for display; the metrics rank by z, see :func:`lira`)."""
    return stats.norm.cdf(lira(phi_target, phi_refs))


def rmia_ratio(p_target: np.ndarray, p_refs: np.ndarray, a: float) -> np.ndarray:
    """r = p_target / P, P = (1 + a) / 2 * mean_ref p + (1 - a) / 2 (offline: every reference is OUT). ``p_refs``:
    (K, n)."""
    P = (1 + a) / 2 * np.atleast_2d(np.asarray(p_refs, np.float64)).mean(0) + (1 - a) / 2
    return np.asarray(p_target, np.float64) / P


def rmia(r_x: np.ndarray, r_z: np.ndarray, gamma: float) -> np.ndarray:
    """score(x) = share of population samples z with r_x / r_z > gamma. For r_z > 0 and gamma > 0 that is r_z <
    r_x / gamma: counted with a binary search on the sorted r_z (n log n instead of the n x m ratio matrix)."""
    rz = np.sort(np.asarray(r_z, np.float64))
    return np.searchsorted(rz, np.asarray(r_x, np.float64) / gamma, side="left") / rz.size


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Area under the ROC curve of scores (higher = member): P(pos > neg) + P(pos = neg) / 2 (Mann-Whitney U)."""
    pos, neg = np.asarray(pos, np.float64), np.asarray(neg, np.float64)
    ranks = stats.rankdata(np.r_[pos, neg])
    n1, n0 = pos.size, neg.size
    return float((ranks[:n1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def tpr_at_fpr(pos: np.ndarray, neg: np.ndarray, fpr: float) -> float:
    """The highest TPR over thresholds "score > t" that flag at most k = floor(fpr * n0) negatives: t = the
    (k+1)-th highest negative score (no threshold flags fewer of them and more positives)."""
    neg = np.sort(np.asarray(neg, np.float64))[::-1]
    k = int(np.floor(fpr * neg.size + 1e-9))
    if k >= neg.size:
        return 1.0
    return float(np.mean(np.asarray(pos, np.float64) > neg[k]))


def metrics(target: Signals, refs: list[Signals], rows: tuple[np.ndarray, np.ndarray], cfg: dict) -> dict:
    """LiRA and RMIA of one target run against its references on the samples ``rows`` = (member rows, non-member
    rows) into the :class:`Signals` arrays (a bootstrap replicate may repeat rows); ``cfg``: :func:`settings` with
    ``fprs`` the resolvable levels. Empty without references."""
    if not refs:
        return {}
    mr, nr = rows
    var = gaussian_variance(refs, nr) if target.kind == "gaussian" else None
    phi, p = _phi_p(target, mr, nr, var)
    ref = [_phi_p(s, mr, nr, var) for s in refs]
    n1 = len(mr)
    z = lira(phi, np.stack([x[0] for x in ref]))  # one sigma over the member and non-member samples
    r = rmia_ratio(p, np.stack([x[1] for x in ref]), cfg["a"])
    s_m, s_n = rmia(r[:n1], r[n1:], cfg["gamma"]), rmia(r[n1:], r[n1:], cfg["gamma"])
    out = {"LiRA_AUC": auc(z[:n1], z[n1:]), "RMIA_AUC": auc(s_m, s_n)}
    for f in cfg["fprs"]:
        out[metric_name(f)] = tpr_at_fpr(s_m, s_n, f)
    return out
