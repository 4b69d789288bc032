"""Fit each group of categories with the method its data support, and join the fits into one result.

:func:`scoring.support.plan_methods` says which method each category is fitted with; the
categories of one method are fitted together (a rater's ratings in all of them inform their
effects), each group on its own sub-panel. When every category keeps the asked method this is
one fit of the whole panel, exactly as the method alone would give. Afterwards the result is
made honest about what could not be estimated: a standard error of exactly zero (no spread
left to measure the noise by) becomes nan, a rater's residual sd becomes nan where their
ratings leave no residual degree of freedom (or are a single rating), and every rater gets approximate standard errors
of their bias and scale (:func:`rater_uncertainty`).
"""

from __future__ import annotations

import inspect

import numpy as np

from scoring.affine import fit_affine_panel
from scoring.diagnostics import Diagnostics, NormalizationResult, RaterEffects
from scoring.graph import components_from_codes
from scoring.models_additive import _fit_additive
from scoring.models_random import _fit_additive_random, rater_variance
from scoring.models_simple import _fit_raw, _fit_trimmed, _fit_zscore
from scoring.panel import Panel
from scoring.support import FALLBACKS, CategoryMethod, subpanel

__all__ = ["PANEL_FITS", "fit_planned", "rater_uncertainty", "RATER_PARAMETERS"]

#: Each method (and fall-back) on a built panel.
PANEL_FITS = {
    "raw": _fit_raw,
    "trimmed": _fit_trimmed,
    "zscore": _fit_zscore,
    "additive": _fit_additive,
    "additive_random": _fit_additive_random,
    "affine": fit_affine_panel,
}
#: Parameters a method fits per rater: their residual sd needs more ratings than this (and a
#: spread needs two ratings at least)
RATER_PARAMETERS = {"raw": 0, "trimmed": 0, "additive_random": 0, "additive": 1, "zscore": 2, "affine": 2}
#: Standard errors below this share of the scores' range (at least 1) are "no noise left to measure"
ZERO_SE = 1e-9
#: Options a fall-back inherits from the asked method's options, when it takes them
SHARED_OPTIONS = ("robust", "huber_c", "max_iter", "tol")


def _options_for(name: str, asked: str, options: dict) -> dict:
    if name == asked:
        return dict(options)
    accepted = inspect.signature(PANEL_FITS[name]).parameters
    return {k: v for k, v in options.items() if k in SHARED_OPTIONS and k in accepted}


def rater_uncertainty(panel: Panel, result: NormalizationResult, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Approximate standard errors of each rater's bias and scale, the work scores held fixed.

    ``affine``: the covariance of the rater's ridge regression (the posterior of (c, a) given the
    works under the fit's priors); ``additive``/``additive_random``: sigma^2 over the rater's
    weight (plus the prior precision of the random effects); ``raw``/``trimmed``: the sd of a
    mean of the rater's residuals; ``zscore``: the same for the location and sd/sqrt(2(n - 1))
    for the spread. nan where the method does not estimate the effect or the ratings cannot.
    """
    n_r = panel.n_raters
    nan = np.full(n_r, np.nan)
    sigma = result.sigma
    if not (np.isfinite(sigma) and sigma > 0):
        return nan, nan.copy()
    w = panel.weight * result.diagnostics.robust_weight
    sw = np.bincount(panel.rater, w, minlength=n_r)
    n = panel.ratings_per_rater()
    s2 = sigma * sigma
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "affine":
            prior = result.prior or {}
            centre = prior.get("centre", float(np.average(panel.score, weights=panel.weight)))
            lam_c = s2 / prior.get("severity_sd", np.inf) ** 2
            lam_a = s2 / prior.get("scale_sd", np.inf) ** 2
            theta = result.unshrunk_score if result.unshrunk_score is not None else result.score
            x = theta[panel.work] - centre
            a_sw = sw + lam_c
            sx = np.bincount(panel.rater, w * x, minlength=n_r)
            sxx = np.bincount(panel.rater, w * x * x, minlength=n_r) + lam_a
            det = a_sw * sxx - sx * sx
            ok = det > 1e-12 * np.maximum(a_sw * sxx, 1e-300)
            return np.where(ok, np.sqrt(s2 * sxx / det), np.nan), np.where(ok, np.sqrt(s2 * a_sw / det), np.nan)
        if method in ("additive", "additive_random"):
            lam = s2 / (result.prior or {}).get("severity_sd", np.inf) ** 2 if method == "additive_random" else 0.0
            bias_se = np.sqrt(s2 / (sw + lam))
            if method == "additive":
                bias_se = np.where(n >= 2, bias_se, np.nan)  # one rating: the bias absorbs it
            return bias_se, nan
        bias_se = np.where(sw > 0, np.sqrt(s2 / sw), np.nan)
        if method == "zscore":
            scale_se = np.where(n >= 2, result.raters.scale / np.sqrt(2.0 * np.maximum(n - 1, 1)), np.nan)
            return np.where(n >= 2, bias_se, np.nan), scale_se
        return bias_se, nan


def _made_honest(panel: Panel, result: NormalizationResult, method: str) -> NormalizationResult:
    """Zero standard errors to nan, residual sds without degrees of freedom to nan, rater standard errors."""
    # a standard error this small is a fit without residual noise, not a measurement
    tiny = ZERO_SE * max(float(np.ptp(panel.score)), 1.0)
    for name in ("se", "unshrunk_se"):
        value = getattr(result, name)
        if value is not None:
            setattr(result, name, np.where(value > tiny, value, np.nan))
    r = result.raters
    r.residual_sd = np.where((r.n > RATER_PARAMETERS[method]) & (r.n >= 2), r.residual_sd, np.nan)
    r.bias_se, r.scale_se = rater_uncertainty(panel, result, method)
    r.method = np.full(panel.n_raters, method, dtype=object)
    return result


def _scatter(parts, field_of, size, dtype, fill):
    out = np.full(size, fill, dtype=dtype)
    for part, index in parts:
        value = field_of(part)
        if value is not None:
            out[index] = value
    return out


def _merge(panel: Panel, asked: str, fits: list[tuple[str, NormalizationResult, np.ndarray, np.ndarray,
                                                          np.ndarray]]) -> NormalizationResult:
    """One result from the fits of several category groups (each on its own sub-panel)."""
    works = [(res, w) for _, res, w, _, _ in fits]
    rows = [(res, rows) for _, res, _, _, rows in fits]
    score = _scatter(works, lambda r: r.score, panel.n_works, float, np.nan)
    se = _scatter(works, lambda r: r.se, panel.n_works, float, np.nan)
    shrunk = any(res.unshrunk_score is not None for _, res, _, _, _ in fits)
    unshrunk = _scatter(works, lambda r: r.unshrunk_score if r.unshrunk_score is not None else r.score,
                        panel.n_works, float, np.nan) if shrunk else None
    unshrunk_se = _scatter(works, lambda r: r.unshrunk_se if r.unshrunk_se is not None else r.se,
                           panel.n_works, float, np.nan) if shrunk else None
    d = [(res.diagnostics, index) for res, index in rows]
    diag = Diagnostics(
        residual=_scatter(d, lambda x: x.residual, panel.n_ratings, float, np.nan),
        standardized=_scatter(d, lambda x: x.standardized, panel.n_ratings, float, np.nan),
        robust_weight=_scatter(d, lambda x: x.robust_weight, panel.n_ratings, float, 1.0),
        outlier=_scatter(d, lambda x: x.outlier, panel.n_ratings, bool, False),
        deviation=_scatter(d, lambda x: x.deviation, panel.n_ratings, np.int8, 0),
        disagreement=_scatter([(res.diagnostics, w) for res, w in works], lambda x: x.disagreement,
                              panel.n_works, bool, False),
        disagreement_p=_scatter([(res.diagnostics, w) for res, w in works], lambda x: x.disagreement_p,
                                panel.n_works, float, 1.0),
        rejected=_scatter(d, lambda x: x.rejected, panel.n_ratings, bool, False))
    # each rater's effects from the fit that holds most of their ratings (ties: the earlier method)
    counts = np.zeros((len(fits), panel.n_raters))
    for k, (_, res, _, raters, _) in enumerate(fits):
        counts[k, raters] = res.raters.n
    chosen = np.argmax(counts, axis=0)
    effects = {name: np.full(panel.n_raters, np.nan) for name in ("bias", "scale", "bias_se", "scale_se")}
    method = np.empty(panel.n_raters, dtype=object)
    for k, (name, res, _, raters, _) in enumerate(fits):
        mine = chosen[raters] == k
        for key in effects:
            effects[key][raters[mine]] = getattr(res.raters, key)[mine]
        method[raters[mine]] = name
    n = panel.ratings_per_rater()
    wr2 = panel.weight * diag.residual ** 2
    residual_sd = np.sqrt(np.bincount(panel.rater, wr2, minlength=panel.n_raters) / np.maximum(n, 1))
    params = np.array([max(RATER_PARAMETERS[m], 1) for m in method])
    raters = RaterEffects(panel.rater_ids, effects["bias"], effects["scale"], n,
                          np.where(n > params, residual_sd, np.nan), effects["bias_se"], effects["scale_se"], method)
    largest = max(fits, key=lambda f: f[1].n_ratings.sum())[1]
    asked_fit = next((res for name, res, _, _, _ in fits if name == asked), None)
    notes = [note for _, res, _, _, _ in fits for note in res.notes]
    return NormalizationResult(
        method=asked, work_id=panel.work_ids, category=panel.category, score=score, se=se,
        n_ratings=panel.ratings_per_work(), raters=raters,
        connectivity=components_from_codes(panel.work, panel.rater, panel.n_works, panel.n_raters),
        diagnostics=diag, sigma=largest.sigma, iterations=sum(res.iterations for _, res, _, _, _ in fits),
        converged=all(res.converged for _, res, _, _, _ in fits), notes=notes,
        prior=asked_fit.prior if asked_fit is not None else None, unshrunk_score=unshrunk, unshrunk_se=unshrunk_se)


def fit_planned(panel: Panel, method: str, plan: list[CategoryMethod], options: dict) -> NormalizationResult:
    """Fit ``panel`` by ``plan`` (from :func:`scoring.support.plan_methods`) and join the fits."""
    used = {p.method_used for p in plan}
    order = [name for name in FALLBACKS[method] if name in used]
    if len(order) == 1:
        name = order[0]
        result = _made_honest(panel, PANEL_FITS[name](panel, **_options_for(name, method, options)), name)
        result.method = method
        result.categories = plan
        return result
    names, code = np.unique(panel.category.astype(str), return_inverse=True)
    by_category = {p.category: p.method_used for p in plan}
    work_method = np.array([by_category[str(c)] for c in names], dtype=object)[code.ravel()]
    fits = []
    for name in order:
        keep = (work_method == name)[panel.work]
        sub, works, raters = subpanel(panel, keep)
        extra = _options_for(name, method, options)
        if name == "additive_random":
            extra["variances"] = rater_variance(sub)
        res = _made_honest(sub, PANEL_FITS[name](sub, **extra), name)
        fits.append((name, res, works, raters, np.flatnonzero(keep)))
    result = _merge(panel, method, fits)
    result.categories = plan
    return result
