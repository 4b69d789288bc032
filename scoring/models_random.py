"""``additive_random``: y = mu + q_work + b_rater + e with the raters' biases as random effects.

The fall-back for panels whose raters gave too few ratings for fixed rater effects (a
dissemination-case round: each expert rates one to three cases). With one rating a rater,
the fixed-effects ``additive`` model lets the rater's bias absorb the whole rating, and the
raw mean ignores rater bias altogether; treating the biases as a sample, b ~ N(0, tau^2),
shrinks each rater's estimated bias by what their few ratings show (ridge sigma^2 / tau^2 in
the additive solver), the best linear unbiased prediction of the mixed model. tau^2 and
sigma^2 are estimated from the panel by the method of moments on the residuals from the
works' raw means (:func:`rater_variance`).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from scoring.diagnostics import NormalizationResult
from scoring.models_additive import HUBER_C, _fit_additive
from scoring.panel import Panel, build_panel

__all__ = ["rater_variance", "fit_additive_random", "NOISE_FLOOR"]

#: The noise variance is kept at least this share of the residual variance from the works' means
NOISE_FLOOR = 0.1


def rater_variance(panel: Panel) -> tuple[float, float]:
    """Method-of-moments estimates (tau^2, sigma^2) of the rater-bias and noise variances.

    Parameters
    ----------
    panel : Panel

    Returns
    -------
    (float, float)
        The variance of the raters' biases (may be zero or negative when the ratings show no
        rater effect; nan when no rater gave two ratings) and of the noise.

    Notes
    -----
    With works as fixed effects, the residual of a rating from its work's (weighted) mean is
    r = (b_r - mean of b over the work's raters) + (e - mean of e over the work). Two ratings
    by the same rater of different works share b_r, so E[r_i r_j] = tau^2 k_ij with
    k_ij = (1 - u_i)(1 - u_j) + sum over the other raters s of both works of u_is u_js, u the
    rating's share of its work's weight; the noise terms are independent. tau^2 is the sum of
    these products over all such pairs divided by the sum of their k_ij, and sigma^2 follows
    from E[r_i^2] = (1 - u_i)(tau^2 + sigma^2 / w_i) (ANOVA-type estimation for unbalanced
    designs, Searle, Casella & McCulloch 1992, ch. 5), kept at least :data:`NOISE_FLOOR` of
    the residual variance (a negative ANOVA estimate is sampling noise, not noiseless ratings). Sums over a rater's pairs are taken as
    (sum)^2 - sum of squares, the other raters' terms through two sparse products.

    References
    ----------
    .. [1] Searle, S. R., Casella, G., & McCulloch, C. E. (1992). *Variance Components*. Wiley.

    Examples
    --------
    >>> from scoring.panel import build_panel
    >>> rng = np.random.default_rng(0)
    >>> work = np.repeat(np.arange(300), 4)
    >>> rater = np.concatenate([rng.choice(150, 4, replace=False) for _ in range(300)])
    >>> y = rng.normal(size=300)[work] + rng.normal(0, 0.8, 150)[rater] + rng.normal(0, 0.5, work.size)
    >>> tau2, sigma2 = rater_variance(build_panel(work, rater, y))
    >>> bool(0.4 < tau2 < 0.9 and 0.15 < sigma2 < 0.4)
    True
    """
    w = panel.weight
    work_w = np.bincount(panel.work, w, minlength=panel.n_works)
    mean = np.bincount(panel.work, w * panel.score, minlength=panel.n_works) / work_w
    r = panel.score - mean[panel.work]
    u = w / work_w[panel.work]
    a = 1.0 - u
    by_rater = {name: np.bincount(panel.rater, v, minlength=panel.n_raters)
                for name, v in (("r", r), ("rr", r * r), ("a", a), ("aa", a * a))}
    products = float(np.sum(by_rater["r"] ** 2 - by_rater["rr"])) / 2
    # the other raters s of both works: sum over a rater's pairs of u_is u_js, through
    # P[r, s] = sum over r's works of s's share there (and Q the same with the shares squared)
    share = sparse.csr_matrix((u, (panel.rater, panel.work)), shape=(panel.n_raters, panel.n_works))
    rated = sparse.csr_matrix((np.ones(panel.n_ratings), (panel.rater, panel.work)), shape=share.shape)
    p = (rated @ share.T).tocoo()
    q = (rated @ share.multiply(share).T).tocoo()
    off_p, off_q = p.row != p.col, q.row != q.col
    overlap = 0.5 * (float(np.sum(p.data[off_p] ** 2)) - float(np.sum(q.data[off_q])))
    pairs = float(np.sum(by_rater["a"] ** 2 - by_rater["aa"])) / 2 + overlap
    tau2 = products / pairs if pairs > 0 else float("nan")
    if not np.sum(a) > 0:  # every work rated once: residuals from the works' means are all zero
        return float("nan"), float("nan")
    noise = float(np.sum(w * r * r) / np.sum(a))  # E[w r^2] = (1 - u)(w tau^2 + sigma^2), w mean 1
    sigma2 = noise - (tau2 if np.isfinite(tau2) else 0.0)
    # an ANOVA estimate can fall below zero on a small panel; truncating it at zero would claim
    # noiseless ratings (and give the biases no shrinkage at all): keep a tenth of the residual variance
    return float(tau2), float(max(sigma2, NOISE_FLOOR * noise))


def _fit_additive_random(panel: Panel, *, robust: bool = True, huber_c: float = HUBER_C, max_iter: int = 50,
                         tol: float = 1e-4, variances: tuple[float, float] | None = None) -> NormalizationResult:
    tau2, sigma2 = rater_variance(panel) if variances is None else variances
    if not (np.isfinite(tau2) and tau2 > 0):
        raise ValueError("the ratings show no rater variance to model (no rater gave two ratings, or the "
                         "estimated variance of the raters' biases is not positive): use the raw mean")
    # the ridge in units of one rating of weight 1: sigma^2 / tau^2; a panel without noise gets
    # the smallest ridge that still anchors the biases
    ridge = max(sigma2, 1e-12 * tau2) / tau2
    res = _fit_additive(panel, ridge=ridge, robust=robust, huber_c=huber_c, max_iter=max_iter, tol=tol)
    res.method = "additive_random"
    res.prior = {"severity_sd": float(np.sqrt(tau2)), "noise_sd": float(np.sqrt(sigma2)), "ridge": float(ridge)}
    res.notes.append(f"additive_random: raters' biases shrunk as random effects (sd {np.sqrt(tau2):.3g}, "
                     f"noise sd {np.sqrt(sigma2):.3g}, ridge {ridge:.3g})")
    return res


def fit_additive_random(work_ids, rater_ids, scores, *, confidence=None, categories=None, works=None,
                        robust: bool = True, huber_c: float = HUBER_C, max_iter: int = 50,
                        tol: float = 1e-4) -> NormalizationResult:
    """Fit y = mu + q_work + b_rater + e with b ~ N(0, tau^2), tau^2 estimated from the panel.

    Parameters are as in :func:`scoring.models_additive.fit_additive` (without ``ridge``: it is
    sigma^2 / tau^2 from :func:`rater_variance`).

    Returns
    -------
    NormalizationResult
        ``prior`` holds the estimated ``severity_sd`` (tau), ``noise_sd`` and ``ridge``.

    Raises
    ------
    ValueError
        When no rater gave two ratings or the estimated rater variance is not positive (the
        ratings hold no rater effect to remove: the raw mean is the fit).

    Notes
    -----
    The mixed model's best linear unbiased prediction with the variance components plugged in
    (Henderson's mixed-model equations are the additive solver's normal equations with the
    ridge sigma^2 / tau^2 on the biases). Unlike fixed effects it is not invariant to adding a
    constant to one rater's scores: a rater with n ratings keeps about n tau^2 / (n tau^2 +
    sigma^2) of their apparent bias, the price of using their few ratings at all.

    References
    ----------
    .. [1] Henderson, C. R. (1975). Best linear unbiased estimation and prediction under a selection
       model. *Biometrics*, 31, 423-447.
    .. [2] Searle, S. R., Casella, G., & McCulloch, C. E. (1992). *Variance Components*. Wiley.

    Examples
    --------
    >>> rng = np.random.default_rng(1)  # 60 works, 5 ratings each, 150 raters with two ratings each
    >>> work = np.repeat(np.arange(60), 5)
    >>> rater = np.arange(300) % 150  # rater r rates works r // 5 and r // 5 + 30
    >>> y = 6 + rng.normal(size=60)[work] + rng.normal(0, 0.8, 150)[rater] + rng.normal(0, 0.5, 300)
    >>> r = fit_additive_random(work, rater, y)
    >>> r.method, bool(0.5 < r.prior["severity_sd"] < 1.1)
    ('additive_random', True)
    """
    panel = build_panel(work_ids, rater_ids, scores, confidence=confidence, categories=categories, works=works)
    return _fit_additive_random(panel, robust=robust, huber_c=huber_c, max_iter=max_iter, tol=tol)
