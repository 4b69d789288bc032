"""The ``affine`` model y = a_rater * (mu + q_work) + b_rater + e (severity and scale use).

Some raters use the whole scale, others only its middle: an additive shift cannot fix that.
The affine model gives each rater a slope ``a`` (scale use) and an intercept ``b``
(severity), shrunk toward a = 1 and b = 0, and is fitted by alternating between the slopes
and an exact solve of the (linear) rest, starting from the robust additive fit.
"""

from __future__ import annotations

import numpy as np

from scoring.diagnostics import NormalizationResult, finish, robust_sigma
from scoring.models_additive import HUBER_C, AdditiveSolver, _fit_additive, huber_weights
from scoring.panel import Panel, build_panel

__all__ = ["fit_affine"]


def _fit_affine(
    panel: Panel, *, ridge: float = 1.0, scale_prior_sd: float = 0.3, robust: bool = True,
    huber_c: float = HUBER_C, max_iter: int = 50, tol: float = 1e-4,
) -> NormalizationResult:
    if not ridge >= 0:
        raise ValueError(f"ridge must be zero or positive, got {ridge!r}")
    if not scale_prior_sd > 0:
        raise ValueError(f"scale_prior_sd must be positive, got {scale_prior_sd!r}")
    start = _fit_additive(panel, ridge=ridge, robust=robust, huber_c=huber_c)
    conn = start.connectivity
    w_idx, r_idx, y, conf = panel.work, panel.rater, panel.score, panel.weight
    n_w, n_r = panel.n_works, panel.n_raters
    solver = AdditiveSolver(panel, ridge)
    theta = start.score.copy()
    bias = start.raters.bias.copy()
    slope = np.ones(n_r)
    n_params = n_w + 2 * n_r - 2
    sigma = start.sigma if np.isfinite(start.sigma) and start.sigma > 0 else float(np.std(y)) or 1.0
    huber = start.diagnostics.robust_weight.copy() if robust else np.ones(panel.n_ratings)
    comp, work_comp = conn.rater_component, conn.work_component
    comp_n = np.bincount(comp, minlength=conn.n_components)
    spread = float(np.std(y)) or 1.0
    lam_a = sigma**2 / scale_prior_sd**2
    state = {"huber": huber, "evals": 0}

    def slopes_from(theta_now: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """Log-slopes of the per-rater ridge regression of y on theta (a -> 1, b -> 0)."""
        x = theta_now[w_idx]
        sw = np.bincount(r_idx, weight, minlength=n_r) + ridge
        sx = np.bincount(r_idx, weight * x, minlength=n_r)
        sxx = np.bincount(r_idx, weight * x * x, minlength=n_r) + lam_a
        sy = np.bincount(r_idx, weight * y, minlength=n_r)
        sxy = np.bincount(r_idx, weight * x * y, minlength=n_r) + lam_a
        # a non-positive slope would invert a rater's ranking: keep the scale use positive
        return np.log(np.maximum((sxy * sw - sx * sy) / (sxx * sw - sx * sx), 0.05))

    def normalized(log_a: np.ndarray) -> np.ndarray:
        # the free affine map per component: geometric-mean slope 1
        return log_a - (np.bincount(comp, log_a, minlength=conn.n_components) / comp_n)[comp]

    def sweep(log_a: np.ndarray):
        """One fixed-point map: slopes -> exact (theta, b) -> Huber weights -> new slopes."""
        state["evals"] += 1
        slope_used = np.exp(normalized(np.clip(log_a, -5, 5)))
        th, b = solver.solve(conf * state["huber"], slope=slope_used[r_idx])
        if robust:
            resid = y - slope_used[r_idx] * th[w_idx] - b[r_idx]
            state["huber"] = huber_weights(resid * np.sqrt(conf) / sigma, huber_c)
        return normalized(slopes_from(th, conf * state["huber"])), th, b, slope_used

    # SQUAREM (Varadhan & Roland 2008, Scand. J. Statist. 35:335-353) extrapolates the
    # slowly converging slope <-> theta alternation; each cycle costs three sweeps.
    x0 = normalized(slopes_from(theta, conf * huber))
    converged, it = False, 0
    for it in range(1, max_iter + 1):
        x1, _, _, _ = sweep(x0)
        x2, th2, b2, s2 = sweep(x1)
        r, v = x1 - x0, x2 - 2 * x1 + x0
        nv = float(np.linalg.norm(v))
        if nv > 0:
            alpha = min(-float(np.linalg.norm(r)) / nv, -1.0)
            x_acc = x0 - 2 * alpha * r + alpha * alpha * v
            if not np.all(np.isfinite(x_acc)):
                x_acc = x2
        else:
            x_acc = x2
        x3, new_theta, bias, slope = sweep(x_acc)
        change = float(np.max(np.abs(new_theta - theta)))
        theta, x0 = new_theta, x3
        if change < tol * spread:
            converged = True
            break
    huber = state["huber"]
    # report on the convention "mean bias 0 per component": theta - beta, b + a * beta fit the same
    beta = -(np.bincount(comp, bias, minlength=conn.n_components) / np.bincount(comp, slope, minlength=conn.n_components))
    theta = theta - beta[work_comp]
    bias = bias + slope * beta[comp]
    fitted = slope[r_idx] * theta[w_idx] + bias[r_idx]
    resid = y - fitted
    w = conf * huber
    dof = panel.n_ratings - n_params
    if dof > 0:
        sigma2 = float(np.sum(w * resid**2) / dof)
        solver.solve(w, slope=slope[r_idx])
        se = np.sqrt(sigma2 * solver.theta_variance())
        sigma_diag = robust_sigma(resid, conf, n_params) if robust else np.sqrt(sigma2)
    else:
        se = np.full(n_w, np.nan)
        sigma_diag = float("nan")
    res = finish(
        "affine", panel, theta, se, fitted, bias, slope, sigma_diag,
        robust_weight=huber, connectivity=conn, iterations=state["evals"], converged=converged,
    )
    if not converged:
        res.notes.append(f"affine: stopped after {max_iter} accelerated cycles before converging")
    return res


def fit_affine(
    work_ids, rater_ids, scores, *, confidence=None, categories=None, works=None,
    ridge: float = 1.0, scale_prior_sd: float = 0.3, robust: bool = True,
    huber_c: float = HUBER_C, max_iter: int = 50, tol: float = 1e-4,
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
    huber_c : float, default 1.5
        Huber threshold in robust standard deviations.
    max_iter : int, default 50
        Accelerated cycles (three sweeps each).
    tol : float, default 1e-4
        Stop when no work score moves more than ``tol`` times the sd of the scores.

    Returns
    -------
    NormalizationResult
        ``score`` = mu + q_work, the score a rater with a = 1, b = 0 would give; rater
        ``bias`` = b and ``scale`` = a. ``se`` accounts for the uncertainty of the biases
        but treats the slopes as known, so it slightly understates the uncertainty.

    Notes
    -----
    The affine (severity + scale) rater model of Paul (1981), "Bayesian methods for
    calibration of examiners", *Brit. J. Math. Statist. Psych.* 34:213-223, and of the
    panel-calibration literature (MacKay, Kenna, Low & Parker 2017, *R. Soc. Open Sci.*
    4:160760, who also motivate confidence weights). Each sweep solves a ridge regression
    per rater for the slopes, then, the slopes given, the linear model in (theta, b) exactly
    through the same Schur-complement solver as the additive model; the free affine map
    between theta and the rater effects is fixed per connected component by a
    geometric-mean slope of 1 and a mean intercept of 0.

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
