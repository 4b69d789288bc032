"""The ``affine`` model y = a_rater * (mu + q_work) + b_rater + e (severity and scale use).

Some raters use the whole scale, others only its middle: an additive shift cannot fix that.
The affine model gives each rater a slope ``a`` (scale use) and an intercept ``b``
(severity), shrunk toward a = 1 and b = 0, and is fitted by alternating least squares
starting from the robust additive fit.
"""

from __future__ import annotations

import numpy as np

from scoring.diagnostics import NormalizationResult, finish, robust_sigma
from scoring.graph import components_from_codes
from scoring.models_additive import HUBER_C, _fit_additive, huber_weights
from scoring.panel import Panel, build_panel

__all__ = ["fit_affine"]


def _fit_affine(
    panel: Panel, *, ridge: float = 1.0, scale_prior_sd: float = 0.3, robust: bool = True,
    huber_c: float = HUBER_C, max_iter: int = 200, tol: float = 1e-5,
) -> NormalizationResult:
    if not ridge > 0:
        raise ValueError(f"ridge must be positive, got {ridge!r}")
    if not scale_prior_sd > 0:
        raise ValueError(f"scale_prior_sd must be positive, got {scale_prior_sd!r}")
    start = _fit_additive(panel, ridge=ridge, robust=robust, huber_c=huber_c)
    conn = start.connectivity
    w_idx, r_idx, y, conf = panel.work, panel.rater, panel.score, panel.weight
    n_w, n_r = panel.n_works, panel.n_raters
    theta = start.score.copy()
    bias = start.raters.bias.copy()
    slope = np.ones(n_r)
    n_params = n_w + 2 * n_r - 2
    sigma = start.sigma if np.isfinite(start.sigma) and start.sigma > 0 else float(np.std(y)) or 1.0
    huber = start.diagnostics.robust_weight.copy() if robust else np.ones(panel.n_ratings)
    comp = conn.rater_component
    comp_n = np.bincount(comp, minlength=conn.n_components)
    spread = float(np.std(y)) or 1.0
    lam_a = sigma**2 / scale_prior_sd**2
    converged, it = False, 0
    for it in range(1, max_iter + 1):
        w = conf * huber
        x = theta[w_idx]
        # rater step: ridge regression of y on theta, a -> 1, b -> 0
        sw = np.bincount(r_idx, w, minlength=n_r) + ridge
        sx = np.bincount(r_idx, w * x, minlength=n_r)
        sxx = np.bincount(r_idx, w * x * x, minlength=n_r) + lam_a
        sy = np.bincount(r_idx, w * y, minlength=n_r)
        sxy = np.bincount(r_idx, w * x * y, minlength=n_r) + lam_a
        det = sxx * sw - sx * sx
        slope = (sxy * sw - sx * sy) / det
        bias = (sxx * sy - sx * sxy) / det
        # a rater with a non-positive slope would invert the ranking: keep the scale use positive
        slope = np.maximum(slope, 0.05)
        # work step: weighted least squares for theta given the raters
        a_i = slope[r_idx]
        new_theta = np.bincount(w_idx, w * a_i * (y - bias[r_idx]), minlength=n_w) / np.bincount(
            w_idx, w * a_i * a_i, minlength=n_w
        )
        # fix the free affine map per component: geometric mean slope 1, mean bias 0
        log_alpha = -np.bincount(comp, np.log(slope), minlength=conn.n_components) / comp_n
        mean_a = np.bincount(comp, slope, minlength=conn.n_components) / comp_n
        mean_b = np.bincount(comp, bias, minlength=conn.n_components) / comp_n
        alpha, beta = np.exp(log_alpha), -mean_b / mean_a
        bias = bias + slope * beta[comp]
        slope = slope * alpha[comp]
        work_comp = conn.work_component
        new_theta = (new_theta - beta[work_comp]) / alpha[work_comp]
        change = float(np.max(np.abs(new_theta - theta)))
        theta = new_theta
        if robust:
            resid = y - slope[r_idx] * theta[w_idx] - bias[r_idx]
            huber = huber_weights(resid * np.sqrt(conf) / sigma, huber_c)
        if change < tol * spread:
            converged = True
            break
    fitted = slope[r_idx] * theta[w_idx] + bias[r_idx]
    resid = y - fitted
    w = conf * huber
    dof = panel.n_ratings - n_params
    if dof > 0:
        sigma2 = float(np.sum(w * resid**2) / dof)
        info = np.bincount(w_idx, w * slope[r_idx] ** 2, minlength=n_w)
        se = np.sqrt(sigma2 / info)
        sigma_diag = robust_sigma(resid, conf, n_params) if robust else np.sqrt(sigma2)
    else:
        se = np.full(n_w, np.nan)
        sigma_diag = float("nan")
    res = finish(
        "affine", panel, theta, se, fitted, bias, slope, sigma_diag,
        robust_weight=huber, connectivity=conn, iterations=it, converged=converged,
    )
    if not converged:
        res.notes.append(f"affine: alternating least squares stopped at {max_iter} iterations")
    return res


def fit_affine(
    work_ids, rater_ids, scores, *, confidence=None, categories=None, works=None,
    ridge: float = 1.0, scale_prior_sd: float = 0.3, robust: bool = True,
    huber_c: float = HUBER_C, max_iter: int = 200, tol: float = 1e-5,
) -> NormalizationResult:
    """Fit y = a_rater * (mu + q_work) + b_rater + e by alternating least squares.

    Parameters
    ----------
    work_ids, rater_ids, scores : array_like, shape (n,)
        Long-form ratings, one per (work, rater).
    confidence : array_like, optional
        Per-rating confidence weights (relative precision).
    categories : array_like or mapping, optional
        Category of each rating's work, or ``work_id -> category``.
    works : sequence, optional
        Works that must all have ratings.
    ridge : float, default 1.0
        Shrinkage of b toward 0, as the ratio noise variance / bias variance.
    scale_prior_sd : float, default 0.3
        Prior sd of a around 1; the penalty on (a - 1)^2 is sigma^2 / scale_prior_sd^2.
    robust : bool, default True
        Huber weights (scale from the robust additive start) updated each sweep.
    huber_c : float, default 1.345
        Huber threshold in robust standard deviations.
    max_iter : int, default 200
    tol : float, default 1e-5
        Stop when no work score moves more than ``tol`` times the sd of the scores.

    Returns
    -------
    NormalizationResult
        ``score`` = mu + q_work, the score a rater with a = 1, b = 0 would give; rater
        ``bias`` = b and ``scale`` = a. ``se`` is conditional on the rater effects
        (sigma / sqrt(sum w a^2)), so it understates the uncertainty for raters with few
        ratings.

    Notes
    -----
    The affine (severity + scale) rater model of Paul (1981), "Bayesian methods for
    calibration of examiners", *Brit. J. Math. Statist. Psych.* 34:213-223, and of the
    panel-calibration literature (MacKay, Kenna, Low & Parker 2017, *R. Soc. Open Sci.*
    4:160760, who also motivate confidence weights). Each sweep solves a ridge regression
    per rater and a weighted mean per work; the free affine map between theta and the rater
    effects is fixed per connected component by a geometric-mean slope of 1 and a mean
    intercept of 0.

    Examples
    --------
    >>> works = ["w1", "w2", "w3"] * 2 + ["w4", "w4"]
    >>> raters = ["a"] * 3 + ["b"] * 3 + ["a", "b"]
    >>> r = fit_affine(works, raters, [5, 6, 7, 3, 6, 9, 6, 6], robust=False)
    >>> bool(r.raters.scale[1] > r.raters.scale[0])
    True
    """
    panel = build_panel(work_ids, rater_ids, scores, confidence=confidence, categories=categories, works=works)
    return _fit_affine(panel, ridge=ridge, scale_prior_sd=scale_prior_sd, robust=robust, huber_c=huber_c, max_iter=max_iter, tol=tol)
