"""Empirical Bayes for the affine model: the raters' prior spreads and the works' posterior means.

Both are method-of-moments estimates from the panel itself (Morris 1983, "Parametric
empirical Bayes inference: theory and applications", *J. Amer. Statist. Assoc.* 78:47-55;
Efron & Morris 1975, *J. Amer. Statist. Assoc.* 70:311-319).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["RaterPrior", "moment_prior", "shrink_within_groups"]


@dataclass
class RaterPrior:
    """Normal priors of the centred affine model: severity c ~ N(0, c_sd^2), scale a ~ N(1, a_sd^2)."""

    severity_sd: float
    scale_sd: float


def moment_prior(y, x, weight, r_idx, w_idx, n_r, n_w, sigma, floor_c, floor_a) -> RaterPrior:
    """Method-of-moments (Morris 1983) estimates of the spread of the raters' severity and scale.

    Per rater, the unpenalized regression of y on x (both centred on the panel; x = the fitted
    work scores) gives (c_hat, a_hat) with sampling variances sigma^2 [X'WX]^-1; the prior
    variance is the spread of the estimates minus their mean sampling variance, floored (the
    data may show none). Two corrections for x being estimated from the same ratings: each
    rating's own share h of its work's fit absorbs part of its noise (sampling variance times
    1 - mean h), and the noise in x attenuates the slopes by lambda = 1 - mean se(x)^2 / var(x)
    (errors in variables), so the slopes' spread is divided by lambda^2.
    """
    sw = np.bincount(r_idx, weight, minlength=n_r)
    sx = np.bincount(r_idx, weight * x, minlength=n_r)
    sxx = np.bincount(r_idx, weight * x * x, minlength=n_r)
    sy = np.bincount(r_idx, weight * y, minlength=n_r)
    sxy = np.bincount(r_idx, weight * x * y, minlength=n_r)
    det = sw * sxx - sx * sx
    ok = (det > 1e-9 * np.maximum(sw * sxx, 1e-300)) & (sw >= 3)
    k = int(ok.sum())
    if k < 3:
        return RaterPrior(np.inf, np.inf)
    work_w = np.bincount(w_idx, weight, minlength=n_w)
    h = weight / np.maximum(work_w[w_idx], 1e-300)
    h_bar = float(np.sum(weight * h) / np.sum(weight))
    x_var = float(np.sum(weight * x * x) / np.sum(weight))
    se2 = float(np.sum(weight * sigma**2 / np.maximum(work_w[w_idx], 1e-300)) / np.sum(weight))
    lam = min(1.0, max(1.0 - se2 / x_var, 0.5)) if x_var > 0 else 1.0
    det, sw, sx, sxx, sy, sxy = det[ok], sw[ok], sx[ok], sxx[ok], sy[ok], sxy[ok]
    a_hat = (sw * sxy - sx * sy) / det
    c_hat = (sxx * sy - sx * sxy) / det
    var_a, var_c = (1 - h_bar) * sigma**2 * sw / det, (1 - h_bar) * sigma**2 * sxx / det
    tau_a2 = (float(np.var(a_hat) * k / (k - 1)) - float(np.mean(var_a))) / lam**2
    tau_c2 = float(np.var(c_hat) * k / (k - 1)) - float(np.mean(var_c))
    return RaterPrior(max(tau_c2, floor_c**2) ** 0.5, max(tau_a2, floor_a**2) ** 0.5)


def shrink_within_groups(score: np.ndarray, se: np.ndarray, category: np.ndarray, component: np.ndarray,
                         min_works: int = 5) -> tuple[np.ndarray, np.ndarray, int]:
    """Posterior means and sds of the works' scores under a normal prior per category (empirical Bayes).

    Within each (category, connected component) group of at least ``min_works`` works:
    q ~ N(mu, tau^2), score | q ~ N(q, se^2); tau^2 = var(score) - mean(se^2) (method of
    moments, at least 1e-6 of the variance), mu the precision-weighted mean. Returns the
    shrunk scores mu + B (score - mu) with B = tau^2 / (tau^2 + se^2), their posterior sds
    sqrt(B) se, and the number of groups shrunk. Works measured equally well keep their
    order; a work measured less well (fewer or rejected ratings, raters who are hard to
    calibrate) is pulled toward the group's mean, so noise alone is less likely to lift it
    into the top (Efron & Morris 1975, *J. Amer. Statist. Assoc.* 70:311-319).

    References
    ----------
    .. [1] Efron, B., & Morris, C. (1975). Data analysis using Stein's estimator and its
       generalizations. *Journal of the American Statistical Association*, 70, 311-319.
    """
    group = np.unique(np.asarray(category).astype(str), return_inverse=True)[1].ravel() * (int(component.max()) + 1) + component
    out, post_sd, n_groups = score.copy(), se.copy(), 0
    order = np.argsort(group, kind="stable")
    bounds = np.flatnonzero(np.diff(group[order])) + 1
    for idx in np.split(order, bounds):
        if idx.size < min_works:
            continue
        s, v = score[idx], se[idx] ** 2
        total = float(np.var(s, ddof=1))
        tau2 = max(total - float(np.mean(v)), 1e-6 * total, 1e-12)
        w = 1.0 / (tau2 + v)
        mu = float(np.sum(w * s) / np.sum(w))
        b = tau2 / (tau2 + v)
        out[idx] = mu + b * (s - mu)
        post_sd[idx] = np.sqrt(b * v)
        n_groups += 1
    return out, post_sd, n_groups
