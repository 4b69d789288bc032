"""Newton steps for the affine fit: the sweeps' fixed point reached in a few joint steps.

The sweeps of :mod:`scoring.affine` alternate: slopes -> exact (theta, c) -> robust weights ->
slopes. Their fixed point, for weights W (the IRLS weights of its own residuals r = y - m -
a (theta - m) - c) and penalties lam_c on c and lam_a on a - 1, is

- g_theta = -sum_work W a r = 0 and g_c = -sum_rater W r + lam_c c = 0 (the exact solve);
- each rater's ridge regression of y - m on theta - m returns its slope up to one factor K
  per connected component (the log-slopes are normalized to mean 0 there); with the first
  two conditions this is g_a = -sum_rater W x r + lam_a (a - 1) = (1 - K) a Q, where
  x = theta - m and Q = sxx - sx^2 / sw is the rater's penalized regression's slope
  curvature; the log-slopes sum to 0 per component.

Each step linearizes these equations in (theta, c, a, K) and solves them by eliminating
theta (its block is diagonal: a rating touches one work), leaving a dense 2R x 2R Schur
matrix over (c, a) assembled, like the (theta, c) solve of :mod:`scoring.affine_solver`, from
each work's rater pairs (each pair adds a 2 x 2 block) with ``np.bincount``. The gauge (one
factor K per component) is a border row and column; a rank-one term C C' (C the gradient
of the log-slopes' sum), which the border makes neutral, keeps the matrix definite.

The first step of a phase is an IRLS one (the weights held); once the steps shrink, the
Jacobian holds each rating's d(W r)/dr (psi', negative on a redescending weight's flank,
and the weight's response through its own studentizing leverage), so the weights' response
is part of the step (Newton for the M-estimator). A Newton step that grows is redone with
the IRLS Jacobian; a factorized Jacobian is reused while the steps shrink fourfold; steps
that still grow, a Jacobian that is not definite, or a rater's slope at the sweeps' floor
hand the phase back to the sweeps. None of this moves the fixed point, only the path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from scoring import models_additive
from scoring.affine_solver import PAIRS_MAX

__all__ = ["PairBlocks", "NewtonResult", "newton_fixed_point", "robust_weights"]

NEWTON_FROM = 1.0  # psi' enters the steps once no work score moves more than this (in score sds)
INNER = 3  # passes over the weights and their studentizing leverages per step
DIVERGES = 4.0  # a step this many times the last ends the Newton steps (the sweeps finish)
REUSE_RATIO = 0.25  # a factorized Jacobian is reused while each step is at most this share of the last
MIN_SLOPE = 0.05  # the sweeps' floor on a rater's regression slope (scoring/affine.py)


class PairBlocks:
    """Each work's rater pairs, listed once, to sum the 2R x 2R Schur matrix over (c, a).

    The matrix is ordered [c_0 .. c_{R-1}, a_0 .. a_{R-1}]; only its lower triangle is
    written (the Cholesky factorisation reads nothing else): the cc and aa blocks' lower
    triangles and the whole ac block. ``available`` is False for panels that the dense
    matrix does not suit (too many raters or pairs); the sweeps fit those.
    """

    def __init__(self, work: np.ndarray, rater: np.ndarray, n_works: int, n_raters: int):
        counts = np.bincount(work, minlength=n_works).astype(np.int64)
        n_pairs = int(np.sum(counts * (counts + 1) // 2))
        self.n_raters = n_r = n_raters
        self.available = n_r <= models_additive.DENSE_RATERS_MAX and n_pairs <= PAIRS_MAX
        if not self.available:
            return
        self.rater = rater
        self.order = order = np.argsort(work, kind="stable")
        indptr = np.concatenate(([0], np.cumsum(counts)))
        ordered_rater = rater[order].astype(np.int64)
        # per group of works with the same number k of ratings: their positions in work order
        # (n x k); the pairs of distinct ratings are taken diagonal by diagonal, (i, i + d) for
        # d = 1 .. k - 1, each diagonal's products one product of two column slices
        self.groups, lower, fs, sf = [], [], [], []
        for k in np.unique(counts):
            if k < 2:
                continue
            pos = indptr[np.flatnonzero(counts == k)][:, None] + np.arange(k)[None, :]
            self.groups.append(pos)
            for d in range(1, k):
                rf, rs = ordered_rater[pos[:, :k - d]].ravel(), ordered_rater[pos[:, d:]].ravel()
                lower.append(np.maximum(rf, rs) * n_r + np.minimum(rf, rs))  # cc and aa blocks
                fs.append(rf * n_r + rs)  # ac block: a of the first, c of the second
                sf.append(rs * n_r + rf)  # a of the second, c of the first
        empty = np.zeros(0, dtype=np.int64)
        self.lower = np.concatenate(lower) if lower else empty
        self.ac_fs = np.concatenate(fs) if fs else empty
        self.ac_sf = np.concatenate(sf) if sf else empty

    def assemble(self, uc: np.ndarray, ua: np.ndarray) -> np.ndarray:
        """-(sum over a work's rating pairs of u_i u_j') in the lower triangle; u per rating, over sqrt(H_tt)."""
        n_r, size = self.n_raters, self.n_raters * self.n_raters
        n = self.lower.size
        t_cc, t_aa, t_fs, t_sf = (np.empty(n) for _ in range(4))
        uco, uao = uc[self.order], ua[self.order]
        start = 0
        for pos in self.groups:
            cm, am = uco[pos], uao[pos]
            k = pos.shape[1]
            for d in range(1, k):
                sl = slice(start, start + pos.shape[0] * (k - d))
                shape = (pos.shape[0], k - d)
                np.multiply(cm[:, :k - d], cm[:, d:], out=t_cc[sl].reshape(shape))
                np.multiply(am[:, :k - d], am[:, d:], out=t_aa[sl].reshape(shape))
                np.multiply(am[:, :k - d], cm[:, d:], out=t_fs[sl].reshape(shape))
                np.multiply(cm[:, :k - d], am[:, d:], out=t_sf[sl].reshape(shape))
                start = sl.stop
        out = np.zeros((2 * n_r, 2 * n_r))
        out[:n_r, :n_r] = np.bincount(self.lower, t_cc, minlength=size).reshape(n_r, n_r)
        out[n_r:, n_r:] = np.bincount(self.lower, t_aa, minlength=size).reshape(n_r, n_r)
        ac = np.bincount(self.ac_fs, t_fs, minlength=size)
        ac += np.bincount(self.ac_sf, t_sf, minlength=size)
        out[n_r:, :n_r] = ac.reshape(n_r, n_r)
        # each rating with itself: the diagonals
        ii = np.arange(n_r)
        out[ii, ii] += np.bincount(self.rater, uc * uc, minlength=n_r)
        out[n_r + ii, n_r + ii] += np.bincount(self.rater, ua * ua, minlength=n_r)
        out[n_r + ii, ii] += np.bincount(self.rater, ua * uc, minlength=n_r)
        np.negative(out, out=out)
        return out


def robust_weights(reweight, resid, per, *, leverage=None, weight_prev=None, derivative=True):
    """``reweight(resid * per, per)`` and d(weight * resid)/d resid (None unless ``derivative``).

    With ``leverage`` (each rating's share h of its work's weight, from ``weight_prev``) the
    studentizing factor per = s / sqrt(1 - h) is taken to move with the rating's own weight
    (dh/dw = h (1 - h) / w), so the derivative holds that response too; the other ratings'
    weights are held. Derivatives by central differences, so any weight function will do.
    """
    z = resid * per
    weight = reweight(z, per)
    if not derivative:
        return weight, None
    eps = 1e-6
    dw_dr = per * (reweight(z + eps, per) - reweight(z - eps, per)) / (2 * eps)
    if leverage is not None:
        ep = eps * per
        dw_dper = (reweight(resid * (per + ep), per + ep) - reweight(resid * (per - ep), per - ep)) / (2 * ep)
        dper_dw = np.where(leverage < 0.95, 0.5 * per * leverage / np.maximum(weight_prev, 1e-8), 0.0)
        own = 1.0 - dw_dper * dper_dw
        dw_dr = np.where(own > 0.5, dw_dr / own, dw_dr)
    return weight, weight + resid * dw_dr


def _factor(blocks, work, rater, n_w, a, x, dc, wr, wc, lam_c, lam_a, comp, comp_n, in_comp, a_r):
    """Cholesky factor of the (c, a) Schur matrix of the Jacobian with curvature weights ``dc``."""
    n_r = blocks.n_raters
    h_tt = np.bincount(work, dc * a * a, minlength=n_w)
    # a work whose ratings all lie where psi' = 0 (beyond Huber's c) keeps a tenth of its IRLS curvature
    h_tt = np.maximum(h_tt, 0.1 * np.bincount(work, wc * a * a, minlength=n_w))
    h_tt = np.maximum(h_tt, 1e-300)
    v_c = dc * a
    v_a = dc * a * x - wr
    inv_sqrt = 1.0 / np.sqrt(h_tt)[work]
    schur = blocks.assemble(v_c * inv_sqrt, v_a * inv_sqrt)
    ii = np.arange(n_r)
    schur[ii, ii] += np.bincount(rater, dc, minlength=n_r) + lam_c
    schur[n_r + ii, n_r + ii] += np.bincount(rater, dc * x * x, minlength=n_r) + lam_a
    schur[n_r + ii, ii] += np.bincount(rater, dc * x, minlength=n_r)
    # the gauge: rank-one C C' within each component (C the gradient of the log-slopes' sum), which
    # the border row C' dp = 0 makes neutral
    cvec = 1.0 / a_r
    rho = float(np.mean(np.diag(schur)[n_r:])) or 1.0
    cc = rho * np.outer(cvec, cvec) / comp_n[comp][:, None]
    schur[n_r:, n_r:] += cc if in_comp is None else cc * in_comp
    if lam_c == 0:
        # no prior on c: (theta + t, c - a t) fits the same within a component, and the sweeps'
        # solver pins it (sum a c = 0); deflate that direction as models_additive does
        zz = np.outer(a_r, a_r) / np.bincount(comp, a_r * a_r)[comp][:, None]
        schur[:n_r, :n_r] += rho * (zz if in_comp is None else zz * in_comp)
    try:
        factor = linalg.cho_factor(schur, lower=True, check_finite=False, overwrite_a=True)
    except linalg.LinAlgError:
        factor = None
    return factor, v_c, v_a, h_tt


def _clamped(sw, sx, sxx, wc, x, yc, rater, n_r, lam_a):
    """Raters whose ridge-regression slope (the sweeps' update) is within 1.5 x of the sweeps' floor."""
    sy = np.bincount(rater, wc * yc, minlength=n_r)
    sxy = np.bincount(rater, wc * x * yc, minlength=n_r) + lam_a
    den = sxx * sw - sx * sx
    with np.errstate(divide="ignore", invalid="ignore"):
        return (den <= 0) | ((sxy * sw - sx * sy) < 1.5 * MIN_SLOPE * den)


def _step(jac, g_t, g_c, g_a, a_r, q, work, rater, comp, n_comp):
    """Solve the linearized equations for (d_theta, d_c, d_a): theta eliminated, the border
    (1 - K) a Q per component, and the gauge row C' dp = 0 (C = 1 / a, the log-slopes' sum)."""
    factor, v_c, v_a, h_tt, _ = jac
    n_w, n_r = g_t.size, g_c.size
    gt_scaled = g_t / h_tt
    rhs = np.concatenate([
        -g_c + np.bincount(rater, v_c * gt_scaled[work], minlength=n_r),
        -g_a + np.bincount(rater, v_a * gt_scaled[work], minlength=n_r),
    ])
    border = np.concatenate([np.zeros(n_r), a_r * q])
    both = linalg.cho_solve(factor, np.column_stack([rhs, border]), check_finite=False)
    p0, pb = both[:, 0], both[:, 1]
    cvec = 1.0 / a_r
    num = np.bincount(comp, cvec * p0[n_r:], minlength=n_comp)
    den = np.bincount(comp, cvec * pb[n_r:], minlength=n_comp)
    kappa = np.divide(-num, den, out=np.zeros(n_comp), where=den != 0)
    dp = p0 + pb * np.tile(kappa[comp], 2)
    d_c, d_a = dp[:n_r], dp[n_r:]
    d_t = -(g_t + np.bincount(work, v_c * d_c[rater] + v_a * d_a[rater], minlength=n_w)) / h_tt
    return d_t, d_c, d_a


@dataclass
class NewtonResult:
    """Where the Newton steps of one phase ended, and whether that is the sweeps' fixed point."""

    theta: np.ndarray
    c: np.ndarray
    log_a: np.ndarray
    weight: np.ndarray
    converged: bool
    steps: int
    factorized: int  # steps that assembled and factorized the Schur matrix (the others reused it)
    clamped: bool  # some rater's slope sits at the sweeps' floor: their fixed point differs


def newton_fixed_point(
    blocks: PairBlocks, work: np.ndarray, rater: np.ndarray, yc: np.ndarray, conf: np.ndarray,
    comp: np.ndarray, n_comp: int, *, theta: np.ndarray, c: np.ndarray, log_a: np.ndarray,
    weight: np.ndarray, reweigh, lam_c: float, lam_a: float, m: float, spread: float, tol: float,
    max_iter: int, inner: int = INNER,
) -> NewtonResult:
    """Newton steps from (theta, c, log_a) until no work score moves more than ``tol * spread``.

    ``yc`` = y - m; ``reweigh(resid, a_per_rating, weight_prev)`` returns the robust weights
    and d(weight * resid)/d resid (both without ``conf``); ``log_a`` is normalized. ``inner``
    passes make the weights consistent with studentizing factors that read them (1 if none do).
    """
    n_w, n_r = theta.size, blocks.n_raters
    comp_n = np.bincount(comp, minlength=n_comp)
    in_comp = comp[:, None] == comp[None, :] if n_comp > 1 else None
    converged, steps = False, 0
    # IRLS steps (the weights' response left out) while far from the fixed point, where psi'
    # can point a step across a redescending weight's hump; Newton once a step is small
    newton_now, last = False, np.inf
    # a factorized Jacobian is kept while the steps it gives shrink fast (a chord step costs
    # one gradient, not a Schur matrix and its factorization)
    jac, fresh, factorized, clamped = None, True, 0, False
    weight_in, taken = weight, 0
    for steps in range(1, max_iter + 1):
        a_r = np.exp(log_a)
        a = a_r[rater]
        x = theta[work] - m
        resid = yc - a * x - c[rater]
        # the weights consistent with their own studentization (which reads the weights)
        w = weight
        for _ in range(inner - 1):
            w, _ = reweigh(resid, a, w, derivative=False)
        w, d = reweigh(resid, a, w, derivative=fresh)
        weight = w
        wc = conf * w
        wr = wc * resid
        # gradient of J = 1/2 sum W r^2 + lam_c/2 |c|^2 + lam_a/2 |a - 1|^2 (W held at its value)
        g_t = -np.bincount(work, a * wr, minlength=n_w)
        g_c = -np.bincount(rater, wr, minlength=n_r) + lam_c * c
        g_a = -np.bincount(rater, x * wr, minlength=n_r) + lam_a * (a_r - 1.0)
        sw = np.bincount(rater, wc, minlength=n_r) + lam_c
        sx = np.bincount(rater, wc * x, minlength=n_r)
        sxx = np.bincount(rater, wc * x * x, minlength=n_r) + lam_a
        q = sxx - sx * sx / sw
        if np.any(_clamped(sw, sx, sxx, wc, x, yc, rater, n_r, lam_a)):
            # a rater's slope near the sweeps' floor, where the equations above are not theirs:
            # the sweeps take over from here (from the start if no step was taken, on their own path)
            clamped = True
            break

        def jacobian(newton):
            # Newton's Jacobian, or the IRLS one: the weights held, no curvature from the residuals
            dn = conf * d if newton else wc
            factor, v_c, v_a, h_tt = _factor(blocks, work, rater, n_w, a, x, dn, wr if newton else 0.0 * wr,
                                             wc, lam_c, lam_a, comp, comp_n, in_comp, a_r)
            return None if factor is None else (factor, v_c, v_a, h_tt, newton)

        if fresh:
            # a Newton Jacobian that is not definite (far from the fixed point): the IRLS one
            jac = (newton_now and jacobian(True)) or jacobian(False)
            factorized += 1
            if jac is None:
                break
        def step(jac):
            """The step (d_theta, d_c, d_a), its size, and whether it grows (or is not finite)."""
            d_t, d_c, d_a = _step(jac, g_t, g_c, g_a, a_r, q, work, rater, comp, n_comp)
            size = float(np.max(np.abs(d_t)))
            return d_t, d_c, d_a, size, (not (np.isfinite(size) and np.all(np.isfinite(d_a)))
                                         or size > DIVERGES * max(last, tol * spread))

        d_t, d_c, d_a, size, grows = step(jac)
        if grows and jac[4]:
            # psi' stepped across a weight's kink or hump: this step with the IRLS Jacobian
            jac, newton_now = jacobian(False), False
            factorized += 1
            if jac is None:
                break
            d_t, d_c, d_a, size, grows = step(jac)
        if grows:
            # steps that grow (weights flipping between a work's ratings, as on works with two
            # ratings): stop here, and the sweeps go on from the last point
            break
        newton = jac[4]
        taken += 1
        theta = theta + d_t
        c = c + d_c
        # the slope's step in log form keeps it positive; the same to first order
        log_a = log_a + np.clip(d_a / a_r, -1.0, 1.0)
        log_a = log_a - (np.bincount(comp, log_a, minlength=n_comp) / comp_n)[comp]
        # Newton from here on once the steps are small and shrinking; back to IRLS if one grows
        newton_now = size < NEWTON_FROM * spread and size < last
        fresh = size > REUSE_RATIO * last or newton_now != newton
        last = size
        if size < tol * spread:
            converged = True
            break
    if not taken:
        weight = weight_in
    else:
        # the weights of the last point, and the floor check there
        a = np.exp(log_a)[rater]
        x = theta[work] - m
        weight, _ = reweigh(yc - a * x - c[rater], a, weight, derivative=False)
        wc = conf * weight
        sw = np.bincount(rater, wc, minlength=n_r) + lam_c
        sx = np.bincount(rater, wc * x, minlength=n_r)
        sxx = np.bincount(rater, wc * x * x, minlength=n_r) + lam_a
        clamped = clamped or bool(np.any(_clamped(sw, sx, sxx, wc, x, yc, rater, n_r, lam_a)))
    return NewtonResult(theta, c, log_a, weight, converged and not clamped, steps, factorized, clamped)
