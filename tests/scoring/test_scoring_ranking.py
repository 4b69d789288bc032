"""Ranking within category, rank bands and top-k probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.ranking import min_rank, rank_within_category


def test_min_rank_ties_share_lower_number():
    assert min_rank([7.0, 9.0, 7.0, 3.0, 9.0]).tolist() == [3, 1, 3, 5, 1]


def test_min_rank_treats_round_off_as_a_tie_but_not_real_gaps():
    # 0.1 + 0.2 and 0.3 are the same score computed two ways; 1e-6 apart is a real difference
    assert min_rank([0.1 + 0.2, 0.3, 0.3 - 1e-6, np.nan]).tolist() == [1, 1, 3, 4]
    assert min_rank([1e6 + 1e-4, 1e6]).tolist() == [1, 1]  # relative to the scale of the scores
    assert min_rank([8.0 + 1e-7, 8.0]).tolist() == [1, 2]


def test_rank_within_category_and_ties():
    r = rank_within_category([5.0, 8.0, 8.0, 1.0, 2.0], category=["a", "a", "a", "b", "b"])
    assert r.rank.tolist() == [3, 1, 1, 2, 1]
    # without standard errors the band collapses onto the rank
    assert r.rank_low.tolist() == r.rank.tolist() and r.rank_high.tolist() == r.rank.tolist()


def test_band_reproducible_with_seed_and_contains_rank():
    rng = np.random.default_rng(0)
    score = rng.normal(size=50)
    se = np.full(50, 0.3)
    cat = np.repeat(["a", "b"], 25)
    r1 = rank_within_category(score, se, cat, rng=np.random.default_rng(42))
    r2 = rank_within_category(score, se, cat, rng=np.random.default_rng(42))
    r3 = rank_within_category(score, se, cat, rng=np.random.default_rng(43))
    for field in ("rank_low", "rank_high", "p_top_k"):
        np.testing.assert_array_equal(getattr(r1, field), getattr(r2, field))
    assert not np.array_equal(r1.p_top_k, r3.p_top_k)
    assert np.all(r1.rank_low <= r1.rank) and np.all(r1.rank <= r1.rank_high)
    assert r1.top_k.tolist() == [3] * 50  # 10% of 25, rounded up
    # expected number of works in the top k equals k in every draw
    assert r1.p_top_k[:25].sum() == pytest.approx(3.0)


def test_p_top_k_matches_normal_theory_for_two_works():
    # P(work 0 beats work 1) = Phi(diff / sqrt(se0^2 + se1^2)) = Phi(1) = 0.8413
    r = rank_within_category([1.0, 0.0], [np.sqrt(0.5), np.sqrt(0.5)], top_k=1, n_draws=20_000,
                             rng=np.random.default_rng(1))
    assert r.p_top_k[0] == pytest.approx(0.8413, abs=0.01)
    assert r.rank_low.tolist() == [1, 1] and r.rank_high.tolist() == [2, 2]


def test_band_width_grows_with_se():
    score = np.linspace(0, 10, 30)
    narrow = rank_within_category(score, np.full(30, 0.1), rng=np.random.default_rng(0))
    wide = rank_within_category(score, np.full(30, 2.0), rng=np.random.default_rng(0))
    assert np.mean(wide.rank_high - wide.rank_low) > np.mean(narrow.rank_high - narrow.rank_low) + 3


def test_unknown_se_gives_whole_category_band():
    r = rank_within_category([3.0, 2.0, 1.0], [0.1, np.nan, 0.1], rng=np.random.default_rng(0))
    assert (r.rank_low[1], r.rank_high[1]) == (1, 3)


@pytest.mark.parametrize("kwargs, message", [
    (dict(score=[]), "non-empty"),
    (dict(score=[1.0, np.nan]), "non-finite"),
    (dict(score=[1.0, 2.0], se=[0.1]), "one value per work"),
    (dict(score=[1.0, 2.0], band=1.5), "band"),
    (dict(score=[1.0, 2.0], top_k=0), "top_k"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rank_within_category(**kwargs)


def _argsort_min_ranks(draws):
    """The row ranks as the bands computed them before ``draw_min_ranks`` (argsort, gather,
    running first-of-tie, scatter): the reference the faster ranks must equal exactly."""
    b, m = draws.shape
    order = np.argsort(-draws, axis=1)
    ranked = np.take_along_axis(draws, order, axis=1)
    start = np.zeros((b, m), dtype=np.int64)
    start[:, 1:] = np.where(ranked[:, 1:] != ranked[:, :-1], np.arange(1, m)[None, :], 0)
    np.maximum.accumulate(start, axis=1, out=start)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, start + 1, axis=1)
    return ranks


@pytest.mark.parametrize("seed", range(6))
def test_draw_min_ranks_equal_the_argsort_ranks(seed):
    from scoring.ranking import draw_min_ranks
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 300))
    draws = (rng.normal(size=m) + 0.3 * rng.standard_normal((50, m))).astype(np.float32)
    # ties: repeated values, a row of equal values, signed zeros, negatives and extremes
    draws[::3, : m // 2] = np.round(draws[::3, : m // 2], 1)
    draws[1] = 2.5
    draws[2, : min(m, 4)] = np.array([0.0, -0.0, -0.0, 0.0], dtype=np.float32)[: min(m, 4)]
    draws[4, :1] = np.float32(3.4e38)
    draws[5, :1] = np.float32(-3.4e38)
    assert np.array_equal(draw_min_ranks(draws), _argsort_min_ranks(draws))


def test_bands_are_the_argsort_bands_bit_for_bit(monkeypatch):
    """The faster row ranks change no band, probability or rank of a signed result."""
    import scoring.ranking as ranking
    rng = np.random.default_rng(7)
    n = 700
    score = np.round(rng.normal(7, 1, n), 1)  # many exact ties
    se = rng.uniform(0, 0.4, n)
    se[::50] = 0.0
    category = rng.choice(["a", "b", "c"], n)
    fast = rank_within_category(score, se, category, top_k=20, rng=np.random.default_rng(3))
    monkeypatch.setattr(ranking, "draw_min_ranks", _argsort_min_ranks)
    slow = rank_within_category(score, se, category, top_k=20, rng=np.random.default_rng(3))
    for field in ("rank", "rank_low", "rank_high", "p_top_k", "top_k"):
        assert np.array_equal(getattr(fast, field), getattr(slow, field)), field
