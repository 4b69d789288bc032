"""The pieces of the affine fit (:func:`scoring.affine.fit_affine`), each a small named function.

The fit is a sequence of *phases*. A phase is the accelerated fixed point of a *sweep*:
given the raters' log-slopes, solve the model's linear part (work scores theta and severities
c) exactly, re-weigh every rating by a robust loss of its residual, and regress each rater's
ratings on the new work scores for the next slopes. The default fit runs two phases: Huber
weights, then the contamination mixture's (:mod:`scoring.wild`). What the phases share (the
panel, the solver built once, the centre m) is an :class:`AffineProblem`; what they change
(the robust weights, the sweep count, the last work scores) is a :class:`FitState`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from scoring.accelerate import anderson, squarem
from scoring.affine_newton import INNER as NEWTON_INNER
from scoring.affine_newton import PairBlocks, newton_fixed_point, robust_weights
from scoring.affine_solver import PairPatternSolver
from scoring.diagnostics import robust_sigma
from scoring.models_additive import _additive_core, _AdditiveFit
from scoring.panel import Panel
from scoring.priors import RaterPrior, moment_prior
from scoring.wild import WildMixture

__all__ = ["AffineProblem", "FitState", "setup", "estimate_prior", "studentized", "slopes_from", "normalized",
           "Phase", "run_phase", "residuals", "huber_scale", "mixture_weights", "REJECT_FLOOR"]

REJECT_FLOOR = 1e-8  # weight of a rejected rating, so a work whose ratings are all rejected stays solvable

#: A robust reweighting: (studentized residuals, their per-rating factor) -> weights
Reweight = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass
class AffineProblem:
    """The panel, the robust additive start and the constants every phase shares."""

    panel: Panel
    start: _AdditiveFit
    solver: PairPatternSolver
    centre: float  # m: the confidence-weighted mean score, where severities are measured
    spread: float  # sd of the scores (1 when they do not vary): the unit of tolerances and floors
    n_params: int
    floor_c: float
    floor_a: float = 0.02

    @property
    def connectivity(self):
        """Connected components of the rater-work graph (from the solver)."""
        return self.solver.connectivity


@dataclass
class FitState:
    """What the phases change: the robust weights, the sweeps so far, the last work scores."""

    weight: np.ndarray
    evals: int = 0
    fallback: int = 0  # phases Newton handed to the sweeps
    theta: np.ndarray | None = None
    mixture_share: float | None = None  # the mixture's share of wild ratings, once estimated


def setup(panel: Panel, *, robust: bool, huber_c: float) -> tuple[AffineProblem, FitState]:
    """The robust additive start, its solver (reused by every sweep) and the fit's constants."""
    # the robust additive fit without its standard errors and diagnostics, which the start does
    # not need (nor its last solve, at the final weights, for them: every phase solves before it
    # reads the solver); every solve (the start's and the sweeps') has the same pattern, so its Schur
    # matrix is summed over a rater-pair list built once (scoring/affine_solver.py)
    start = _additive_core(panel, ridge=0.0, robust=robust, huber_c=huber_c, solver=PairPatternSolver(panel, 0.0),
                           for_errors=False)
    y, conf = panel.score, panel.weight
    spread = float(np.std(y)) or 1.0
    # the model is centred on the panel: y - m = a (theta - m) + c, so c is a rater's severity
    # at a typical work and a prior on c does not depend on where the scale starts
    m = float(np.sum(conf * y) / np.sum(conf))
    problem = AffineProblem(panel, start, start.solver, m, spread, panel.n_works + 2 * panel.n_raters - 2,
                            0.02 * spread)
    state = FitState(start.huber.copy() if robust else np.ones(panel.n_ratings))
    return problem, state


def estimate_prior(problem: AffineProblem, theta: np.ndarray, weight: np.ndarray, sigma: float, *,
                   ridge: float | None, scale_prior_sd: float | None) -> RaterPrior:
    """The raters' prior sds: estimated from the panel (Morris 1983) unless ``ridge`` and ``scale_prior_sd`` fix them."""
    p, m = problem.panel, problem.centre
    if ridge is None or scale_prior_sd is None:
        est = moment_prior(p.score - m, theta[p.work] - m, weight, p.rater, p.work, p.n_raters, p.n_works, sigma,
                           problem.floor_c, problem.floor_a)
    else:
        est = RaterPrior(np.inf, np.inf)
    c_sd = est.severity_sd if ridge is None else (sigma / np.sqrt(ridge) if ridge > 0 else np.inf)
    a_sd = est.scale_sd if scale_prior_sd is None else scale_prior_sd
    return RaterPrior(float(c_sd), float(a_sd))


def studentized(problem: AffineProblem, resid, a: np.ndarray, weight: np.ndarray, sigma: float,
                solved: bool = False) -> np.ndarray:
    """Residuals over their sd sigma sqrt(1 - h): a rating pulls its own work's score toward it
    by its share h of the work's weight, which hides a wild rating most on works with few ratings.

    ``solved``: the solver's last solve had exactly these weights and slopes (p.weight * weight, a),
    so its per-rating weights conf * weight * a^2 and their work totals are taken from it.
    """
    p = problem.panel
    conf = p.weight
    if solved:
        solver = problem.solver
        h = solver.work_weight / solver.work_total[p.work]
    else:
        wa2 = conf * weight * a * a
        h = wa2 / np.bincount(p.work, wa2, minlength=p.n_works)[p.work]
    return resid * np.sqrt(conf) / (sigma * np.sqrt(np.maximum(1.0 - h, 0.05)))


def slopes_from(problem: AffineProblem, theta: np.ndarray, weight: np.ndarray, lam_c: float,
                lam_a: float, x: np.ndarray | None = None) -> np.ndarray:
    """Log-slopes of each rater's ridge regression of y - m on theta - m (a -> 1, c -> 0).

    ``x``: theta - m at each rating, when the caller has it already.
    """
    p, m = problem.panel, problem.centre
    r_idx, n_r = p.rater, p.n_raters
    x = theta[p.work] - m if x is None else x
    yc = p.score - m
    wx = weight * x
    sw = np.bincount(r_idx, weight, minlength=n_r) + lam_c
    sx = np.bincount(r_idx, wx, minlength=n_r)
    sxx = np.bincount(r_idx, wx * x, minlength=n_r) + lam_a
    sy = np.bincount(r_idx, weight * yc, minlength=n_r)
    sxy = np.bincount(r_idx, wx * yc, minlength=n_r) + lam_a
    # a non-positive slope would invert a rater's ranking: keep the scale use positive
    den = sxx * sw - sx * sx
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(den > 0, (sxy * sw - sx * sy) / den, 1.0)  # no spread seen: slope 1
    return np.log(np.maximum(ratio, 0.05))


def normalized(problem: AffineProblem, log_a: np.ndarray) -> np.ndarray:
    """The free affine map per component removed: the slopes' geometric mean is 1 in each."""
    conn = problem.connectivity
    comp = conn.rater_component
    comp_n = np.bincount(comp, minlength=conn.n_components)
    return log_a - (np.bincount(comp, log_a, minlength=conn.n_components) / comp_n)[comp]


@dataclass
class Phase:
    """One phase's sweep and, for Newton steps, its reweighting with derivatives."""

    problem: AffineProblem
    state: FitState
    sigma: float
    reweight: Reweight
    robust: bool
    studentize: bool
    lam_c: float
    lam_a: float

    def per_rating(self, a: np.ndarray, weight: np.ndarray, solved: bool = False) -> np.ndarray:
        """The factor that turns a residual into the residual the robust loss reads (``solved``: see
        :func:`studentized`)."""
        if self.studentize:
            return studentized(self.problem, 1.0, a, weight, self.sigma, solved=solved)
        return np.sqrt(self.problem.panel.weight) / self.sigma

    def sweep(self, log_a: np.ndarray):
        """Slopes -> exact (theta, c) -> robust weights -> next log-slopes (and theta, c, slopes)."""
        problem, state = self.problem, self.state
        p, m = problem.panel, problem.centre
        state.evals += 1
        slope = np.exp(normalized(problem, np.clip(log_a, -5, 5)))
        a = slope[p.rater]
        th, c = problem.solver.solve(p.weight * state.weight, p.score - m * (1 - a), slope=a)
        x = th[p.work] - m
        if self.robust:
            resid = p.score - m - a * x - c[p.rater]
            # the solve above had these weights and slopes: its work totals give the leverages
            per = self.per_rating(a, state.weight, solved=True)
            state.weight = self.reweight(resid * per, per)
        log_a = slopes_from(problem, th, p.weight * state.weight, self.lam_c, self.lam_a, x=x)
        return normalized(problem, log_a), th, c, slope

    def reweigh(self, resid, a, weight_prev, derivative=True):
        """The sweep's robust weights of these residuals and, for Newton, d(weight * resid)/d resid."""
        if not self.robust:
            return np.ones_like(resid), np.ones_like(resid)
        p = self.problem.panel
        per = self.per_rating(a, weight_prev)
        wa2 = p.weight * weight_prev * a * a
        lev = wa2 / np.bincount(p.work, wa2, minlength=p.n_works)[p.work] if self.studentize and derivative else None
        return robust_weights(self.reweight, resid, per, leverage=lev, weight_prev=weight_prev, derivative=derivative)


def _newton(phase: Phase, x0: np.ndarray, *, blocks: PairBlocks, tol: float, max_iter: int):
    """Newton steps on the joint (theta, c, a) equations (scoring/affine_newton.py), from the exact
    (theta, c) solve at these slopes. Returns (theta, c, slope) when converged, else (None, log-slopes)."""
    problem, state = phase.problem, phase.state
    p, m, conn = problem.panel, problem.centre, problem.connectivity
    a = np.exp(x0)[p.rater]
    th, c = problem.solver.solve(p.weight * state.weight, p.score - m * (1 - a), slope=a)
    state.evals += 1
    out = newton_fixed_point(blocks, p.work, p.rater, p.score - m, p.weight, conn.rater_component,
                             conn.n_components, theta=th, c=c, log_a=x0, weight=state.weight, reweigh=phase.reweigh,
                             lam_c=phase.lam_c, lam_a=phase.lam_a, m=m, spread=problem.spread, tol=tol,
                             max_iter=max_iter, inner=NEWTON_INNER if phase.studentize else 1)
    state.evals += out.steps
    state.weight = out.weight
    if out.converged:
        state.theta = out.theta
        return (out.theta, out.c, np.exp(out.log_a)), None
    # a slope at the sweeps' floor, or no convergence: the sweeps go on from where Newton stopped
    state.fallback += 1
    return None, out.log_a


def run_phase(problem: AffineProblem, state: FitState, prior: RaterPrior, sigma: float, reweight: Reweight,
              log_a0: np.ndarray | None, tol: float, *, robust: bool, accelerator: str, max_iter: int,
              blocks: PairBlocks | None, studentize: bool = False):
    """Accelerated fixed point of the sweep; returns (theta, c, slopes, converged)."""
    lam_c = sigma**2 / prior.severity_sd**2
    lam_a = sigma**2 / prior.scale_sd**2
    problem.solver.ridge = lam_c
    phase = Phase(problem, state, sigma, reweight, robust, studentize, lam_c, lam_a)
    theta = state.theta if state.theta is not None else problem.start.theta
    p = problem.panel
    x0 = normalized(problem, log_a0 if log_a0 is not None else
                    slopes_from(problem, theta, p.weight * state.weight, lam_c, lam_a))
    if accelerator == "newton" and blocks.available:
        done, x_left = _newton(phase, x0, blocks=blocks, tol=tol, max_iter=max_iter)
        if done is not None:
            return (*done, True)
        x0 = x_left
    accelerate = squarem if accelerator in ("squarem", "newton") else anderson
    theta, c, slope, converged = accelerate(phase.sweep, x0, theta, max_iter=max_iter, threshold=tol * problem.spread)
    state.theta = theta
    return theta, c, slope, converged


def residuals(problem: AffineProblem, theta: np.ndarray, c: np.ndarray, slope: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each rating's residual y - m - a (theta - m) - c, and its rater's slope."""
    p, m = problem.panel, problem.centre
    a = slope[p.rater]
    return p.score - m - a * (theta[p.work] - m) - c[p.rater], a


def huber_scale(problem: AffineProblem, state: FitState, theta, c, slope, *, studentize: bool) -> float:
    """The robust residual scale after the Huber phase: MAD of the studentized residuals."""
    resid, a = residuals(problem, theta, c, slope)
    if studentize:
        z1 = studentized(problem, resid, a, state.weight, 1.0)
        sigma = 1.4826 * float(np.median(np.abs(z1)))
        if not sigma > 0:  # a perfect fit: keep every division defined
            sigma = robust_sigma(resid, problem.panel.weight, problem.n_params)
        return sigma
    return robust_sigma(resid, problem.panel.weight, problem.n_params)


def mixture_weights(problem: AffineProblem, state: FitState, theta, c, slope, sigma: float, wild_ends) -> Reweight:
    """The contamination mixture's weights, its shares estimated by EM on the Huber residuals.

    A rating is genuine, N(fitted, sigma^2) (censored at the scale's ends), or wild, uniform over
    the range or a tap at one of the ends; the shares are then held fixed, so each sweep is a
    function of the slopes alone, and a rating's weight is its posterior probability of being
    genuine (scoring/wild.py).
    """
    resid, a = residuals(problem, theta, c, slope)
    per1 = studentized(problem, 1.0, a, state.weight, sigma)
    p = problem.panel
    mix = WildMixture.from_scores(p.score, p.weight, sigma, ends=wild_ends)
    mix.estimate(resid, per1)
    state.mixture_share = mix.pi

    def posterior(z, per):
        return np.maximum(mix.genuine(z, per), REJECT_FLOOR)

    return posterior
