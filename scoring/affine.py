"""The ``affine`` model y - m = a_rater (theta_work - m) + c_rater + e (severity and scale use).

Some raters use the whole scale, others only its middle: an additive shift cannot fix that.
The affine model gives each rater a slope ``a`` (scale use) and a severity ``c`` at the
panel's mean score m, shrunk toward a = 1 and c = 0 with prior spreads estimated from the
panel (empirical Bayes), and is fitted by alternating between the slopes and an exact solve
of the (linear) rest, starting from the robust additive fit. Wild ratings are then set
aside by a contamination mixture and reported.
"""

from __future__ import annotations

import numpy as np

from scoring import affine_phases as phases
from scoring.affine_newton import PairBlocks
from scoring.diagnostics import NormalizationResult, finish, robust_sigma
from scoring.models_additive import HUBER_C, huber_weights
from scoring.panel import Panel, build_panel
from scoring.posterior import METHODS as POSTERIORS, work_scores
from scoring.priors import RaterPrior, shrink_within_groups
from scoring.wild import BIWEIGHT_C, biweight_weights

__all__ = ["fit_affine", "fit_affine_panel", "ACCELERATORS", "biweight_weights", "BIWEIGHT_C", "RaterPrior", "shrink_within_groups"]

#: Ways to solve the slope <-> (theta, b) fixed point; all reach the same estimates.
ACCELERATORS = ("anderson", "newton", "squarem")
STUDENTIZE = True
REDESCENDING = ("mixture", "biweight", None)
REJECT_FLOOR = phases.REJECT_FLOOR


def _check_options(*, ridge, scale_prior_sd, redescending, biweight_c, accelerator) -> None:
    """A ValueError naming the first option out of its range."""
    if redescending not in REDESCENDING:
        raise ValueError(f"redescending must be one of {', '.join(map(str, REDESCENDING))}, got {redescending!r}")
    if ridge is not None and not ridge >= 0:
        raise ValueError(f"ridge must be zero or positive, got {ridge!r}")
    if scale_prior_sd is not None and not scale_prior_sd > 0:
        raise ValueError(f"scale_prior_sd must be positive, got {scale_prior_sd!r}")
    if not biweight_c > 0:
        raise ValueError(f"biweight_c must be positive, got {biweight_c!r}")
    if accelerator not in ACCELERATORS:
        raise ValueError(f"accelerator must be one of {', '.join(ACCELERATORS)}, got {accelerator!r}")


def _fit_phases(problem: phases.AffineProblem, state: phases.FitState, *, ridge, scale_prior_sd, robust: bool,
                huber_c: float, redescending, biweight_c: float, max_iter: int, tol: float, accelerator: str,
                wild_ends):
    """The Huber phase, then the redescending one: (theta, c, slopes, converged, prior, robust scale)."""
    start = problem.start
    sigma = start.sigma if np.isfinite(start.sigma) and start.sigma > 0 else problem.spread
    priors = dict(ridge=ridge, scale_prior_sd=scale_prior_sd)
    run = dict(robust=robust, accelerator=accelerator, max_iter=max_iter,
               blocks=PairBlocks(problem.panel.work, problem.panel.rater, problem.panel.n_works,
                                 problem.panel.n_raters) if accelerator == "newton" else None)
    conf = problem.panel.weight

    def huber(z, _):
        return huber_weights(z, huber_c)

    # 1) Huber loss, priors estimated at the additive start
    prior = phases.estimate_prior(problem, start.theta, conf * state.weight, sigma, **priors)
    theta, c, slope, converged = phases.run_phase(
        problem, state, prior, sigma, huber, None, tol if redescending is None or not robust else 10 * tol, **run)
    if robust:
        sigma = phases.huber_scale(problem, state, theta, c, slope, studentize=STUDENTIZE)
    if ridge is None or scale_prior_sd is None:
        prior = phases.estimate_prior(problem, theta, conf * state.weight, sigma, **priors)
    # 2) from the Huber fit: the contamination mixture, Tukey's biweight, or (priors re-estimated) Huber again
    if robust and redescending == "mixture":
        reweight = phases.mixture_weights(problem, state, theta, c, slope, sigma, wild_ends)
        theta, c, slope, converged = phases.run_phase(problem, state, prior, sigma, reweight, np.log(slope), tol,
                                                      studentize=STUDENTIZE, **run)
    elif robust and redescending == "biweight":
        # a rating beyond biweight_c robust sd counts for nothing
        def biweight(z, _):
            return np.maximum(biweight_weights(z, biweight_c), REJECT_FLOOR)

        theta, c, slope, converged = phases.run_phase(problem, state, prior, sigma, biweight, np.log(slope), tol,
                                                      studentize=STUDENTIZE, **run)
    elif ridge is None or scale_prior_sd is None:
        theta, c, slope, converged = phases.run_phase(problem, state, prior, sigma, huber, np.log(slope), tol, **run)
    return theta, c, slope, converged, prior, sigma


def _on_reporting_convention(problem: phases.AffineProblem, theta, c, slope):
    """theta - beta, c + a beta fit the same: report the convention "mean severity 0 per component"."""
    conn = problem.connectivity
    comp = conn.rater_component
    beta = -(np.bincount(comp, c, minlength=conn.n_components) / np.bincount(comp, slope, minlength=conn.n_components))
    return theta - beta[conn.work_component], c + slope * beta[comp]


def _standard_errors(problem: phases.AffineProblem, weight, slope, fitted, sigma: float, *, robust: bool,
                     redescending):
    """(se of theta, sigma^2 of the final fit, the diagnostics' residual scale); nan when no dof is left."""
    p, m = problem.panel, problem.centre
    resid = p.score - fitted
    w = p.weight * weight
    # rejected ratings carry no information: the residual degrees of freedom count the weights
    dof = (float(np.sum(np.minimum(weight / np.max(weight), 1.0))) if robust and redescending else p.n_ratings) \
        - problem.n_params
    if not dof > 0:
        return np.full(p.n_works, np.nan), None, float("nan")
    sigma2 = float(np.sum(w * resid**2) / dof)
    if robust and redescending:
        # the weighted residuals understate the noise of the genuine ratings (their weights
        # fall with their residuals): use the robust scale of the mixture when it is larger
        sigma2 = max(sigma2, sigma**2)
    problem.solver.solve(w, p.score - m * (1 - slope[p.rater]), slope=slope[p.rater])
    se = np.sqrt(sigma2 * problem.solver.theta_variance())
    sigma_diag = robust_sigma(resid, p.weight, problem.n_params) if robust else np.sqrt(sigma2)
    return se, sigma2, sigma_diag


def _rejected(weight: np.ndarray, *, robust: bool, redescending) -> np.ndarray:
    """The ratings set aside as wild: mixture weight below one half, or the biweight's zero."""
    if robust and redescending == "mixture":
        return weight < 0.5
    if robust and redescending == "biweight":
        return weight <= REJECT_FLOOR
    return np.zeros(weight.size, dtype=bool)


def _fit_affine(
    panel: Panel, *, ridge: float | None = None, scale_prior_sd: float | None = None, robust: bool = True,
    huber_c: float = HUBER_C, redescending: str | None = "mixture", biweight_c: float = BIWEIGHT_C,
    max_iter: int = 50, tol: float = 1e-4, accelerator: str = "squarem", shrink_works: bool = True,
    wild_ends=None, posterior_method: str | None = None,
) -> NormalizationResult:
    _check_options(ridge=ridge, scale_prior_sd=scale_prior_sd, redescending=redescending, biweight_c=biweight_c,
                   accelerator=accelerator)
    problem, state = phases.setup(panel, robust=robust, huber_c=huber_c)
    theta, c, slope, converged, prior, sigma = _fit_phases(
        problem, state, ridge=ridge, scale_prior_sd=scale_prior_sd, robust=robust, huber_c=huber_c,
        redescending=redescending, biweight_c=biweight_c, max_iter=max_iter, tol=tol, accelerator=accelerator,
        wild_ends=wild_ends)
    weight, m, conn = state.weight, problem.centre, problem.connectivity
    theta, c = _on_reporting_convention(problem, theta, c, slope)
    fitted = m + slope[panel.rater] * (theta[panel.work] - m) + c[panel.rater]
    se, sigma2, sigma_diag = _standard_errors(problem, weight, slope, fitted, sigma, robust=robust,
                                              redescending=redescending)
    rejected = _rejected(weight, robust=robust, redescending=redescending)
    shrunk_note = None
    unshrunk = (theta, se)
    if shrink_works and np.all(np.isfinite(se)):
        # posterior means over the raters' effects (scoring/posterior.py), or the plug-in shrinkage
        theta, se, _, shrunk_note = work_scores(panel, theta, se, panel.weight * weight / sigma2,
                                                method=posterior_method, centre=m, severity_sd=prior.severity_sd,
                                                scale_sd=prior.scale_sd, component=conn.work_component,
                                                shrink=shrink_within_groups)
    res = finish(
        "affine", panel, theta, se, fitted, c, slope, sigma_diag,
        robust_weight=np.where(rejected, 0.0, weight), connectivity=conn, iterations=state.evals,
        converged=converged, rejected=rejected,
    )
    res.prior = {"severity_sd": prior.severity_sd, "scale_sd": prior.scale_sd, "centre": m}
    if rejected.any():
        res.notes.append(f"affine: {int(rejected.sum())} rating(s) rejected as wild ({redescending}: "
                         "they count for (almost) nothing)")
    if shrunk_note:
        res.notes.append(shrunk_note)
        res.unshrunk_score, res.unshrunk_se = unshrunk
    if state.fallback:
        res.notes.append("affine: Newton steps did not converge in a phase; SQUAREM sweeps finished it")
    if not converged:
        res.notes.append(f"affine: stopped after {state.evals} sweeps before converging")
    return res


def fit_affine(
    work_ids, rater_ids, scores, *, confidence=None, categories=None, works=None,
    ridge: float | None = None, scale_prior_sd: float | None = None, robust: bool = True,
    huber_c: float = HUBER_C, redescending: str | None = "mixture", biweight_c: float = BIWEIGHT_C,
    max_iter: int = 50, tol: float = 1e-4, accelerator: str = "squarem", shrink_works: bool = True,
    wild_ends=None, posterior: str | None = None,
) -> NormalizationResult:
    """Fit y - m = a_rater (theta_work - m) + c_rater + e (scale use and severity), robustly.

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
    ridge : float, optional
        Shrinkage of the severity c toward 0 as the ratio noise variance / severity variance.
        Default: estimated from the data (empirical Bayes, see Notes).
    scale_prior_sd : float, optional
        Prior sd of the scale a around 1. Default: estimated from the data.
    robust : bool, default True
        Huber weights first (scale from the robust additive start), then ``redescending``.
    huber_c : float, default 1.5
        Huber threshold in robust standard deviations.
    redescending : {"mixture", "biweight", None}, default "mixture"
        How wild ratings are set aside after the Huber fit: "mixture" weights each rating by
        the posterior probability that it is genuine (see Notes); "biweight" uses Tukey's
        biweight with ``biweight_c``; None keeps the Huber fit.
    biweight_c : float, default 4.685
        Biweight threshold in robust standard deviations (only for "biweight").
    max_iter : int, default 50
        At most ``3 * max_iter`` sweeps per phase (SQUAREM: accelerated cycles of three sweeps).
    tol : float, default 1e-4
        Stop when no work score moves more than ``tol`` times the sd of the scores.
    accelerator : {"anderson", "newton", "squarem"}, default "squarem"
        How the slope <-> (theta, c) fixed point is solved. "squarem" and "anderson" extrapolate
        the sweeps; "newton" takes joint Newton steps in (theta, c, a) (``scoring/affine_newton.py``;
        the sweeps finish a phase it does not converge in): half the passes, not less time.
        All reach the same fixed point on the tested random panels (to 1e-6), but the
        mixture's loss can have several: in 2 of 33 simulator fits Newton's early long steps
        ended at another one (docs/benchmarks.md). "squarem" is the default and reference.
    shrink_works : bool, default True
        Report posterior means of the work scores within category (empirical Bayes).
    posterior : {None, "gibbs", "vb"}, default None
        With ``shrink_works``, how those means are taken: None plugs the fitted slopes and
        severities in (:func:`shrink_within_groups`); "gibbs" (Rao-Blackwellized, seeded) or
        "vb" (mean-field) integrate over them (:mod:`scoring.posterior`, panels of at most
        ``posterior.MAX_RATINGS`` ratings). Measured no better on the simulator's panels
        (docs/scoring.md), so not the default.

    wild_ends : (low, high), False or None, default None
        The scale's ends, where wild taps pile up (e.g. ``(0, 10)``): a rating exactly at an
        end is weighed as a tap at that end against a genuine impression at or beyond it.
        None: the lowest and highest score when at least two ratings sit on it; False: wild
        ratings are uniform over the range only.

    Returns
    -------
    NormalizationResult
        ``score`` = theta, the score a rater with a = 1, c = 0 would give; rater ``bias`` = c
        (severity at the panel's mean score m, mean 0 per component) and ``scale`` = a
        (geometric mean 1 per component). ``diagnostics.rejected`` marks the ratings set
        aside as wild; ``prior`` holds the estimated prior sds and the centre m. ``se``
        accounts for the uncertainty of the severities but treats the slopes as known.

    Notes
    -----
    The affine (severity + scale) rater model of Paul (1981), "Bayesian methods for
    calibration of examiners", *Brit. J. Math. Statist. Psych.* 34:213-223, and of the
    panel-calibration literature (MacKay, Kenna, Low & Parker 2017, *R. Soc. Open Sci.*
    4:160760, who also motivate confidence weights), centred on the panel's mean score m
    so that a rater's severity c is measured at a typical work.

    *Empirical Bayes.* The raters are a sample: c ~ N(0, tau_c^2) and a ~ N(1, tau_a^2).
    The prior variances are estimated by the method of moments (Morris 1983, "Parametric
    empirical Bayes inference: theory and applications", *J. Amer. Statist. Assoc.*
    78:47-55): per rater, the unpenalized regression of the ratings on the fitted work
    scores gives (c_hat, a_hat) and their sampling variances; tau^2 = spread of the
    estimates minus their mean sampling variance, corrected for the fitted work scores
    (each rating's own share of its work's fit, and the errors-in-variables attenuation of
    the slopes) and floored at 0.02 (of the score sd for c). Each rater's (a, c) is then the
    posterior mode: a ridge regression with penalties sigma^2 / tau^2, so raters with few
    ratings, or who rated works of similar quality, are pulled toward the panel. The prior
    is estimated at the additive start and re-estimated once after the Huber fit.

    *Wild ratings.* After the Huber fit, each rating is genuine, N(fitted, sigma^2), with
    probability 1 - pi, or wild, uniform over the range of the scores or a tap at one of the
    scale's ends (``wild_ends``; a genuine rating there is censored: its probability is the
    normal tail beyond the end), with probability pi; the shares are estimated by EM on the
    Huber residuals and then held fixed (Aitkin & Wilson 1980,
    "Mixture models, outliers, and the EM algorithm", *Technometrics* 22:325-331). A
    rating's weight is its posterior probability of being genuine, computed from its
    residual studentized by its leverage on its own work (sigma sqrt(1 - h)); below 0.5 it
    is reported as rejected. This is a redescending M-estimator: a rating far from the
    panel counts for (almost) nothing, unlike under Huber's loss, where it keeps a pull of
    c sigma. Tukey's biweight (Beaton & Tukey 1974, *Technometrics* 16:147-185) is the
    alternative; the mixture adapts its threshold to how many wild ratings there are.

    *Work scores.* With ``shrink_works`` (default) the reported scores are posterior means
    within each category and connected component, see :func:`shrink_within_groups`; the
    unshrunk estimates are in ``unshrunk_score`` and ``unshrunk_se``.

    *Fitting.* Each sweep solves a ridge regression per rater for the slopes, then, the
    slopes given, the linear model in (theta, c) exactly through the same Schur-complement
    solver as the additive model; the sweeps are Anderson-accelerated.

    References
    ----------
    .. [1] Paul, S. R. (1981). Bayesian methods for calibration of examiners. *British Journal of Mathematical
       and Statistical Psychology*, 34, 213-223.
    .. [2] MacKay, R. S., Kenna, R., Low, R. J., & Parker, S. (2017). Calibration with confidence: a
       principled method for panel assessment. *Royal Society Open Science*, 4, 160760.
    .. [3] Morris, C. N. (1983). Parametric empirical Bayes inference: theory and applications. *Journal of
       the American Statistical Association*, 78, 47-55.
    .. [4] Aitkin, M., & Wilson, G. T. (1980). Mixture models, outliers, and the EM algorithm.
       *Technometrics*, 22, 325-331.
    .. [5] Beaton, A. E., & Tukey, J. W. (1974). The fitting of power series, meaning polynomials, illustrated
       on band-spectroscopic data. *Technometrics*, 16, 147-185.
    .. [6] Varadhan, R., & Roland, C. (2008). Simple and globally convergent methods for accelerating the
       convergence of any EM algorithm. *Scandinavian Journal of Statistics*, 35, 335-353.

    Examples
    --------
    >>> works = ["w1", "w2", "w3"] * 2 + ["w4", "w4"]
    >>> raters = ["a"] * 3 + ["b"] * 3 + ["a", "b"]
    >>> r = fit_affine(works, raters, [5, 6, 7, 3, 6, 9, 6, 6], robust=False)
    >>> bool(r.raters.scale[1] > r.raters.scale[0])
    True
    """
    panel = build_panel(work_ids, rater_ids, scores, confidence=confidence, categories=categories, works=works)
    return fit_affine_panel(panel, ridge=ridge, scale_prior_sd=scale_prior_sd, robust=robust, huber_c=huber_c,
                            redescending=redescending, biweight_c=biweight_c, max_iter=max_iter, tol=tol,
                            accelerator=accelerator, shrink_works=shrink_works, wild_ends=wild_ends,
                            posterior=posterior)


def fit_affine_panel(
    panel: Panel, *, ridge: float | None = None, scale_prior_sd: float | None = None, robust: bool = True,
    huber_c: float = HUBER_C, redescending: str | None = "mixture", biweight_c: float = BIWEIGHT_C,
    max_iter: int = 50, tol: float = 1e-4, accelerator: str = "squarem", shrink_works: bool = True,
    wild_ends=None, posterior: str | None = None,
) -> NormalizationResult:
    """:func:`fit_affine` on a panel already built (the options are checked here)."""
    if wild_ends is not None and wild_ends is not False:
        try:
            low, high = (float(v) for v in wild_ends)
        except (TypeError, ValueError):
            raise ValueError(f"wild_ends must be (low, high), False or None, got {wild_ends!r}") from None
        if not low < high:
            raise ValueError(f"wild_ends must satisfy low < high, got ({low}, {high})")
        wild_ends = (low, high)
    if posterior not in POSTERIORS:
        raise ValueError(f"posterior must be one of {', '.join(map(str, POSTERIORS))}, got {posterior!r}")
    options = dict(ridge=ridge, scale_prior_sd=scale_prior_sd, robust=robust, huber_c=huber_c,
                   redescending=redescending, biweight_c=biweight_c, max_iter=max_iter, tol=tol,
                   shrink_works=shrink_works, wild_ends=wild_ends, posterior_method=posterior)
    result = _fit_affine(panel, accelerator=accelerator, **options)
    if not result.converged and accelerator == "anderson":
        # Anderson steps can cycle on small, contaminated panels, and where an unconverged fit
        # stops depends on round-off (so on row order); SQUAREM's monotone cycles converge there
        # (where even SQUAREM stops early, its path does not depend on row order)
        fallback = _fit_affine(panel, accelerator="squarem", **options)
        fallback.notes.append("affine: Anderson acceleration did not converge; fitted with SQUAREM")
        return fallback
    return result
