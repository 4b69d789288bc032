"""Posterior means of the works' scores that integrate over the raters' slopes and severities.

The affine fit (scoring/affine.py) estimates each rater's slope a and severity c as
posterior modes (ridge) and then treats them as known: a work's score is its weighted
least-squares estimate given those a and c, shrunk toward its category's mean
(:func:`scoring.priors.shrink_within_groups`). With few ratings a rater the slopes are
uncertain, and a work rated by raters whose slopes are poorly known is measured less well
than the plug-in standard error says. Here the same model, with the fit's priors, is
integrated instead:

    y - m = a_r (theta_w - m) + c_r + e,   e ~ N(0, sigma^2 / (confidence * robust weight)),
    theta_w ~ N(mu_g, tau_g^2) per (category, component) group g,
    (c_r, a_r) ~ N((0, 1), diag(c_sd^2, a_sd^2)),

with m, sigma, c_sd, a_sd and the robust weights (the mixture's posterior probabilities that
a rating is genuine, held fixed as precision multipliers so that wild ratings stay out) taken
from the fit, and mu_g, tau_g^2 estimated from the fit's unshrunk scores exactly as
:func:`~scoring.priors.shrink_within_groups` does. Both conditionals are normal (theta given
the raters: one per work; (c, a) given the works: one bivariate regression per rater), so
the posterior can be sampled by Gibbs (Gelfand & Smith 1990, *J. Amer. Statist. Assoc.*
85:398-409), Rao-Blackwellized: each work's reported mean is the average of its conditional
means, not of its draws (Gelfand & Smith 1990; Liu, Wong & Kong 1994, *Biometrika* 81:27-40).
``method="vb"`` is the deterministic mean-field alternative (coordinate ascent on a
product of normals, Bishop 2006, *Pattern Recognition and Machine Learning*, 10.1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PosteriorScores", "group_priors", "posterior_work_scores", "work_scores", "METHODS", "MAX_RATINGS",
           "GIBBS_BURN", "GIBBS_DRAWS"]

#: How the affine fit can report its work scores (``fit_affine(posterior=...)``): None, the plug-in
#: shrinkage, is the default (neither posterior lifted the sparse scenarios beyond noise, see
#: docs/scoring.md)
METHODS = (None, "gibbs", "vb")
#: Panels with more ratings keep the plug-in shrinkage (time grows with ratings x sweeps)
MAX_RATINGS = 200_000
GIBBS_BURN = 50
GIBBS_DRAWS = 500
VB_MAX_ITER = 500
VB_TOL = 1e-8
MIN_WORKS = 5  # as shrink_within_groups: smaller groups get a vague prior (no shrinkage)


@dataclass
class PosteriorScores:
    """Posterior means and sds of the works' scores, and how they were obtained."""

    score: np.ndarray
    sd: np.ndarray
    method: str
    sweeps: int
    n_groups: int


def group_priors(score: np.ndarray, se: np.ndarray, category: np.ndarray, component: np.ndarray,
                 min_works: int = MIN_WORKS) -> tuple[np.ndarray, np.ndarray, int]:
    """Per-work prior mean and variance: the moment estimates of ``shrink_within_groups``.

    Works in a (category, component) group of fewer than ``min_works`` get a vague prior
    (their group's mean, variance 1e6 times the scores' variance), i.e. no shrinkage.
    """
    group = (np.unique(np.asarray(category).astype(str), return_inverse=True)[1].ravel()
             * (int(component.max()) + 1) + component)
    vague = 1e6 * max(float(np.var(score)), 1e-12)
    mu, tau2, n_groups = np.empty_like(score), np.full(score.shape, vague), 0
    order = np.argsort(group, kind="stable")
    for idx in np.split(order, np.flatnonzero(np.diff(group[order])) + 1):
        s, v = score[idx], se[idx] ** 2
        if idx.size < min_works:
            mu[idx] = float(np.mean(s))
            continue
        total = float(np.var(s, ddof=1))
        t2 = max(total - float(np.mean(v)), 1e-6 * total, 1e-12)
        w = 1.0 / (t2 + v)
        mu[idx] = float(np.sum(w * s) / np.sum(w))
        tau2[idx] = t2
        n_groups += 1
    return mu, tau2, n_groups


def _rater_conditional(w_idx, r_idx, n_r, prec, yc, u_mean, u_sq, pc, pa):
    """Bivariate normal (c, a) | works per rater: mean and covariance (c, a, ca entries)."""
    sw = np.bincount(r_idx, prec, minlength=n_r) + pc
    su = np.bincount(r_idx, prec * u_mean, minlength=n_r)
    suu = np.bincount(r_idx, prec * u_sq, minlength=n_r) + pa
    sy = np.bincount(r_idx, prec * yc, minlength=n_r)
    suy = np.bincount(r_idx, prec * u_mean * yc, minlength=n_r) + pa  # prior mean a = 1
    det = sw * suu - su * su
    mc = (suu * sy - su * suy) / det
    ma = (sw * suy - su * sy) / det
    return mc, ma, suu / det, sw / det, -su / det


def posterior_work_scores(y, work, rater, precision, *, n_works: int, n_raters: int, centre: float,
                          theta0: np.ndarray,
                          prior_mean: np.ndarray, prior_var: np.ndarray, severity_sd: float, scale_sd: float,
                          method: str = "gibbs", n_burn: int = GIBBS_BURN, n_draws: int = GIBBS_DRAWS,
                          rng: np.random.Generator | None = None) -> PosteriorScores:
    """Posterior mean and sd of each work's theta in the centred affine model, over slopes and severities.

    Parameters
    ----------
    y, work, rater : ndarray, shape (n,)
        Scores and the integer codes of their works and raters.
    precision : ndarray, shape (n,)
        Each rating's precision 1 / noise variance (confidence x robust weight / sigma^2).
    centre : float
        m of the centred model y - m = a (theta - m) + c + e.
    theta0 : ndarray, shape (n_works,)
        Start (the fit's estimates).
    prior_mean, prior_var : ndarray, shape (n_works,)
        Normal prior of each work's theta.
    severity_sd, scale_sd : float
        Prior sds of c around 0 and of a around 1.
    method : {"gibbs", "vb"}
    n_burn, n_draws : int
        Gibbs sweeps discarded and averaged.
    rng : numpy.random.Generator, optional
        Default ``numpy.random.default_rng(0)``: the result is reproducible.

    Returns
    -------
    PosteriorScores

    References
    ----------
    .. [1] Gelfand, A. E., & Smith, A. F. M. (1990). Sampling-based approaches to calculating marginal
       densities. *Journal of the American Statistical Association*, 85, 398-409.
    .. [2] Liu, J. S., Wong, W. H., & Kong, A. (1994). Covariance structure of the Gibbs sampler with
       applications to the comparisons of estimators and augmentation schemes. *Biometrika*, 81, 27-40.
    .. [3] Bishop, C. M. (2006). *Pattern Recognition and Machine Learning*, section 10.1. Springer.

    Examples
    --------
    >>> y = np.array([5., 6, 7, 3, 6, 9, 6, 6])
    >>> work, rater = np.array([0, 1, 2, 0, 1, 2, 3, 3]), np.array([0, 0, 0, 1, 1, 1, 0, 1])
    >>> out = posterior_work_scores(y, work, rater, np.ones(8), n_works=4, n_raters=2, centre=6.0,
    ...     theta0=np.array([4., 6, 8, 6]),
    ...     prior_mean=np.full(4, 6.0), prior_var=np.full(4, 4.0), severity_sd=1.0, scale_sd=0.3)
    >>> bool(out.score[0] < out.score[1] < out.score[2])
    True
    """
    if method not in ("gibbs", "vb"):
        raise ValueError(f"method must be 'gibbs' or 'vb', got {method!r}")
    if not (severity_sd > 0 and scale_sd > 0 and np.isfinite(severity_sd) and np.isfinite(scale_sd)):
        raise ValueError(f"prior sds must be positive and finite, got {severity_sd!r}, {scale_sd!r}")
    yc = np.asarray(y, dtype=float) - centre
    pc, pa = 1.0 / severity_sd**2, 1.0 / scale_sd**2
    prior_prec = 1.0 / prior_var
    prior_term = (prior_mean - centre) * prior_prec
    n_w, n_r = n_works, n_raters

    def work_conditional(a_mean, a_sq, ac):
        """theta - m | raters per work: mean and variance, from E[a], E[a^2] and E[a c]."""
        p = prior_prec + np.bincount(work, precision * a_sq, minlength=n_w)
        s = prior_term + np.bincount(work, precision * (a_mean * yc - ac), minlength=n_w)
        return s / p, 1.0 / p

    if method == "vb":
        u_mean, u_var = theta0 - centre, np.zeros(n_w)
        sweeps = 0
        for sweeps in range(1, VB_MAX_ITER + 1):
            mc, ma, vcc, vaa, vca = _rater_conditional(work, rater, n_r, precision, yc, u_mean[work],
                                                       (u_mean * u_mean + u_var)[work], pc, pa)
            new_mean, u_var = work_conditional(ma[rater], (ma * ma + vaa)[rater], (ma * mc + vca)[rater])
            change = float(np.max(np.abs(new_mean - u_mean)))
            u_mean = new_mean
            if change < VB_TOL:
                break
        return PosteriorScores(u_mean + centre, np.sqrt(u_var), "vb", sweeps, 0)

    rng = np.random.default_rng(0) if rng is None else rng
    u = theta0 - centre
    total, total_sq, total_var = np.zeros(n_w), np.zeros(n_w), np.zeros(n_w)
    for i in range(n_burn + n_draws):
        uw = u[work]
        mc, ma, vcc, vaa, vca = _rater_conditional(work, rater, n_r, precision, yc, uw, uw * uw, pc, pa)
        # a draw from N((mc, ma), [[vcc, vca], [vca, vaa]]) through its Cholesky factor
        l00 = np.sqrt(vcc)
        l10 = vca / l00
        l11 = np.sqrt(np.maximum(vaa - l10 * l10, 0.0))
        z = rng.standard_normal((2, n_r))
        c = mc + l00 * z[0]
        a = ma + l10 * z[0] + l11 * z[1]
        ar = a[rater]
        mean, var = work_conditional(ar, ar * ar, ar * c[rater])
        if i >= n_burn:
            total += mean
            total_sq += mean * mean
            total_var += var
        u = mean + np.sqrt(var) * rng.standard_normal(n_w)
    post = total / n_draws
    # law of total variance: mean conditional variance + variance of the conditional means
    sd = np.sqrt(total_var / n_draws + np.maximum(total_sq / n_draws - post * post, 0.0))
    return PosteriorScores(post + centre, sd, "gibbs", n_burn + n_draws, 0)


def work_scores(panel, theta, se, precision, *, method: str | None, centre: float, severity_sd: float,
                scale_sd: float, component: np.ndarray, shrink) -> tuple[np.ndarray, np.ndarray, int, str | None]:
    """The affine fit's reported work scores: posterior means over the raters' effects, or shrinkage.

    Runs :func:`posterior_work_scores` with ``method`` ("gibbs" or "vb") when the panel has at most
    :data:`MAX_RATINGS` ratings and the fit's priors are proper; otherwise returns
    ``shrink(theta, se, panel.category, component)`` (the plug-in posterior means).
    Returns (scores, sds, number of groups with a prior, note or None).
    """
    usable = (method is not None and panel.n_ratings <= MAX_RATINGS
              and all(np.isfinite(v) and v > 0 for v in (severity_sd, scale_sd)))
    if not usable:
        out, sd, n = shrink(theta, se, panel.category, component)
        note = (f"affine: work scores are posterior means (shrunk toward their category's mean by their "
                f"standard error) in {n} group(s)") if n else None
        return out, sd, n, note
    mu, tau2, n = group_priors(theta, se, panel.category, component)
    post = posterior_work_scores(panel.score, panel.work, panel.rater, precision, n_works=panel.n_works,
                                 n_raters=panel.n_raters, centre=centre, theta0=theta, prior_mean=mu,
                                 prior_var=tau2, severity_sd=severity_sd, scale_sd=scale_sd, method=method)
    note = (f"affine: work scores are posterior means over the raters' slopes and severities ({post.method}, "
            f"{post.sweeps} sweeps), with a normal prior per category in {n} group(s)")
    return post.score, post.sd, n, note
