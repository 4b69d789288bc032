"""The simple methods: ``raw`` mean, ``trimmed`` mean and per-rater ``zscore``.

They are the baselines the model-based methods (:mod:`scoring.models_additive`,
:mod:`scoring.affine`) are measured against in :mod:`scoring.simulate`.
"""

from __future__ import annotations

import numpy as np

from scoring.diagnostics import NormalizationResult, finish
from scoring.panel import Panel, build_panel

__all__ = ["fit_raw", "fit_trimmed", "fit_zscore", "TRIM_MIN_RATINGS"]

TRIM_MIN_RATINGS = 5


def pooled_sigma(panel: Panel, fitted: np.ndarray, n_params: int) -> float:
    """Root weighted mean squared residual with ``n_params`` degrees of freedom removed (nan if none left)."""
    dof = panel.n_ratings - n_params
    if dof <= 0:
        return float("nan")
    return float(np.sqrt(np.sum(panel.weight * (panel.score - fitted) ** 2) / dof))


def _weighted_work_mean(panel: Panel, keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    w = panel.weight if keep is None else panel.weight * keep
    sw = np.bincount(panel.work, w, minlength=panel.n_works)
    return np.bincount(panel.work, w * panel.score, minlength=panel.n_works) / sw, sw


def _rater_bias(panel: Panel, work_score: np.ndarray) -> np.ndarray:
    """Descriptive leniency: weighted mean of (rating - work score) for each rater."""
    w = panel.weight
    resid = panel.score - work_score[panel.work]
    return np.bincount(panel.rater, w * resid, minlength=panel.n_raters) / np.bincount(
        panel.rater, w, minlength=panel.n_raters
    )


def _fit_raw(panel: Panel) -> NormalizationResult:
    score, sw = _weighted_work_mean(panel)
    fitted = score[panel.work]
    sigma = pooled_sigma(panel, fitted, panel.n_works)
    return finish(
        "raw", panel, score, sigma / np.sqrt(sw), fitted,
        _rater_bias(panel, score), np.ones(panel.n_raters), sigma,
    )


def _fit_trimmed(panel: Panel) -> NormalizationResult:
    order = np.lexsort((panel.score, panel.work))
    n_w = panel.ratings_per_work()
    start = np.concatenate(([0], np.cumsum(n_w)[:-1]))
    pos = np.empty(panel.n_ratings, dtype=np.intp)
    pos[order] = np.arange(panel.n_ratings) - start[panel.work[order]]
    count = n_w[panel.work]
    drop = (count >= TRIM_MIN_RATINGS) & ((pos == 0) | (pos == count - 1))
    keep = (~drop).astype(float)
    score, sw = _weighted_work_mean(panel, keep)
    fitted = score[panel.work]
    sub = Panel(panel.work_ids, panel.rater_ids, panel.work[~drop], panel.rater[~drop],
                panel.score[~drop], panel.weight[~drop], panel.category)
    sigma = pooled_sigma(sub, fitted[~drop], panel.n_works)
    res = finish(
        "trimmed", panel, score, sigma / np.sqrt(sw), fitted,
        _rater_bias(panel, score), np.ones(panel.n_raters), sigma, robust_weight=keep,
    )
    res.notes.append(
        f"trimmed: highest and lowest rating dropped for {int(np.sum(n_w >= TRIM_MIN_RATINGS))} "
        f"works with at least {TRIM_MIN_RATINGS} ratings"
    )
    return res


def _fit_zscore(panel: Panel) -> NormalizationResult:
    w, y = panel.weight, panel.score
    grand_mean = float(np.average(y, weights=w))
    grand_sd = float(np.sqrt(np.average((y - grand_mean) ** 2, weights=w)))
    if grand_sd == 0:
        grand_sd = 1.0
    sw = np.bincount(panel.rater, w, minlength=panel.n_raters)
    m = np.bincount(panel.rater, w * y, minlength=panel.n_raters) / sw
    var = np.bincount(panel.rater, w * (y - m[panel.rater]) ** 2, minlength=panel.n_raters) / sw
    sd = np.sqrt(var)
    n_r = panel.ratings_per_rater()
    # a rater with one rating, or the same score everywhere, carries no scale information:
    # give them the panel's spread so their ratings map onto the scale unchanged in spread
    flat = (n_r < 2) | (sd <= 1e-12 * grand_sd)
    sd = np.where(flat, grand_sd, sd)
    mapped = grand_mean + grand_sd * (y - m[panel.rater]) / sd[panel.rater]
    score_sum = np.bincount(panel.work, w * mapped, minlength=panel.n_works)
    sww = np.bincount(panel.work, w, minlength=panel.n_works)
    score = score_sum / sww
    scale = sd / grand_sd
    bias = m - grand_mean
    fitted = m[panel.rater] + scale[panel.rater] * (score[panel.work] - grand_mean)
    sigma_mapped = pooled_sigma(
        Panel(panel.work_ids, panel.rater_ids, panel.work, panel.rater, mapped, w, panel.category),
        score[panel.work], panel.n_works,
    )
    sigma = pooled_sigma(panel, fitted, panel.n_works)
    res = finish("zscore", panel, score, sigma_mapped / np.sqrt(sww), fitted, bias, scale, sigma)
    if flat.any():
        res.notes.append(f"zscore: {int(flat.sum())} raters with one rating or no spread keep the panel's spread")
    return res


def fit_raw(work_ids, rater_ids, scores, *, confidence=None, categories=None, works=None) -> NormalizationResult:
    """Mean of each work's ratings (weighted by confidence when given).

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

    Returns
    -------
    NormalizationResult

    Notes
    -----
    No rater model: the standard error is the pooled within-work standard deviation over
    sqrt(total weight). Rater ``bias`` is reported descriptively as the mean of
    (rating - work mean).

    References
    ----------
    .. [1] MacKay, R. S., Kenna, R., Low, R. J., & Parker, S. (2017). Calibration with confidence: a
       principled method for panel assessment. *Royal Society Open Science*, 4, 160760 (confidence as a
       relative precision).

    Examples
    --------
    >>> r = fit_raw(["w1", "w1", "w2", "w2"], ["a", "b", "a", "b"], [6, 8, 5, 7])
    >>> r.score.tolist()
    [7.0, 6.0]
    """
    panel = build_panel(work_ids, rater_ids, scores, confidence=confidence, categories=categories, works=works)
    return _fit_raw(panel)


def fit_trimmed(work_ids, rater_ids, scores, *, confidence=None, categories=None, works=None) -> NormalizationResult:
    """Mean after dropping the highest and lowest rating of works with at least five ratings.

    Parameters are as in :func:`fit_raw`.

    Returns
    -------
    NormalizationResult

    Notes
    -----
    The "drop highest and lowest" rule of judged sports (ISU, FINA diving). Works with fewer
    than five ratings keep the plain mean. Only one highest and one lowest are dropped even
    when tied.

    Examples
    --------
    >>> r = fit_trimmed(["w"] * 5 + ["v"] * 5, list("abcde") * 2, [1, 6, 7, 8, 10, 5, 5, 6, 6, 7])
    >>> r.score.tolist()
    [5.666666666666667, 7.0]
    """
    panel = build_panel(work_ids, rater_ids, scores, confidence=confidence, categories=categories, works=works)
    return _fit_trimmed(panel)


def fit_zscore(work_ids, rater_ids, scores, *, confidence=None, categories=None, works=None) -> NormalizationResult:
    """Standardize each rater over everything they scored, then map back to the scale.

    Parameters are as in :func:`fit_raw`.

    Returns
    -------
    NormalizationResult

    Notes
    -----
    z = (y - mean_rater) / sd_rater, mapped to ``overall_mean + overall_sd * z`` and averaged
    per work. Assumes every rater saw a comparable mix of works; a rater who only saw strong
    works is wrongly treated as lenient (the confound the additive model avoids). Raters with
    one rating or no spread keep the overall spread.

    Examples
    --------
    >>> r = fit_zscore(["w1", "w2", "w1", "w2"], ["a", "a", "b", "b"], [6, 8, 2, 4])
    >>> [round(s, 6) for s in r.score.tolist()]
    [2.763932, 7.236068]
    """
    panel = build_panel(work_ids, rater_ids, scores, confidence=confidence, categories=categories, works=works)
    return _fit_zscore(panel)
