"""Simulator sanity: the truth is recoverable and bias correction helps."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.simulate import Scenario, evaluate, oracle_scores, simulate_panel, top_recall


def test_panel_shape_and_truth():
    sc = Scenario(n_works=120, n_raters=24)
    p = simulate_panel(sc, rng=np.random.default_rng(0))
    assert len(p.score) == 120 * 4
    # every (work, rater) pair at most once, raters stay inside their two categories
    pairs = set(zip(p.work_id.tolist(), p.rater_id.tolist()))
    assert len(pairs) == len(p.score)
    cats_per_rater = [len(set(p.category[p.rater_id == r].tolist())) for r in range(24)]
    assert max(cats_per_rater) <= 2
    # the oracle removes the rater effects exactly up to noise
    err = oracle_scores(p) - p.quality
    assert np.std(err) < sc.noise_sd / np.sqrt(4) * 1.5


def test_same_seed_same_panel():
    a = simulate_panel(Scenario(n_works=60, n_raters=24), rng=np.random.default_rng(3))
    b = simulate_panel(Scenario(n_works=60, n_raters=24), rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a.score, b.score)


def test_top_recall():
    truth = np.arange(20.0)
    cat = np.repeat([0, 1], 10)
    assert top_recall(truth, truth, cat) == 1.0
    assert top_recall(-truth, truth, cat) == 0.0


def test_additive_beats_raw_on_a_small_biased_scenario():
    sc = Scenario(n_works=240, n_categories=4, n_raters=24, bias_sd=1.0, log_scale_sd=0.0)
    res = {m.method: m for m in evaluate(sc, methods=["raw", "additive"], seeds=range(4))}
    assert res["additive"].tau > res["raw"].tau + 0.05
    assert res["additive"].recall >= res["raw"].recall
    assert res["oracle"].tau >= res["additive"].tau - 0.01


def test_bad_scenario():
    with pytest.raises(ValueError, match="raters for 4 ratings"):
        simulate_panel(Scenario(n_works=12, n_categories=6, n_raters=6), rng=np.random.default_rng(0))
