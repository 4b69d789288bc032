"""The ``additive`` model y = mu + q_work + b_rater + e, robust and confidence-weighted.

The normal equations of the two-way model have a block structure: the work block is
diagonal. Eliminating the work effects (a Schur complement onto the rater effects) leaves
a small ``n_raters x n_raters`` system, solved by Cholesky. One fit of a million ratings
takes a fraction of a second, so Huber re-weighting (IRLS) is affordable.

Without a ridge the Schur matrix is singular: adding a constant to every rater of a
connected component and removing it from its works changes no fitted value. That level is
pinned by "the raters' biases average zero in each component": the null direction is
deflated (a rank-one term per component, which leaves the solution unchanged because the
right-hand side is orthogonal to it), so the system is positive definite and the standard
errors describe each work relative to its component's level, the part that ranking uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, sparse
from scipy.sparse import linalg as splinalg

from scoring.diagnostics import NormalizationResult, finish, robust_sigma
from scoring.graph import components_from_codes
from scoring.panel import Panel, build_panel

__all__ = ["fit_additive", "AdditiveSolver", "huber_weights", "HUBER_C"]

HUBER_C = 1.5  # about 96% efficiency under normal errors (Huber 1964); chosen in docs/scoring.md
DENSE_RATERS_MAX = 4000


def huber_weights(standardized: np.ndarray, c: float = HUBER_C) -> np.ndarray:
    """Huber IRLS weights ``min(1, c / |z|)`` for standardized residuals ``z``."""
    a = np.abs(standardized)
    return np.minimum(1.0, c / np.maximum(a, 1e-300))


def deflated_cholesky(schur, db, null, null_norm2, comp, n_comp: int, ridge: float, *, overwrite: bool = False):
    """Cholesky factor (lower) of the dense rater Schur matrix with its null direction deflated.

    Adds alpha z z' / |z|^2 within each component (z the null direction ``null``; z' rhs = 0,
    so the solution is unchanged) and returns ``(factor, level_var)``, the level's variance
    per component being 1 / ((ridge + alpha) |z|^2). ``schur`` is modified in place.
    """
    alpha = float(np.mean(db)) or 1.0
    zn = null / np.sqrt(null_norm2[comp])
    if n_comp == 1:
        schur += alpha * np.outer(zn, zn)
    else:
        schur += alpha * np.outer(zn, zn) * (comp[:, None] == comp[None, :])
    factor = linalg.cho_factor(schur, lower=True, check_finite=False, overwrite_a=overwrite)
    return factor, 1.0 / ((ridge + alpha) * null_norm2)


@dataclass
class AdditiveSolver:
    """Weighted (ridge) least squares for y = theta_work + b_rater + e on a fixed panel.

    ``theta_work = mu + q_work`` is the work's score as the typical rater would give it.
    The structure (which rater rated which work) is built once; :meth:`solve` only
    re-accumulates weights, so IRLS iterations are cheap. ``ridge`` may be 0: the level of
    each connected component is then pinned by deflation (see the module docstring).
    After a :meth:`solve`, ``work_weight`` holds each rating's weight times its slope squared
    (its part of its work's total) and ``work_total`` each work's total, for that solve.
    """

    panel: Panel
    ridge: float

    def __post_init__(self) -> None:
        p = self.panel
        self._order = np.argsort(p.work, kind="stable")
        indptr = np.concatenate(([0], np.cumsum(p.ratings_per_work())))
        self._indptr = indptr
        self._counts = np.diff(indptr)
        self._indices = p.rater[self._order]
        self._transposed = None  # (order, indptr, indices) of C', built by the first generic solve
        self.connectivity = conn = components_from_codes(p.work, p.rater, p.n_works, p.n_raters)
        self._rater_comp, self._work_comp = conn.rater_component, conn.work_component
        self._n_comp = conn.n_components

    def solve(self, weight: np.ndarray, y: np.ndarray | None = None,
              slope: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(theta, bias)`` minimizing sum w (y - s * theta - b)^2 + ridge * sum b^2.

        ``y`` defaults to the panel's scores (a working response may be passed instead);
        ``slope`` (per rating, default 1) lets the affine model reuse the same solver.
        """
        p = self.panel
        y = p.score if y is None else y
        wa = weight if slope is None else weight * slope
        # each rating's weight in its work's total (the affine fit's leverages read it, and dq)
        self.work_weight = wa if slope is None else wa * slope
        dq = np.bincount(p.work, self.work_weight, minlength=p.n_works)
        sq = np.bincount(p.work, wa * y, minlength=p.n_works)
        db = np.bincount(p.rater, weight, minlength=p.n_raters)
        sb = np.bincount(p.rater, weight * y, minlength=p.n_raters)
        self._ordered_weight = wa[self._order]  # the values of C (work order), for theta_variance
        self.work_total = dq
        c = sparse.csr_matrix((self._ordered_weight, self._indices, self._indptr), shape=(p.n_works, p.n_raters))
        # D^-1 C by scaling the stored values row by row (a sparse product would cost as much as C'C)
        u = sparse.csr_matrix(
            (c.data * np.repeat(1.0 / dq, self._counts), self._indices, self._indptr), shape=c.shape
        )
        if self._transposed is None:
            # the transposed pattern (raters x works), so C' is built directly in CSR form
            order_t = np.argsort(p.rater, kind="stable")
            self._transposed = (order_t, np.concatenate(([0], np.cumsum(p.ratings_per_rater()))), p.work[order_t])
        order_t, indptr_t, indices_t = self._transposed
        ct = sparse.csr_matrix((wa[order_t], indices_t, indptr_t), shape=(p.n_raters, p.n_works))
        schur = (ct @ u).toarray() if p.n_raters <= DENSE_RATERS_MAX else (ct @ u)
        rhs = sb - ct @ (sq / dq)
        # the null direction of the unpenalized Schur matrix: each rater's slope, per component
        null = np.ones(p.n_raters)
        if slope is not None:
            null[p.rater] = slope
        null_norm2 = np.bincount(self._rater_comp, null * null, minlength=self._n_comp)
        comp = self._rater_comp
        if p.n_raters <= DENSE_RATERS_MAX:
            schur = np.diag(db + self.ridge) - schur
            self._factor, self._level_var = deflated_cholesky(schur, db, null, null_norm2, comp, self._n_comp,
                                                              self.ridge)
            bias = linalg.cho_solve(self._factor, rhs, check_finite=False)
        else:
            # many raters: a dense rank-one term per component would fill the sparse factor, so
            # a tiny ridge pins the level instead and the null component is projected out below
            pin = max(self.ridge, 1e-7 * (float(np.mean(db)) or 1.0))
            schur = (sparse.diags(db + pin) - schur).tocsc()
            self._level_var = 1.0 / (pin * null_norm2)
            self._factor = splinalg.splu(schur)
            bias = self._factor.solve(rhs)
        # remove round-off along the null direction: biases (slope-weighted) average zero per component
        drift = np.bincount(comp, null * bias, minlength=self._n_comp) / null_norm2
        bias = bias - drift[comp] * null
        theta = (sq - c @ bias) / dq
        return theta, bias

    def theta_variance(self) -> np.ndarray:
        """Diagonal of the work block of the covariance for the last :meth:`solve`, with each
        component's level held fixed (biases averaging zero).

        Block inversion: var(theta_w) = 1/dq_w + u_w' S^-1 u_w with u_w = c_w / dq_w, where
        c_w holds the weights of work w's ratings by rater. Only the few raters of each work
        enter, so the quadratic form gathers a k x k block of S^-1 per work. ``u_w . z = 1``
        for the null direction z, so taking the level out subtracts the same
        1 / ((ridge + alpha) |z|^2) from every work of a component; with a ridge this is
        (X'WX + ridge)^-1 under the constraint, i.e. without the uncertainty of the level.
        """
        p = self.panel
        dq = self.work_total
        out = 1.0 / dq
        ordered_w = self._ordered_weight
        counts = np.diff(self._indptr)
        if isinstance(self._factor, tuple):
            s_inv = linalg.cho_solve(self._factor, np.eye(p.n_raters), check_finite=False)
        else:
            s_inv = None
        for m in np.unique(counts):
            works = np.flatnonzero(counts == m)
            step = max(1, 2_000_000 // (m * m))
            for start in range(0, len(works), step):
                ws = works[start:start + step]
                pos = self._indptr[ws][:, None] + np.arange(m)[None, :]
                raters = self._indices[pos]
                u = ordered_w[pos] / dq[ws][:, None]
                if s_inv is not None:
                    block = s_inv[raters[:, :, None], raters[:, None, :]]
                    out[ws] += np.einsum("ni,nij,nj->n", u, block, u)
                else:
                    for row, (r, uu) in enumerate(zip(raters, u)):
                        rhs = np.zeros(p.n_raters)
                        rhs[r] = uu
                        out[ws[row]] += float(uu @ self._factor.solve(rhs)[r])
        return out - self._level_var[self._work_comp]


def _huber_objective(resid, conf, sigma, bias, ridge, c=HUBER_C):
    z = np.abs(resid) / sigma
    rho = np.where(z <= c, 0.5 * z**2, c * z - 0.5 * c * c)
    return float(np.sum(conf * rho) * sigma**2 + 0.5 * ridge * np.sum(bias**2))


_NEWTON_FLOOR = 1e-3


def _huber_newton(solver, theta, bias, *, ridge, n_params, max_iter, tol, c=HUBER_C, refactor: bool = True):
    """Minimize the Huber objective by semismooth Newton steps with backtracking.

    The Huber loss is piecewise quadratic, so after one IRLS step, Newton steps whose Hessian
    counts only the ratings inside the quadratic zone reach the optimum in a handful of
    solves (plain IRLS takes tens). Ratings outside the zone keep a tiny Hessian weight so every work stays solvable.
    The scale is the MAD of the least-squares residuals, held fixed. ``refactor``: end with a
    solve at the solution's IRLS weights, whose factor the standard errors read.
    """
    panel = solver.panel
    y, conf = panel.score, panel.weight
    resid = y - theta[panel.work] - bias[panel.rater]
    sigma = robust_sigma(resid, conf, n_params)
    floor = _NEWTON_FLOOR
    # one IRLS step first: a descent step that discounts the wildest ratings at once, so the
    # Newton steps start near the optimum and need no backtracking
    theta, bias = solver.solve(conf * huber_weights(resid * np.sqrt(conf) / sigma, c))
    resid = y - theta[panel.work] - bias[panel.rater]
    it = 2
    obj = _huber_objective(resid, conf, sigma, bias, ridge, c)
    converged = False
    for it in range(it + 1, max_iter + 2):
        z = resid * np.sqrt(conf) / sigma
        inside = np.abs(z) <= c
        h = np.where(inside, 1.0, floor)
        # working response: the Newton step is the weighted ridge fit to it
        psi = np.clip(z, -c, c) * sigma / np.sqrt(conf)
        target = y - resid + psi / h
        new_theta, new_bias = solver.solve(conf * h, target)
        step = 1.0
        while True:
            t_theta = theta + step * (new_theta - theta)
            t_bias = bias + step * (new_bias - bias)
            t_resid = y - t_theta[panel.work] - t_bias[panel.rater]
            t_obj = _huber_objective(t_resid, conf, sigma, t_bias, ridge, c)
            if t_obj <= obj + 1e-12 * abs(obj) or step < 1e-3:
                break
            step *= 0.5
        change = float(np.max(np.abs(t_theta - theta)))
        theta, bias, resid, obj = t_theta, t_bias, t_resid, t_obj
        if change < tol:
            converged = True
            break
    huber = huber_weights(resid * np.sqrt(conf) / sigma, c)
    if refactor:
        # refactor at the IRLS weights of the solution, for standard errors
        solver.solve(conf * huber)
    return theta, bias, huber, it, converged


@dataclass
class _AdditiveFit:
    """The additive estimates before standard errors and diagnostics (also the affine start)."""

    solver: AdditiveSolver
    theta: np.ndarray
    bias: np.ndarray
    huber: np.ndarray
    sigma2: float
    sigma: float
    iterations: int
    converged: bool


def _additive_core(
    panel: Panel, *, ridge: float = 0.0, robust: bool = True, huber_c: float = HUBER_C,
    max_iter: int = 50, tol: float = 1e-4, solver: AdditiveSolver | None = None, for_errors: bool = True,
) -> _AdditiveFit:
    """``solver``: a solver already built for ``panel`` and ``ridge`` (the affine fit passes its own).

    ``for_errors=False`` leaves the solver factored wherever the fit ended (a start that solves
    again before anything reads the factor: the affine fit), saving the solve at the final weights.
    """
    if not ridge >= 0:
        raise ValueError(f"ridge must be zero or positive, got {ridge!r}")
    if not huber_c > 0:
        raise ValueError(f"huber_c must be positive, got {huber_c!r}")
    solver = AdditiveSolver(panel, ridge) if solver is None else solver
    conf = panel.weight
    huber = np.ones(panel.n_ratings)
    n_params = panel.n_works + panel.n_raters - 1
    theta, bias = solver.solve(conf)
    spread = float(np.std(panel.score)) or 1.0
    iterations, converged = 1, True
    if robust:
        theta, bias, huber, iterations, converged = _huber_newton(
            solver, theta, bias, ridge=ridge, n_params=n_params, max_iter=max_iter, tol=tol * spread, c=huber_c,
            refactor=for_errors)
    resid = panel.score - theta[panel.work] - bias[panel.rater]
    dof = panel.n_ratings - n_params
    if dof > 0:
        # residual variance of the weighted fit; Huber-downweighted ratings count by their weight
        sigma2 = float(np.sum(conf * huber * resid**2) / dof)
        sigma = robust_sigma(resid, conf, n_params) if robust else np.sqrt(sigma2)
    else:
        sigma2 = sigma = float("nan")
    return _AdditiveFit(solver, theta, bias, huber, sigma2, float(sigma), iterations, converged)


def _fit_additive(
    panel: Panel, *, ridge: float = 0.0, robust: bool = True, huber_c: float = HUBER_C,
    max_iter: int = 50, tol: float = 1e-4,
) -> NormalizationResult:
    # the affine fit's solver: the same solves, its Schur matrix summed over a rater-pair list
    # built once for the panel (imported here: scoring.affine_solver builds on this module)
    from scoring.affine_solver import PairPatternSolver

    core = _additive_core(panel, ridge=ridge, robust=robust, huber_c=huber_c, max_iter=max_iter, tol=tol,
                          solver=PairPatternSolver(panel, ridge))
    solver, theta, bias, huber = core.solver, core.theta, core.bias, core.huber
    iterations, converged, sigma_diag = core.iterations, core.converged, core.sigma
    if np.isfinite(core.sigma2):
        se = np.sqrt(core.sigma2 * solver.theta_variance())
    else:
        se = np.full(panel.n_works, np.nan)
    res = finish(
        "additive", panel, theta, se, theta[panel.work] + bias[panel.rater], bias,
        np.ones(panel.n_raters), sigma_diag, robust_weight=huber, connectivity=solver.connectivity,
        iterations=iterations, converged=converged,
    )
    if not converged:
        res.notes.append(f"additive: Huber iterations stopped at {max_iter} before converging")
    return res


def fit_additive(
    work_ids, rater_ids, scores, *, confidence=None, categories=None, works=None,
    ridge: float = 0.0, robust: bool = True, huber_c: float = HUBER_C, max_iter: int = 50, tol: float = 1e-4,
) -> NormalizationResult:
    """Fit y = mu + q_work + b_rater + e (optionally a ridge on b) with Huber weights.

    Parameters
    ----------
    work_ids, rater_ids, scores : array_like, shape (n,)
        Long-form ratings, one per (work, rater).
    confidence : array_like, optional
        Per-rating confidence, used as relative precision (weighted least squares).
    categories : array_like or mapping, optional
        Category of each rating's work, or ``work_id -> category``. Rater effects are shared
        across categories.
    works : sequence, optional
        Works that must all have ratings.
    ridge : float, default 0.0
        Penalty ``ridge * sum(b**2)``, the ratio noise variance / rater-bias variance: a rater
        with n ratings has their bias shrunk by about n / (n + ridge). The default 0 is the
        fixed-effects model, in which adding a constant to one rater's scores moves every
        work by the same amount and no rank changes; a positive ridge shrinks raters with few
        ratings toward zero bias at the price of that invariance (docs/scoring.md).
    robust : bool, default True
        Huber loss (scale: MAD of the least-squares residuals), minimized by Newton steps.
    huber_c : float, default 1.5
        Huber threshold in robust standard deviations.
    max_iter : int, default 50
    tol : float, default 1e-4
        Stop when no work score moves more than ``tol`` times the sd of the scores.

    Returns
    -------
    NormalizationResult
        ``score`` = mu + q_work (the score the typical rater would give), ``se`` from the
        diagonal of sigma^2 (X'WX + ridge)^-1, rater ``bias`` = b_rater, ``scale`` = 1.

    Notes
    -----
    The two-way additive model of Thurstone-style panel calibration; the robust loss is
    Huber's M-estimator (Huber 1964, *Ann. Math. Statist.* 35:73-101) fitted by IRLS;
    confidence weights follow MacKay, Kenna, Low & Parker (2017), "Calibration with
    confidence: a principled method for panel assessment", *R. Soc. Open Sci.* 4:160760.
    The free constant is pinned per connected component of the rater-work graph: the
    raters' biases average exactly zero there, so each component is anchored on its own.

    References
    ----------
    .. [1] Huber, P. J. (1964). Robust estimation of a location parameter. *Annals of Mathematical
       Statistics*, 35, 73-101.
    .. [2] MacKay, R. S., Kenna, R., Low, R. J., & Parker, S. (2017). Calibration with confidence: a
       principled method for panel assessment. *Royal Society Open Science*, 4, 160760.
    .. [3] Searle, S. R. (1987). *Linear Models for Unbalanced Data*. Wiley.

    Examples
    --------
    >>> works = ["w1", "w2", "w1", "w2", "w3", "w3"]
    >>> raters = ["a", "a", "b", "b", "a", "b"]
    >>> r = fit_additive(works, raters, [6, 8, 4, 6, 7, 5], robust=False)
    >>> [round(s, 3) for s in r.score.tolist()], [round(b, 3) for b in r.raters.bias.tolist()]
    ([5.0, 7.0, 6.0], [1.0, -1.0])
    """
    panel = build_panel(work_ids, rater_ids, scores, confidence=confidence, categories=categories, works=works)
    return _fit_additive(panel, ridge=ridge, robust=robust, huber_c=huber_c, max_iter=max_iter, tol=tol)
