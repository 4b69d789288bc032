"""The affine fit's pair-pattern Schur assembly gives the generic solver's solution and the same affine estimates."""

from __future__ import annotations

import numpy as np
import pytest

import scoring.affine_phases as affine_phases
from scoring.affine import fit_affine
from scoring.affine_solver import PairPatternSolver
from scoring.models_additive import AdditiveSolver
from scoring.panel import build_panel
from scoring_panels import random_panel


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("ridge", [0.0, 0.4])
@pytest.mark.parametrize("sliced_min", [1, 10**9])  # every group by slices / every pair gathered
def test_pair_pattern_solve_is_the_generic_solve(seed, ridge, sliced_min, monkeypatch):
    import scoring.affine_solver as module

    monkeypatch.setattr(module, "SLICED_WORKS_MIN", sliced_min)
    work, rater, score, conf, category = random_panel(seed, split=seed % 2 == 1)
    panel = build_panel(work, rater, score, confidence=conf, categories=category)
    rng = np.random.default_rng(100 + seed)
    weight = conf * rng.uniform(0.05, 1.0, panel.n_ratings)
    slope = np.exp(rng.normal(0, 0.3, panel.n_raters))[panel.rater]
    generic = AdditiveSolver(panel, ridge)
    paired = PairPatternSolver(panel, ridge)
    assert paired._paired and (not paired._groups) == (sliced_min > 1)
    for s in (None, slope):
        theta_g, bias_g = generic.solve(weight, panel.score, slope=s)
        theta_p, bias_p = paired.solve(weight, panel.score, slope=s)
        np.testing.assert_allclose(theta_p, theta_g, rtol=0, atol=1e-10)
        np.testing.assert_allclose(bias_p, bias_g, rtol=0, atol=1e-10)
        np.testing.assert_allclose(paired.theta_variance(), generic.theta_variance(), rtol=1e-9)
    if seed % 2 == 1:
        assert generic.connectivity.n_components == 2


def test_pair_pattern_solver_keeps_the_sparse_path_for_many_raters(monkeypatch):
    import scoring.models_additive as additive

    work, rater, score, conf, _ = random_panel(3)
    panel = build_panel(work, rater, score, confidence=conf)
    dense = PairPatternSolver(panel, 0.0).solve(conf)
    monkeypatch.setattr(additive, "DENSE_RATERS_MAX", 0)
    solver = PairPatternSolver(panel, 0.0)
    assert not solver._paired
    np.testing.assert_allclose(solver.solve(conf)[0], dense[0], atol=1e-5)


def test_too_many_pairs_keep_the_generic_solve(monkeypatch):
    import scoring.affine_solver as module

    work, rater, score, conf, _ = random_panel(5)
    panel = build_panel(work, rater, score, confidence=conf)
    paired = PairPatternSolver(panel, 0.0)
    monkeypatch.setattr(module, "PAIRS_MAX", int(paired._cells.size) - 1)
    generic = PairPatternSolver(panel, 0.0)
    assert paired._paired and not generic._paired
    monkeypatch.setattr(module, "PAIRS_MAX", 10**9)
    monkeypatch.setattr(module, "PAIRS_PER_RATING_MAX", paired._cells.size / panel.n_ratings - 0.01)
    assert not PairPatternSolver(panel, 0.0)._paired
    np.testing.assert_allclose(generic.solve(conf)[0], paired.solve(conf)[0], rtol=0, atol=1e-10)


def test_works_with_a_single_rating_each():
    # no work has two raters: no pairs at all, the Schur matrix is diagonal
    panel = build_panel([0, 1, 2, 3], [0, 1, 0, 1], [5.0, 6.0, 7.0, 4.0])
    generic, paired = AdditiveSolver(panel, 1.0), PairPatternSolver(panel, 1.0)
    w = np.ones(4)
    np.testing.assert_allclose(paired.solve(w)[0], generic.solve(w)[0], atol=1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_affine_fit_matches_the_generic_solver_fit(seed, monkeypatch):
    """Acceptance of issue 14 item 2: the faster fit matches the old estimates to 1e-6 of the score sd."""
    work, rater, score, conf, category = random_panel(seed, wild=0.05 if seed % 3 else 0.0, split=seed % 4 == 3)
    kwargs = dict(confidence=conf, categories=category)
    fast = fit_affine(work, rater, score, **kwargs)
    monkeypatch.setattr(affine_phases, "PairPatternSolver", AdditiveSolver)  # the generic solver, as before
    old = fit_affine(work, rater, score, **kwargs)
    if seed % 3:
        assert old.diagnostics.rejected.any()  # the wild taps are set aside in both fits
    tol = 1e-6 * float(np.std(score))
    assert fast.iterations == old.iterations
    np.testing.assert_allclose(fast.score, old.score, rtol=0, atol=tol)
    np.testing.assert_allclose(fast.se, old.se, rtol=0, atol=tol)
    np.testing.assert_allclose(fast.raters.bias, old.raters.bias, rtol=0, atol=tol)
    np.testing.assert_allclose(fast.raters.scale, old.raters.scale, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(fast.diagnostics.rejected, old.diagnostics.rejected)
    np.testing.assert_allclose(fast.diagnostics.robust_weight, old.diagnostics.robust_weight, rtol=0, atol=1e-6)


def test_affine_fit_uses_the_pair_pattern_solver(monkeypatch):
    built = []

    class Spy(PairPatternSolver):
        def __post_init__(self):
            super().__post_init__()
            built.append(self)

    monkeypatch.setattr(affine_phases, "PairPatternSolver", Spy)
    work, rater, score, conf, category = random_panel(1)
    fit_affine(work, rater, score, confidence=conf)
    assert len(built) == 1 and built[0]._paired and built[0]._cells.size > 0


@pytest.mark.parametrize("seed", range(4))
def test_affine_fit_does_not_depend_on_row_order(seed):
    work, rater, score, conf, category = random_panel(seed, wild=0.05, split=seed % 2 == 1)
    base = fit_affine(work, rater, score, confidence=conf, categories=category)
    perm = np.random.default_rng(seed + 50).permutation(work.size)
    moved = fit_affine(work[perm], rater[perm], score[perm], confidence=conf[perm], categories=category[perm])
    np.testing.assert_allclose(moved.score, base.score, rtol=0, atol=1e-9)
    np.testing.assert_allclose(moved.se, base.se, rtol=0, atol=1e-9)
    np.testing.assert_allclose(moved.raters.scale, base.raters.scale, rtol=0, atol=1e-9)
