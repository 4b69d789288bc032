"""The accuracy benchmark's Bayes ceiling is the exact posterior mean of the simulator's model."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

import numpy as np

from scoring.simulate import SCENARIOS, simulate_panel

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_scoring_accuracy.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_scoring_accuracy", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bayes_bound_is_the_gaussian_posterior_mean_with_wild_rows_deleted():
    scenario = replace(SCENARIOS["5% wild scores"], n_works=36, n_raters=12, n_categories=3, contamination=0.1)
    p = simulate_panel(scenario, rng=np.random.default_rng(3))
    assert p.wild.any()
    got = _bench().bayes_posterior_mean(p, scenario)
    # E[q | y] = Cov(q, y) Cov(y)^-1 (y - centre), written out densely over the kept ratings
    keep = ~p.wild
    w, r = p.work_id[keep], p.rater_id[keep]
    a = p.rater_scale[r]
    design_q = np.zeros((keep.sum(), p.quality.size))
    design_q[np.arange(keep.sum()), w] = a
    design_b = (r[:, None] == np.arange(p.rater_bias.size)[None, :]).astype(float)
    cov_y = (scenario.quality_sd**2 * design_q @ design_q.T + scenario.bias_sd**2 * design_b @ design_b.T
             + scenario.noise_sd**2 * np.eye(keep.sum()))
    expected = scenario.quality_sd**2 * design_q.T @ np.linalg.solve(cov_y, p.score[keep] - p.centre)
    np.testing.assert_allclose(got, expected, atol=1e-9)
