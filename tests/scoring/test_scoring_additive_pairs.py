"""``additive`` solves with the pair-pattern Schur assembly and gives the generic solver's estimates."""

from __future__ import annotations

import numpy as np
import pytest

import scoring.affine_solver as affine_solver
from scoring.affine_solver import PairPatternSolver
from scoring.models_additive import AdditiveSolver, fit_additive
from scoring_panels import random_panel


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("robust", [True, False])
def test_additive_fit_matches_the_generic_solver_fit(seed, robust, monkeypatch):
    work, rater, score, conf, category = random_panel(seed, wild=0.05 if seed % 3 else 0.0, split=seed % 4 == 3)
    kwargs = dict(confidence=conf, categories=category, robust=robust)
    fast = fit_additive(work, rater, score, **kwargs)
    monkeypatch.setattr(affine_solver, "PairPatternSolver", AdditiveSolver)  # the generic solver, as before
    old = fit_additive(work, rater, score, **kwargs)
    tol = 1e-9 * float(np.std(score))
    assert fast.iterations == old.iterations
    np.testing.assert_allclose(fast.score, old.score, rtol=0, atol=tol)
    np.testing.assert_allclose(fast.se, old.se, rtol=0, atol=tol)
    np.testing.assert_allclose(fast.raters.bias, old.raters.bias, rtol=0, atol=tol)
    np.testing.assert_allclose(fast.diagnostics.robust_weight, old.diagnostics.robust_weight, rtol=0, atol=1e-9)


def test_additive_fit_builds_the_pair_pattern_solver(monkeypatch):
    built = []

    class Spy(PairPatternSolver):
        def __post_init__(self):
            super().__post_init__()
            built.append(self)

    monkeypatch.setattr(affine_solver, "PairPatternSolver", Spy)
    work, rater, score, conf, _ = random_panel(2)
    fit_additive(work, rater, score, confidence=conf)
    assert len(built) == 1 and built[0]._paired and built[0]._cells.size > 0
