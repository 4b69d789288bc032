"""Result types and the diagnostics every normalization method reports.

After a method has produced per-work scores and per-rating fitted values, :func:`finish`
derives the same diagnostics for all methods: per-rater bias, scale, residual spread and
count; ratings with extreme residuals; works whose raters disagree; and the review-practice
rule that flags a score more than 30% above or below its work's mean (畸高/畸低).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

from scoring.graph import Connectivity, components_from_codes
from scoring.panel import Panel

__all__ = ["RaterEffects", "Diagnostics", "NormalizationResult", "finish", "robust_sigma"]

OUTLIER_Z = 3.0
DEVIATION_SHARE = 0.30
DISAGREEMENT_P = 0.01


@dataclass
class RaterEffects:
    """Per-rater effects: ``bias`` (additive leniency), ``scale`` (multiplier), ``n``, residual sd.

    ``bias_se`` and ``scale_se`` (set by :func:`scoring.normalize.normalize`) are approximate
    standard errors with the work scores held at their estimates (posterior sds where the
    method has a prior on the effect); nan where the method does not estimate the effect or
    the rater's ratings cannot (e.g. a fixed bias from a single rating). ``method`` names the
    fit the rater's effects come from when categories were fitted by different methods.
    """

    rater_id: np.ndarray
    bias: np.ndarray
    scale: np.ndarray
    n: np.ndarray
    residual_sd: np.ndarray
    bias_se: np.ndarray | None = None
    scale_se: np.ndarray | None = None
    method: np.ndarray | None = None


@dataclass
class Diagnostics:
    """Per-rating and per-work flags.

    Attributes
    ----------
    residual, standardized : ndarray, shape (n_ratings,)
        Rating minus the model's fitted value, and divided by the robust residual scale.
    robust_weight : ndarray, shape (n_ratings,)
        Huber weight used in the final fit (1 when the method is not robust).
    outlier : ndarray of bool, shape (n_ratings,)
        ``|standardized| > 3``: the rating is far from what the model expects of this rater.
    deviation : ndarray of int8, shape (n_ratings,)
        +1 (畸高) / -1 (畸低) when the score deviates more than 30% from its work's raw mean.
    disagreement : ndarray of bool, shape (n_works,)
        The work's residuals are more dispersed than the panel's (chi-square, p < 0.01).
    disagreement_p : ndarray, shape (n_works,)
    rejected : ndarray of bool, shape (n_ratings,)
        Ratings a redescending loss gave weight 0 (wild scores that count for nothing); all
        False for methods without one.
    """

    residual: np.ndarray
    standardized: np.ndarray
    robust_weight: np.ndarray
    outlier: np.ndarray
    deviation: np.ndarray
    disagreement: np.ndarray
    disagreement_p: np.ndarray
    rejected: np.ndarray | None = None


@dataclass
class NormalizationResult:
    """Output of every method in :data:`scoring.normalize.METHODS`.

    ``score`` is the rater-adjusted score of each work on the original scale, ``se`` its
    standard error; arrays follow the sorted unique ``work_id``.
    """

    method: str
    work_id: np.ndarray
    category: np.ndarray
    score: np.ndarray
    se: np.ndarray
    n_ratings: np.ndarray
    raters: RaterEffects
    connectivity: Connectivity
    diagnostics: Diagnostics
    sigma: float
    iterations: int = 0
    converged: bool = True
    notes: list[str] = field(default_factory=list)
    prior: dict | None = None
    #: the estimate and its standard error before shrinkage toward the category mean (when a
    #: method shrinks work scores); rank bands are drawn around these, ranks use ``score``
    unshrunk_score: np.ndarray | None = None
    unshrunk_se: np.ndarray | None = None
    #: per category, the method it was fitted with and why (:class:`scoring.support.CategoryMethod`);
    #: set by :func:`scoring.normalize.normalize`
    categories: list = field(default_factory=list)


def robust_sigma(residual: np.ndarray, weight: np.ndarray, n_params: int) -> float:
    """Residual scale from the median absolute residual (MAD × 1.4826), corrected for fitted parameters."""
    r = np.abs(residual) * np.sqrt(weight)
    n = len(r)
    dof = max(n - n_params, 1)
    mad = 1.4826 * float(np.median(r)) * np.sqrt(n / dof)
    if mad <= 0:
        mad = float(np.sqrt(np.sum(r**2) / dof))
    if not mad > 0:
        # a perfect fit (a tiny or noiseless panel): a scale far below any score step keeps every
        # division defined and leaves all robust weights at 1
        mad = 1e-9 * max(float(np.max(np.abs(residual), initial=0.0)), 1.0)
    return mad


def finish(
    method: str,
    panel: Panel,
    score: np.ndarray,
    se: np.ndarray,
    fitted: np.ndarray,
    bias: np.ndarray,
    scale: np.ndarray,
    sigma: float,
    *,
    robust_weight: np.ndarray | None = None,
    connectivity: Connectivity | None = None,
    iterations: int = 0,
    converged: bool = True,
    notes: list[str] | None = None,
    rejected: np.ndarray | None = None,
) -> NormalizationResult:
    """Assemble a :class:`NormalizationResult` and compute its diagnostics."""
    if connectivity is None:
        connectivity = components_from_codes(panel.work, panel.rater, panel.n_works, panel.n_raters)
    resid = panel.score - fitted
    wr = resid * np.sqrt(panel.weight)
    scale_ = sigma if sigma > 0 and np.isfinite(sigma) else 1.0
    z = wr / scale_
    n_r = panel.ratings_per_rater()
    n_w = panel.ratings_per_work()
    rater_ss = np.bincount(panel.rater, wr**2, minlength=panel.n_raters)
    rater_sd = np.sqrt(rater_ss / np.maximum(n_r, 1))
    # 畸高/畸低: more than 30% away from the work's (unadjusted) mean score
    mean_w = np.bincount(panel.work, panel.score, minlength=panel.n_works) / n_w
    ref = mean_w[panel.work]
    dev = panel.score - ref
    limit = DEVIATION_SHARE * np.abs(ref)
    deviation = np.where(dev > limit, 1, np.where(dev < -limit, -1, 0)).astype(np.int8)
    # disagreement: sum of squared standardized residuals against chi2(n-1)
    chi = np.bincount(panel.work, z**2, minlength=panel.n_works)
    df = np.maximum(n_w - 1, 1)
    # the work's own score is fitted, so its residuals keep n - 1 degrees of freedom
    p = np.where(n_w >= 2, special.chdtrc(df, chi), 1.0)  # chi-square upper tail
    diag = Diagnostics(
        residual=resid,
        standardized=z,
        robust_weight=np.ones(panel.n_ratings) if robust_weight is None else robust_weight,
        outlier=np.abs(z) > OUTLIER_Z,
        deviation=deviation,
        disagreement=p < DISAGREEMENT_P,
        disagreement_p=p,
        rejected=np.zeros(panel.n_ratings, dtype=bool) if rejected is None else rejected,
    )
    raters = RaterEffects(panel.rater_ids, bias, scale, n_r, rater_sd)
    return NormalizationResult(
        method=method,
        work_id=panel.work_ids,
        category=panel.category,
        score=score,
        se=se,
        n_ratings=n_w,
        raters=raters,
        connectivity=connectivity,
        diagnostics=diag,
        sigma=float(sigma),
        iterations=iterations,
        converged=converged,
        notes=list(notes or []),
    )
