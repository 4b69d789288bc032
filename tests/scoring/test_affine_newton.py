"""Newton steps for the affine fit (``accelerator="newton"``) against the SQUAREM sweeps.

Both solve the same fixed point (same M-estimator, priors, phases and studentization); run to
a tight tolerance they agree to 1e-6 of the score sd on random panels: with and without wild
ratings, sparse and dense, with confidence weights, with several connected components.
"""

from __future__ import annotations

import numpy as np
import pytest

from scoring.affine import fit_affine
from scoring.affine_newton import PairBlocks
from scoring.panel import build_panel

TIGHT = dict(tol=1e-9, max_iter=2000)


def _panel(seed, *, n_works=150, n_raters=12, per_work=4, wild=0.0, confidence=False, components=1):
    """y - 6 = a_r q_w + c_r + e on ``components`` disjoint blocks of raters and works."""
    rng = np.random.default_rng(seed)
    block_r = np.array_split(np.arange(n_raters), components)
    work, rater = [], []
    for w in range(n_works):
        pool = block_r[w % components]
        work += [w] * per_work
        rater += list(rng.choice(pool, per_work, replace=False))
    work, rater = np.array(work), np.array(rater)
    a, c = np.exp(rng.normal(0, 0.3, n_raters)), rng.normal(0, 0.8, n_raters)
    y = 6 + a[rater] * rng.normal(size=n_works)[work] + c[rater] + rng.normal(0, 0.6, work.size)
    y = np.clip(np.round(2 * y) / 2, 0, 10)
    hit = rng.random(y.size) < wild
    y[hit] = rng.choice([0.0, 10.0], hit.sum())  # taps at the scale's ends
    conf = rng.uniform(0.5, 2.0, y.size) if confidence else None
    return work, rater, y, conf


CASES = [
    # seed, options
    (0, dict()),
    (1, dict(wild=0.03)),
    (2, dict(wild=0.05, confidence=True)),
    (3, dict(per_work=2, n_raters=20, wild=0.03)),  # sparse: two ratings a work
    (4, dict(per_work=8, n_raters=10, wild=0.02)),  # dense: most raters on every work
    (5, dict(components=3, n_raters=18, per_work=3, wild=0.03)),
    (6, dict(confidence=True, n_works=400, n_raters=30, per_work=5)),
    (7, dict(components=2, confidence=True, wild=0.04, n_works=300, n_raters=16)),
]


@pytest.mark.parametrize("seed, options", CASES)
def test_newton_matches_tight_squarem(seed, options):
    work, rater, y, conf = _panel(seed, **options)
    old = fit_affine(work, rater, y, confidence=conf, accelerator="squarem", **TIGHT)
    new = fit_affine(work, rater, y, confidence=conf, accelerator="newton", **TIGHT)
    assert old.converged and new.converged
    # works with two ratings: a wild one and its work-mate look alike, their weights flip and
    # the Newton steps hand over to the sweeps (same fixed point)
    fell_back = any("Newton steps did not converge" in n for n in new.notes)
    assert fell_back == (options.get("per_work") == 2)
    tol = 1e-6 * float(np.std(old.score))
    np.testing.assert_allclose(new.score, old.score, rtol=0, atol=tol)
    np.testing.assert_allclose(new.unshrunk_score, old.unshrunk_score, rtol=0, atol=tol)
    np.testing.assert_allclose(new.raters.bias, old.raters.bias, rtol=0, atol=tol)
    np.testing.assert_allclose(new.raters.scale, old.raters.scale, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(new.diagnostics.rejected, old.diagnostics.rejected)
    if options.get("wild"):
        assert old.diagnostics.rejected.any()


def test_newton_matches_with_fixed_priors_and_no_ridge():
    # no prior on c (ridge 0): the (theta + t, c - a t) direction is free and deflated
    work, rater, y, conf = _panel(11, wild=0.03)
    for kw in (dict(ridge=0.0, scale_prior_sd=0.3), dict(ridge=1.0, scale_prior_sd=50.0),
               dict(robust=False), dict(redescending="biweight"), dict(redescending=None)):
        old = fit_affine(work, rater, y, accelerator="squarem", **kw, **TIGHT)
        new = fit_affine(work, rater, y, accelerator="newton", **kw, **TIGHT)
        assert new.converged, kw
        tol = 1e-6 * float(np.std(old.score))
        np.testing.assert_allclose(new.score, old.score, rtol=0, atol=tol, err_msg=str(kw))
        np.testing.assert_allclose(new.raters.scale, old.raters.scale, rtol=0, atol=1e-6, err_msg=str(kw))


def test_a_reversed_rater_hands_the_phase_to_the_sweeps():
    # a rater who reverses the scale sits at the sweeps' floor on the slope (0.05), where the
    # Newton equations (an unclamped slope) differ: the sweeps finish, at their fixed point
    work, rater, y, _ = _panel(41, wild=0.02)
    y = np.where(rater == 0, 12.0 - y, y)
    old = fit_affine(work, rater, y, accelerator="squarem", **TIGHT)
    new = fit_affine(work, rater, y, accelerator="newton", **TIGHT)
    assert any("Newton steps did not converge" in n for n in new.notes)
    assert new.converged
    np.testing.assert_allclose(new.score, old.score, rtol=0, atol=1e-6 * float(np.std(old.score)))
    np.testing.assert_allclose(new.raters.scale, old.raters.scale, rtol=0, atol=1e-6)


def test_newton_takes_far_fewer_passes():
    # 2,000 works x 6 ratings, 60 raters, 2% taps at the ends, default tolerance: measured
    # 2026-11-29, 15 passes (two exact solves and the Newton steps) against SQUAREM's 33 sweeps
    work, rater, y, _ = _panel(21, n_works=2000, n_raters=60, per_work=6, wild=0.02)
    old = fit_affine(work, rater, y, accelerator="squarem")
    new = fit_affine(work, rater, y, accelerator="newton")
    assert old.converged and new.converged
    assert new.iterations <= 0.6 * old.iterations


def test_newton_does_not_depend_on_row_order():
    work, rater, y, conf = _panel(31, wild=0.03, confidence=True)
    first = fit_affine(work, rater, y, confidence=conf, accelerator="newton")
    perm = np.random.default_rng(1).permutation(y.size)
    second = fit_affine(work[perm], rater[perm], y[perm], confidence=conf[perm], accelerator="newton")
    assert first.iterations == second.iterations
    np.testing.assert_allclose(second.score, first.score, rtol=0, atol=1e-9)
    np.testing.assert_allclose(second.raters.scale, first.raters.scale, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(second.diagnostics.rejected, first.diagnostics.rejected[perm])


def test_pair_blocks_sum_the_schur_matrix():
    # the 2R x 2R sum over each work's rating pairs equals the dense product U' U per work
    rng = np.random.default_rng(3)
    work, rater, y, _ = _panel(3, n_works=60, n_raters=9, per_work=3)
    keep = rng.random(work.size) < 0.8  # 1-3 ratings a work
    panel = build_panel(work[keep], rater[keep], y[keep])
    blocks = PairBlocks(panel.work, panel.rater, panel.n_works, panel.n_raters)
    uc, ua = rng.normal(size=panel.n_ratings), rng.normal(size=panel.n_ratings)
    n_r = panel.n_raters
    u = np.zeros((panel.n_works, 2 * n_r))
    np.add.at(u, (panel.work, panel.rater), uc)
    np.add.at(u, (panel.work, n_r + panel.rater), ua)
    expect = -(u.T @ u)
    got = blocks.assemble(uc, ua)
    np.testing.assert_allclose(np.tril(got), np.tril(expect), atol=1e-12)
