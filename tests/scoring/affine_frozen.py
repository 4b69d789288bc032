"""A frozen copy of ``scoring.affine._fit_affine`` as it was before issue 20 split it into named functions.

Kept only for tests/scoring/test_affine_refactor.py, which checks that the refactored fit gives
the same estimates bit for bit. It calls the same helpers as the product code (the additive
start, the solvers, the accelerators, the mixture), so it tests the fit's own logic: the
phases, the priors, the robust weights, the report. Do not edit: delete it together with that
test once nobody needs the comparison.
"""

from __future__ import annotations

import numpy as np

from scoring.accelerate import anderson, squarem
from scoring.affine_newton import INNER as NEWTON_INNER
from scoring.affine_newton import PairBlocks, newton_fixed_point, robust_weights
from scoring.affine_solver import PairPatternSolver
from scoring.diagnostics import NormalizationResult, finish, robust_sigma
from scoring.models_additive import HUBER_C, _additive_core, huber_weights
from scoring.panel import Panel
from scoring.posterior import work_scores
from scoring.priors import RaterPrior, moment_prior, shrink_within_groups
from scoring.wild import BIWEIGHT_C, WildMixture, biweight_weights

ACCELERATORS = ("anderson", "newton", "squarem")
STUDENTIZE = True
REDESCENDING = ("mixture", "biweight", None)
REJECT_FLOOR = 1e-8


def _fit_affine(
    panel: Panel, *, ridge: float | None = None, scale_prior_sd: float | None = None, robust: bool = True,
    huber_c: float = HUBER_C, redescending: str | None = "mixture", biweight_c: float = BIWEIGHT_C,
    max_iter: int = 50, tol: float = 1e-4, accelerator: str = "squarem", shrink_works: bool = True,
    wild_ends=None, posterior_method: str | None = None,
) -> NormalizationResult:
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
    # the robust additive fit without its standard errors and diagnostics, which the start does
    # not need; every solve (the start's and the sweeps') has the same pattern, so its Schur
    # matrix is summed over a rater-pair list built once (scoring/affine_solver.py)
    start = _additive_core(panel, ridge=0.0, robust=robust, huber_c=huber_c, solver=PairPatternSolver(panel, 0.0))
    solver = start.solver
    conn = solver.connectivity
    w_idx, r_idx, y, conf = panel.work, panel.rater, panel.score, panel.weight
    n_w, n_r = panel.n_works, panel.n_raters
    n_params = n_w + 2 * n_r - 2
    spread = float(np.std(y)) or 1.0
    # the model is centred on the panel: y - m = a (theta - m) + c, so c is a rater's severity
    # at a typical work and a prior on c does not depend on where the scale starts
    m = float(np.sum(conf * y) / np.sum(conf))
    sigma = start.sigma if np.isfinite(start.sigma) and start.sigma > 0 else spread
    comp, work_comp = conn.rater_component, conn.work_component
    comp_n = np.bincount(comp, minlength=conn.n_components)
    estimate_prior = ridge is None or scale_prior_sd is None
    floor_c, floor_a = 0.02 * spread, 0.02

    def prior_now(theta_now, weight, sigma_now) -> RaterPrior:
        est = (moment_prior(y - m, theta_now[w_idx] - m, weight, r_idx, w_idx, n_r, n_w, sigma_now,
                             floor_c, floor_a)
               if estimate_prior else RaterPrior(np.inf, np.inf))
        c_sd = est.severity_sd if ridge is None else (sigma_now / np.sqrt(ridge) if ridge > 0 else np.inf)
        a_sd = est.scale_sd if scale_prior_sd is None else scale_prior_sd
        return RaterPrior(float(c_sd), float(a_sd))

    state = {"weight": start.huber.copy() if robust else np.ones(panel.n_ratings), "evals": 0, "fallback": 0}
    blocks = PairBlocks(w_idx, r_idx, n_w, n_r) if accelerator == "newton" else None

    def studentized(resid, a, weight, sigma_now):
        """Residuals over their sd sigma sqrt(1 - h): a rating pulls its own work's score toward it
        by its share h of the work's weight, which hides a wild rating most on works with few ratings."""
        wa2 = conf * weight * a * a
        h = wa2 / np.bincount(w_idx, wa2, minlength=n_w)[w_idx]
        return resid * np.sqrt(conf) / (sigma_now * np.sqrt(np.maximum(1.0 - h, 0.05)))

    def run(prior: RaterPrior, sigma_now: float, reweight, log_a0: np.ndarray, tol_now: float, studentize=False):
        """Accelerated fixed point of: slopes -> exact (theta, c) -> robust weights -> slopes."""
        lam_c = sigma_now**2 / prior.severity_sd**2
        lam_a = sigma_now**2 / prior.scale_sd**2
        solver.ridge = lam_c

        def slopes_from(theta_now, weight):
            """Log-slopes of each rater's ridge regression of y - m on theta - m (a -> 1, c -> 0)."""
            x = theta_now[w_idx] - m
            yc = y - m
            sw = np.bincount(r_idx, weight, minlength=n_r) + lam_c
            sx = np.bincount(r_idx, weight * x, minlength=n_r)
            sxx = np.bincount(r_idx, weight * x * x, minlength=n_r) + lam_a
            sy = np.bincount(r_idx, weight * yc, minlength=n_r)
            sxy = np.bincount(r_idx, weight * x * yc, minlength=n_r) + lam_a
            # a non-positive slope would invert a rater's ranking: keep the scale use positive
            den = sxx * sw - sx * sx
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(den > 0, (sxy * sw - sx * sy) / den, 1.0)  # no spread seen: slope 1
            return np.log(np.maximum(ratio, 0.05))

        def normalized(log_a):
            # the free affine map per component: geometric-mean slope 1
            return log_a - (np.bincount(comp, log_a, minlength=conn.n_components) / comp_n)[comp]

        def sweep(log_a):
            state["evals"] += 1
            slope = np.exp(normalized(np.clip(log_a, -5, 5)))
            a = slope[r_idx]
            th, c = solver.solve(conf * state["weight"], y - m * (1 - a), slope=a)
            if robust:
                resid = y - m - a * (th[w_idx] - m) - c[r_idx]
                per = (studentized(1.0, a, state["weight"], sigma_now) if studentize
                       else np.sqrt(conf) / sigma_now)
                state["weight"] = reweight(resid * per, per)
            return normalized(slopes_from(th, conf * state["weight"])), th, c, slope

        def reweigh(resid, a, weight_prev, derivative=True):
            """The sweep's robust weights of these residuals and, for Newton, d(weight * resid)/d resid."""
            if not robust:
                return np.ones_like(resid), np.ones_like(resid)
            per = studentized(1.0, a, weight_prev, sigma_now) if studentize else np.sqrt(conf) / sigma_now
            wa2 = conf * weight_prev * a * a
            lev = wa2 / np.bincount(w_idx, wa2, minlength=n_w)[w_idx] if studentize and derivative else None
            return robust_weights(reweight, resid, per, leverage=lev, weight_prev=weight_prev, derivative=derivative)

        theta = state.get("theta", start.theta)
        x0 = normalized(log_a0 if log_a0 is not None else slopes_from(theta, conf * state["weight"]))
        if accelerator == "newton" and blocks.available:
            # Newton steps on the joint (theta, c, a) equations of the sweeps' fixed point
            # (scoring/affine_newton.py), from the exact (theta, c) solve at these slopes
            a = np.exp(x0)[r_idx]
            th, c = solver.solve(conf * state["weight"], y - m * (1 - a), slope=a)
            state["evals"] += 1
            out = newton_fixed_point(blocks, w_idx, r_idx, y - m, conf, comp, conn.n_components, theta=th, c=c,
                                     log_a=x0, weight=state["weight"], reweigh=reweigh, lam_c=lam_c, lam_a=lam_a,
                                     m=m, spread=spread, tol=tol_now, max_iter=max_iter,
                                     inner=NEWTON_INNER if studentize else 1)
            state["evals"] += out.steps
            state["weight"] = out.weight
            if out.converged:
                state["theta"] = out.theta
                return out.theta, out.c, np.exp(out.log_a), True
            # a slope at the sweeps' floor, or no convergence: the sweeps go on from where Newton stopped
            state["fallback"] += 1
            x0 = out.log_a
        if accelerator in ("squarem", "newton"):
            theta, c, slope, converged = squarem(sweep, x0, theta, max_iter=max_iter, threshold=tol_now * spread)
        else:
            theta, c, slope, converged = anderson(sweep, x0, theta, max_iter=max_iter, threshold=tol_now * spread)
        state["theta"] = theta
        return theta, c, slope, converged

    # 1) Huber loss, priors estimated at the additive start
    prior = prior_now(start.theta, conf * state["weight"], sigma)
    theta, c, slope, converged = run(prior, sigma, lambda z, _: huber_weights(z, huber_c), None,
                                     tol if redescending is None or not robust else 10 * tol)
    if robust:
        a = slope[r_idx]
        resid = y - m - a * (theta[w_idx] - m) - c[r_idx]
        if STUDENTIZE:
            z1 = studentized(resid, a, state["weight"], 1.0)
            sigma = 1.4826 * float(np.median(np.abs(z1)))
            if not sigma > 0:  # a perfect fit: keep every division defined
                sigma = robust_sigma(resid, conf, n_params)
        else:
            sigma = robust_sigma(resid, conf, n_params)
    if estimate_prior:
        prior = prior_now(theta, conf * state["weight"], sigma)
    if robust and redescending == "mixture":
        # 2) a mixture: a rating is genuine, N(fitted, sigma^2) (censored at the scale's ends), or
        # wild, uniform over the range or a tap at one of the ends, with shares estimated by EM on
        # the Huber residuals and then held fixed, so each sweep is a function of the slopes alone;
        # its weight is the posterior probability that it is genuine (scoring/wild.py)
        a = slope[r_idx]
        per1 = studentized(1.0, a, state["weight"], sigma)
        mix = WildMixture.from_scores(y, conf, sigma, ends=wild_ends)
        mix.estimate(y - m - a * (theta[w_idx] - m) - c[r_idx], per1)
        state["pi"] = mix.pi

        def posterior(z, per):
            return np.maximum(mix.genuine(z, per), REJECT_FLOOR)

        theta, c, slope, converged = run(prior, sigma, posterior, np.log(slope), tol, studentize=STUDENTIZE)
    elif robust and redescending == "biweight":
        # 2) Tukey's biweight from the Huber solution: a rating beyond biweight_c robust sd counts for nothing
        theta, c, slope, converged = run(prior, sigma, lambda z, _: np.maximum(biweight_weights(z, biweight_c), REJECT_FLOOR),
                                         np.log(slope), tol, studentize=STUDENTIZE)
    elif estimate_prior:
        theta, c, slope, converged = run(prior, sigma, lambda z, _: huber_weights(z, huber_c), np.log(slope), tol)
    weight = state["weight"]
    # report on the convention "mean severity 0 per component": theta - beta, c + a * beta fit the same
    beta = -(np.bincount(comp, c, minlength=conn.n_components) / np.bincount(comp, slope, minlength=conn.n_components))
    theta = theta - beta[work_comp]
    c = c + slope * beta[comp]
    fitted = m + slope[r_idx] * (theta[w_idx] - m) + c[r_idx]
    resid = y - fitted
    w = conf * weight
    # rejected ratings carry no information: the residual degrees of freedom count the weights
    dof = (float(np.sum(np.minimum(weight / np.max(weight), 1.0))) if robust and redescending else panel.n_ratings) - n_params
    if dof > 0:
        sigma2 = float(np.sum(w * resid**2) / dof)
        if robust and redescending:
            # the weighted residuals understate the noise of the genuine ratings (their weights
            # fall with their residuals): use the robust scale of the mixture when it is larger
            sigma2 = max(sigma2, sigma**2)
        solver.solve(w, y - m * (1 - slope[r_idx]), slope=slope[r_idx])
        se = np.sqrt(sigma2 * solver.theta_variance())
        sigma_diag = robust_sigma(resid, conf, n_params) if robust else np.sqrt(sigma2)
    else:
        se = np.full(n_w, np.nan)
        sigma_diag = float("nan")
    if robust and redescending == "mixture":
        rejected = weight < 0.5
    elif robust and redescending == "biweight":
        rejected = weight <= REJECT_FLOOR
    else:
        rejected = np.zeros(panel.n_ratings, dtype=bool)
    shrunk_note = None
    unshrunk = (theta, se)
    if shrink_works and np.all(np.isfinite(se)):
        # posterior means over the raters' effects (scoring/posterior.py), or the plug-in shrinkage
        theta, se, _, shrunk_note = work_scores(panel, theta, se, w / sigma2, method=posterior_method, centre=m,
                                                severity_sd=prior.severity_sd, scale_sd=prior.scale_sd,
                                                component=work_comp, shrink=shrink_within_groups)
    res = finish(
        "affine", panel, theta, se, fitted, c, slope, sigma_diag,
        robust_weight=np.where(rejected, 0.0, weight), connectivity=conn, iterations=state["evals"],
        converged=converged, rejected=rejected,
    )
    res.prior = {"severity_sd": prior.severity_sd, "scale_sd": prior.scale_sd, "centre": m}
    if rejected.any():
        res.notes.append(f"affine: {int(rejected.sum())} rating(s) rejected as wild ({redescending}: "
                         "they count for (almost) nothing)")
    if shrunk_note:
        res.notes.append(shrunk_note)
        res.unshrunk_score, res.unshrunk_se = unshrunk
    if state["fallback"]:
        res.notes.append("affine: Newton steps did not converge in a phase; SQUAREM sweeps finished it")
    if not converged:
        res.notes.append(f"affine: stopped after {state['evals']} sweeps before converging")
    return res
