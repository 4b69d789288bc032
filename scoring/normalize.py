"""Registry of rater-bias normalization methods and the single entry point :func:`normalize`.

Adding a method is adding one entry to :data:`METHODS`: a function
``fit(work_ids, rater_ids, scores, *, confidence=None, categories=None, works=None)``
returning a :class:`~scoring.diagnostics.NormalizationResult` (and, for the per-category
fall-backs, one entry to :data:`scoring.combine.PANEL_FITS` and :data:`scoring.support.FALLBACKS`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from scoring.affine import fit_affine
from scoring.combine import fit_planned
from scoring.diagnostics import NormalizationResult
from scoring.models_random import rater_variance
from scoring.panel import build_panel
from scoring.support import plan_methods
from scoring.models_additive import fit_additive
from scoring.models_simple import fit_raw, fit_trimmed, fit_zscore

__all__ = ["METHODS", "DEFAULT_METHOD", "normalize", "NormalizationResult"]

METHODS: dict[str, Callable[..., NormalizationResult]] = {
    "raw": fit_raw,
    "trimmed": fit_trimmed,
    "zscore": fit_zscore,
    "additive": fit_additive,
    "affine": fit_affine,
}

#: Chosen from the simulator study in docs/scoring.md (benchmarks/bench_scoring_accuracy.py).
DEFAULT_METHOD = "affine"


def normalize(
    work_ids, rater_ids, scores, *, method: str = DEFAULT_METHOD, confidence=None,
    categories=None, works=None, scale_ends=None, fallback: bool = True, **options,
) -> NormalizationResult:
    """Rater-bias-normalized score of every work by the named method.

    Parameters
    ----------
    work_ids, rater_ids, scores : array_like, shape (n,)
        Long-form ratings, one per (work, rater).
    method : str, default :data:`DEFAULT_METHOD`
        A key of :data:`METHODS`.
    confidence, categories, works
        Passed to the method (see :func:`scoring.models_simple.fit_raw`).
    scale_ends : (low, high), optional
        The ends of the rating scale (e.g. of the weighted totals), for the methods that weigh
        a rating exactly at an end as a possible wild tap (``affine``'s ``wild_ends``); other
        methods ignore it. An explicit ``wild_ends=`` option wins.
    fallback : bool, default True
        Check per category what the ratings can support (:mod:`scoring.support`) and fit a
        category whose data cannot support ``method`` by the next method of
        :data:`scoring.support.FALLBACKS` (e.g. affine -> additive_random -> raw); the result's
        ``categories`` says which method each category was fitted with and why. A panel with a
        single rater is accepted (its categories fall back to the raw mean). Standard errors
        of exactly zero and residual sds without degrees of freedom are reported as nan, and
        every rater gets ``bias_se`` and ``scale_se``. ``False`` runs the method alone on the
        whole panel, as :data:`METHODS` does.
    **options
        Method-specific keyword options (e.g. ``ridge=``, ``robust=``).

    Returns
    -------
    NormalizationResult
        ``method`` is the method asked; ``categories`` lists a
        :class:`scoring.support.CategoryMethod` per category.

    Notes
    -----
    The models and their papers are listed in each method's docstring; docs/scoring.md
    compares them on simulated panels with known truth.

    Examples
    --------
    >>> r = normalize(["w1", "w1", "w2", "w2"], ["a", "b", "a", "b"], [6, 8, 5, 7], method="raw")
    >>> r.method, r.score.tolist()
    ('raw', [7.0, 6.0])
    >>> r = normalize(["w1", "w1", "w2", "w2"], ["a", "b", "a", "b"], [6, 8, 5, 7])
    >>> r.categories[0].method_used, r.categories[0].code
    ('additive_random', 'few_ratings_per_rater')
    """
    try:
        fit = METHODS[method]
    except KeyError:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}") from None
    if scale_ends is not None and "wild_ends" in inspect.signature(fit).parameters:
        options.setdefault("wild_ends", tuple(float(v) for v in scale_ends))
    if not fallback:
        return fit(work_ids, rater_ids, scores, confidence=confidence, categories=categories, works=works,
                   **options)
    panel = build_panel(work_ids, rater_ids, scores, confidence=confidence, categories=categories, works=works,
                        min_raters=1)
    return fit_planned(panel, method, plan_methods(panel, method, rater_variance=rater_variance), options)
