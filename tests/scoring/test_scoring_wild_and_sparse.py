"""Issue 14: wild scores are rejected and flagged; rater priors are estimated from the data.

Small versions of the simulator's "5% wild scores (0 or 10)" and sparse scenarios, so the
suite stays fast; the full-size figures are in docs/scoring.md.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from scoring.affine import biweight_weights, fit_affine
from scoring.simulate import SCENARIOS, Scenario, evaluate, oracle_scores, simulate_panel, top_recall

WILD = replace(SCENARIOS["5% wild scores (0 or 10)"], n_works=240, n_categories=4, n_raters=24)


def test_wild_scores_sit_at_both_ends_and_the_oracle_sees_the_clean_ratings():
    p = simulate_panel(WILD, rng=np.random.default_rng(0))
    assert 0.03 < p.wild.mean() < 0.07
    assert set(np.unique(p.score[p.wild]).tolist()) == {0.0, 10.0}
    np.testing.assert_array_equal(p.score[~p.wild], p.clean_score[~p.wild])
    # the clean oracle ignores what replaced the wild ratings; the plain one does not
    dirty = oracle_scores(p, clean=False)
    clean = oracle_scores(p)
    assert np.std(clean - p.quality) < np.std(dirty - p.quality)


def test_criteria_are_rounded_clipped_and_weighted():
    sc = SCENARIOS["sparse quarter, criteria"]
    p = simulate_panel(sc, rng=np.random.default_rng(1))
    assert p.score.min() >= 0 and p.score.max() <= 10
    # weighted means of whole points with weights 0.4/0.3/0.2/0.1 sit on a 0.1 grid
    np.testing.assert_allclose(p.score * 10, np.round(p.score * 10), atol=1e-9)
    per_rater = np.bincount(p.rater_id)
    assert 30 <= np.median(per_rater) <= 40 and per_rater.max() <= 40


def test_wild_ratings_are_rejected_and_flagged():
    hits, false, n_wild, big = 0, 0, 0, 0
    for seed in range(3):
        p = simulate_panel(WILD, rng=np.random.default_rng(seed))
        res = fit_affine(p.work_id, p.rater_id, p.score)
        rej = res.diagnostics.rejected
        far = p.wild & (np.abs(p.score - p.clean_score) > 4)  # wild and far from what the rater meant
        big += far.sum()
        hits += (rej & far).sum()
        false += (rej & ~p.wild).sum()
        n_wild += p.wild.sum()
        assert np.all(res.diagnostics.robust_weight[rej] < 0.5)
        assert any("rejected as wild" in n for n in res.notes)
    assert hits >= 0.9 * big
    assert false <= 0.02 * 3 * len(p.score)


def test_rejecting_wild_scores_beats_huber_alone():
    seeds = range(6)
    default = {m.method: m for m in evaluate(WILD, methods=["affine"], seeds=seeds)}
    huber = {m.method: m for m in evaluate(WILD, methods=["affine"], seeds=seeds,
                                           options={"affine": {"redescending": None}})}
    assert default["affine"].recall > huber["affine"].recall
    assert default["affine"].recall >= 0.88 * default["oracle"].recall


def test_clean_panel_rejects_almost_nothing():
    p = simulate_panel(Scenario(n_works=240, n_categories=4, n_raters=24), rng=np.random.default_rng(4))
    res = fit_affine(p.work_id, p.rater_id, p.score)
    assert res.diagnostics.rejected.mean() < 0.01


def test_biweight_weights():
    z = np.array([0.0, 1.0, -4.685, 10.0])
    np.testing.assert_allclose(biweight_weights(z), [1.0, (1 - (1 / 4.685) ** 2) ** 2, 0.0, 0.0])
    p = simulate_panel(WILD, rng=np.random.default_rng(2))
    res = fit_affine(p.work_id, p.rater_id, p.score, redescending="biweight")
    assert np.all(res.diagnostics.robust_weight[res.diagnostics.rejected] == 0)
    assert (res.diagnostics.rejected & p.wild).sum() >= 0.5 * p.wild.sum()
    with pytest.raises(ValueError, match="redescending must be one of"):
        fit_affine(p.work_id, p.rater_id, p.score, redescending="tukey")


@pytest.mark.parametrize("name", ["reference", "wide scale use", "sparse national quarter"])
def test_rater_priors_are_estimated_near_the_truth(name):
    sc = SCENARIOS[name]
    est_a, est_c, true_a, true_b = [], [], [], []
    for seed in range(3):
        p = simulate_panel(sc, rng=np.random.default_rng(seed))
        res = fit_affine(p.work_id, p.rater_id, p.score)
        est_a.append(res.prior["scale_sd"])
        est_c.append(res.prior["severity_sd"])
        true_a.append(np.std(p.rater_scale))
        true_b.append(np.std(p.rater_bias))
    assert np.mean(est_a) == pytest.approx(np.mean(true_a), rel=0.3)
    assert np.mean(est_c) == pytest.approx(np.mean(true_b), rel=0.2)


def test_fixed_priors_are_still_available():
    p = simulate_panel(Scenario(n_works=120, n_categories=4, n_raters=24), rng=np.random.default_rng(3))
    res = fit_affine(p.work_id, p.rater_id, p.score, ridge=1.0, scale_prior_sd=0.3)
    assert res.prior["scale_sd"] == 0.3
    assert res.prior["severity_sd"] == pytest.approx(res.sigma, rel=0.5)


def test_sparse_criteria_scenario_small():
    sc = SCENARIOS["sparse quarter, criteria"]
    out = {m.method: m for m in evaluate(sc, methods=["raw", "zscore", "affine"], seeds=range(3))}
    assert out["affine"].recall > max(out["raw"].recall, out["zscore"].recall)
    # three seeds are noisy (0.90 x oracle here; 0.97 over seeds 0-19 in docs/scoring.md)
    assert out["affine"].recall >= 0.85 * out["oracle"].recall
    assert top_recall(np.arange(5.0), np.arange(5.0), np.zeros(5)) == 1.0


def test_shrinkage_keeps_the_order_of_equally_measured_works_and_pulls_noisy_ones_in():
    from scoring.affine import shrink_within_groups

    rng = np.random.default_rng(0)
    score = rng.normal(6, 1, 40)
    cat = np.repeat(["a", "b"], 20)
    comp = np.zeros(40, dtype=int)
    out, sd, n = shrink_within_groups(score, np.full(40, 0.3), cat, comp)
    assert n == 2
    for c in ("a", "b"):
        i = cat == c
        np.testing.assert_array_equal(np.argsort(out[i]), np.argsort(score[i]))
    assert np.all(sd < 0.3)
    # a work measured badly moves toward its category's mean more than its equally scored twin
    se = np.full(40, 0.3)
    score2 = score.copy()
    score2[1] = score2[0] = score[:20].max() + 1
    se[1] = 1.5
    out2, _, _ = shrink_within_groups(score2, se, cat, comp)
    assert out2[1] < out2[0]
    # groups under 5 works are left alone
    out3, sd3, n3 = shrink_within_groups(score[:4], np.full(4, 0.3), np.array(["a"] * 4), np.zeros(4, dtype=int))
    assert n3 == 0 and np.array_equal(out3, score[:4]) and np.all(sd3 == 0.3)


def test_rank_score_ranks_by_one_score_and_draws_around_another():
    from scoring.ranking import rank_within_category

    draws_around = np.array([5.0, 6.0, 7.0, 8.0])
    ranked_by = np.array([5.0, 6.0, 7.6, 7.5])  # 3rd and 4th swap
    r = rank_within_category(draws_around, np.full(4, 0.01), None, rank_score=ranked_by,
                             rng=np.random.default_rng(0))
    assert r.rank.tolist() == [4, 3, 1, 2]
    assert np.all((r.rank_low <= r.rank) & (r.rank <= r.rank_high))  # widened to contain the rank
    with pytest.raises(ValueError, match="rank_score"):
        rank_within_category(draws_around, None, None, rank_score=[1.0, 2.0])


def test_affine_shrinks_within_category_and_keeps_the_unshrunk_estimates():
    p = simulate_panel(Scenario(n_works=120, n_categories=4, n_raters=24), rng=np.random.default_rng(5))
    res = fit_affine(p.work_id, p.rater_id, p.score, categories=p.category)
    plain = fit_affine(p.work_id, p.rater_id, p.score, categories=p.category, shrink_works=False)
    np.testing.assert_allclose(res.unshrunk_score, plain.score)
    np.testing.assert_allclose(res.unshrunk_se, plain.se)
    assert np.all(res.se <= plain.se + 1e-12)
    assert any("posterior means" in n for n in res.notes)
    assert plain.unshrunk_score is None
