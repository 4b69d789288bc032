"""Posterior means of the works over the raters' slopes and severities (scoring/posterior.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from scoring.affine import fit_affine
from scoring.posterior import posterior_work_scores
from scoring.priors import shrink_within_groups
from scoring.simulate import SCENARIOS, simulate_panel


def _tiny_panel(seed=0, n_works=6, n_raters=3, per_work=2):
    rng = np.random.default_rng(seed)
    work = np.repeat(np.arange(n_works), per_work)
    rater = np.concatenate([rng.choice(n_raters, per_work, replace=False) for _ in range(n_works)])
    a = np.exp(rng.normal(0, 0.3, n_raters))
    c = rng.normal(0, 0.8, n_raters)
    q = rng.normal(0, 1, n_works)
    y = 6 + a[rater] * q[work] + c[rater] + rng.normal(0, 0.5, work.size)
    return work, rater, y


def _exact_given_slopes(a, work, rater, y, m, mu, tau2, c_sd, s2):
    """E[theta | y, a] and log p(y | a) of the linear Gaussian model, written out densely."""
    n_w, n_r = mu.size, a.size
    design_t = np.zeros((y.size, n_w))
    design_t[np.arange(y.size), work] = a[rater]
    design_c = np.zeros((y.size, n_r))
    design_c[np.arange(y.size), rater] = 1.0
    cov = design_t @ np.diag(tau2) @ design_t.T + c_sd**2 * design_c @ design_c.T + s2 * np.eye(y.size)
    centre = m + design_t @ (mu - m)
    mean = mu + np.diag(tau2) @ design_t.T @ np.linalg.solve(cov, y - centre)
    return mean, stats.multivariate_normal(centre, cov).logpdf(y)


def test_vb_is_the_exact_posterior_mean_and_gibbs_close_when_the_slopes_are_pinned():
    work, rater, y = _tiny_panel(1)
    m, s2, c_sd = 6.0, 0.25, 0.8
    mu, tau2 = np.full(6, 6.2), np.full(6, 1.1)
    exact, _ = _exact_given_slopes(np.ones(3), work, rater, y, m, mu, tau2, c_sd, s2)
    kw = dict(n_works=6, n_raters=3, centre=m, theta0=np.full(6, m), prior_mean=mu, prior_var=tau2,
              severity_sd=c_sd, scale_sd=1e-6)
    vb = posterior_work_scores(y, work, rater, np.full(y.size, 1 / s2), method="vb", **kw)
    np.testing.assert_allclose(vb.score, exact, atol=1e-5)
    gibbs = posterior_work_scores(y, work, rater, np.full(y.size, 1 / s2), method="gibbs", n_draws=4000, **kw)
    np.testing.assert_allclose(gibbs.score, exact, atol=0.02)


def test_gibbs_integrates_over_the_slopes():
    # two raters on the same five works: p(a | y) on a grid, then E[theta | y] = sum p(a | y) E[theta | a, y]
    rng = np.random.default_rng(5)
    work, rater = np.repeat(np.arange(5), 2), np.tile([0, 1], 5)
    q = np.array([-1.5, -0.5, 0.0, 0.7, 1.6])
    y = 6 + np.array([0.6, 1.5])[rater] * q[work] + np.array([0.3, -0.4])[rater] + rng.normal(0, 0.3, 10)
    m, s2, c_sd, a_sd = 6.0, 0.09, 0.8, 0.35
    mu, tau2 = np.full(5, 6.0), np.full(5, 1.0)
    grid = np.linspace(1 - 5 * a_sd, 1 + 5 * a_sd, 41)
    log_w, means = [], []
    for a1 in grid:
        for a2 in grid:
            mean, loglik = _exact_given_slopes(np.array([a1, a2]), work, rater, y, m, mu, tau2, c_sd, s2)
            log_w.append(loglik + stats.norm.logpdf([a1, a2], 1, a_sd).sum())
            means.append(mean)
    weights = np.exp(np.array(log_w) - max(log_w))
    exact = (weights[:, None] * np.array(means)).sum(0) / weights.sum()
    plug_in, _ = _exact_given_slopes(np.ones(2), work, rater, y, m, mu, tau2, c_sd, s2)
    assert np.max(np.abs(exact - plug_in)) > 0.1  # the slopes matter here
    got = posterior_work_scores(y, work, rater, np.full(10, 1 / s2), n_works=5, n_raters=2, centre=m,
                                theta0=np.full(5, m), prior_mean=mu, prior_var=tau2, severity_sd=c_sd,
                                scale_sd=a_sd, n_draws=20000)
    np.testing.assert_allclose(got.score, exact, atol=0.03)
    # mean-field: the same order and close, not exact
    vb = posterior_work_scores(y, work, rater, np.full(10, 1 / s2), n_works=5, n_raters=2, centre=m,
                               theta0=np.full(5, m), prior_mean=mu, prior_var=tau2, severity_sd=c_sd,
                               scale_sd=a_sd, method="vb")
    assert list(np.argsort(vb.score)) == list(np.argsort(exact))
    np.testing.assert_allclose(vb.score, exact, atol=0.15)


@pytest.mark.parametrize("method", ["gibbs", "vb"])
def test_deterministic_and_independent_of_row_order(method):
    work, rater, y = _tiny_panel(2, n_works=30, n_raters=8, per_work=3)
    kw = dict(n_works=30, n_raters=8, centre=6.0, prior_mean=np.full(30, 6.0), prior_var=np.full(30, 1.0),
              severity_sd=0.8, scale_sd=0.25, method=method)
    prec = np.full(y.size, 4.0)
    first = posterior_work_scores(y, work, rater, prec, theta0=np.full(30, 6.0), **kw)
    again = posterior_work_scores(y, work, rater, prec, theta0=np.full(30, 6.0), **kw)
    np.testing.assert_array_equal(first.score, again.score)
    perm = np.random.default_rng(0).permutation(y.size)
    shuffled = posterior_work_scores(y[perm], work[perm], rater[perm], prec[perm], theta0=np.full(30, 6.0), **kw)
    np.testing.assert_allclose(shuffled.score, first.score, atol=1e-9)
    np.testing.assert_allclose(shuffled.sd, first.sd, atol=1e-9)


def test_bad_options_are_refused():
    work, rater, y = _tiny_panel(3)
    kw = dict(n_works=6, n_raters=3, centre=6.0, theta0=np.full(6, 6.0), prior_mean=np.full(6, 6.0),
              prior_var=np.full(6, 1.0))
    with pytest.raises(ValueError, match="method"):
        posterior_work_scores(y, work, rater, np.ones(y.size), severity_sd=1.0, scale_sd=0.3, method="nuts", **kw)
    with pytest.raises(ValueError, match="prior sds"):
        posterior_work_scores(y, work, rater, np.ones(y.size), severity_sd=np.inf, scale_sd=0.3, **kw)
    with pytest.raises(ValueError, match="posterior must be one of"):
        fit_affine(work, rater, y, posterior="mcmc")


def _fit_tau(p, method):
    res = fit_affine(p.work_id, p.rater_id, p.score, categories=p.category, wild_ends=(0, 10), posterior=method)
    est = np.empty(res.score.size)
    est[res.work_id.astype(int)] = res.score
    return res, float(stats.kendalltau(est, p.quality)[0])


def test_affine_reports_the_posterior_means_when_asked_and_the_sparse_panels_stay_as_good():
    # few ratings per rater at a small size (120 works, 48 raters x 10 ratings)
    scenario = replace(SCENARIOS["few ratings per rater"], n_works=120, n_raters=48)
    taus = {"raw": [], None: [], "gibbs": [], "vb": []}
    for seed in range(4):
        p = simulate_panel(scenario, rng=np.random.default_rng(seed))
        plain, tau_plain = _fit_tau(p, None)
        taus[None].append(tau_plain)
        # posterior=None (the default) is the plug-in shrinkage of the unshrunk estimates, as before
        assert any("shrunk toward" in n for n in plain.notes)
        expected, _, _ = shrink_within_groups(plain.unshrunk_score, plain.unshrunk_se, np.asarray(plain.category),
                                              np.zeros(plain.score.size, dtype=int))
        np.testing.assert_array_equal(plain.score, expected)
        taus["raw"].append(stats.kendalltau(np.bincount(p.work_id, p.score) / np.bincount(p.work_id), p.quality)[0])
        for method in ("gibbs", "vb"):
            res, tau = _fit_tau(p, method)
            taus[method].append(tau)
            assert any(f"({method}," in n for n in res.notes)
            # the unshrunk estimates (rank bands) are the fit's, untouched
            np.testing.assert_array_equal(res.unshrunk_score, plain.unshrunk_score)
            assert np.all(res.se > 0) and np.all(res.se < 1.5 * plain.unshrunk_se)
    mean = {k: float(np.mean(v)) for k, v in taus.items()}
    for method in ("gibbs", "vb"):
        assert mean[method] >= mean[None] - 0.005 and mean[method] > mean["raw"] + 0.01, mean


def test_bench_bound_without_the_slopes_equals_the_bound_with_them_when_slopes_do_not_vary():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_scoring_accuracy.py"
    spec = importlib.util.spec_from_file_location("bench_scoring_accuracy", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    scenario = replace(SCENARIOS["5% wild scores"], n_works=36, n_raters=12, n_categories=3, contamination=0.1,
                       log_scale_sd=1e-4)
    p = simulate_panel(scenario, rng=np.random.default_rng(3))
    known = bench.bayes_posterior_mean(p, scenario)
    unknown = bench.bayes_posterior_mean_unknown_slopes(p, scenario, n_draws=2000)
    np.testing.assert_allclose(unknown, known, atol=0.02)
