"""The rank bands as tallied now (rank counts, chunks ranked in threads) against the plain computation:
every draw's ranks kept, then ``np.quantile`` per work, as ``rank_within_category`` did before."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from scoring import ranking
from scoring.ranking import draw_min_ranks, draw_rank_counts, rank_within_category


def reference(score, se, category, *, band, top_k, n_draws, seed):
    """Bands, P(top k) and the cut per work: one (draws x works) table of ranks per category
    (scipy's "min" ranks of the float32 draws), its quantiles by ``np.quantile``."""
    rng = np.random.default_rng(seed)
    names = np.unique(np.asarray(category).astype(str), return_inverse=True)[1]
    low, high = np.empty(score.size, np.int64), np.empty(score.size, np.int64)
    p, k_used = np.empty(score.size), np.empty(score.size, np.int64)
    unknown = ~np.isfinite(se)
    for c in range(names.max() + 1):
        members = np.flatnonzero(names == c)
        m = members.size
        draws = rng.standard_normal((n_draws, m)) * np.where(unknown, 0.0, se)[members] + score[members]
        ranks = stats.rankdata(-draws.astype(np.float32), method="min", axis=1)
        rank = stats.rankdata(-score[members], method="min")
        k = min(int(top_k[members[0]]), m)
        low[members] = np.minimum(np.quantile(ranks, (1 - band) / 2, axis=0, method="lower"), rank)
        high[members] = np.maximum(np.quantile(ranks, 1 - (1 - band) / 2, axis=0, method="higher"), rank)
        p[members] = np.sum(ranks <= k, axis=0) / n_draws
        low[members[unknown[members]]], high[members[unknown[members]]] = 1, m
        p[members[unknown[members]]] = 1.0 if k >= m else np.nan
        k_used[members] = k
    return low, high, p, k_used


def panel(seed: int, n: int, n_categories: int):
    """Scores with many ties (rounded), standard errors with zeros and unknowns, per-category cuts."""
    rng = np.random.default_rng(seed)
    score = np.round(rng.normal(size=n), int(rng.integers(0, 3)))
    se = np.abs(rng.normal(size=n)) * rng.choice([0.001, 0.3, 2.0])
    se[rng.random(n) < 0.05] = 0.0
    se[rng.random(n) < 0.02] = np.nan
    category = rng.integers(0, n_categories, size=n).astype(str)
    cuts = rng.integers(0, 30, size=n_categories)[np.unique(category, return_inverse=True)[1]]
    return score, se, category, cuts


@pytest.mark.parametrize("seed, n, n_categories, n_draws, band", [
    (0, 40, 3, 1000, 0.9), (1, 700, 2, 400, 0.9), (2, 1500, 1, 300, 0.8), (3, 5, 2, 7, 0.5),
    (4, 2600, 2, 1000, 0.95), (5, 300, 11, 1, 0.9),
])
@pytest.mark.parametrize("threads", [1, 2])
def test_bands_are_the_plain_quantiles_of_every_draw(monkeypatch, seed, n, n_categories, n_draws, band, threads):
    """Counts and kept ranks, one thread or several, several chunks per category or one (1,300-work
    categories: both paths): the same bands, probabilities and cuts as the plain computation."""
    monkeypatch.setattr(ranking, "ranking_threads", lambda: threads)
    monkeypatch.setattr(ranking, "CHUNK_SCORES", 200_000)  # several chunks per category
    score, se, category, cuts = panel(seed, n, n_categories)
    got = rank_within_category(score, se, category, band=band, top_k=cuts, n_draws=n_draws,
                               rng=np.random.default_rng(seed))
    low, high, p, k_used = reference(score, se, category, band=band, top_k=cuts, n_draws=n_draws, seed=seed)
    np.testing.assert_array_equal(got.rank_low, low)
    np.testing.assert_array_equal(got.rank_high, high)
    np.testing.assert_array_equal(got.p_top_k, p)
    np.testing.assert_array_equal(got.top_k, k_used)


def test_counted_and_kept_ranks_give_the_same_bands(monkeypatch):
    """A category counted in a table and the same category with every draw's ranks kept."""
    score, se, category, cuts = panel(7, 900, 3)
    counted = rank_within_category(score, se, category, top_k=cuts, rng=np.random.default_rng(7))
    monkeypatch.setattr(ranking, "COUNT_TABLE_MAX", 0)
    kept = rank_within_category(score, se, category, top_k=cuts, rng=np.random.default_rng(7))
    for name in ("rank", "rank_low", "rank_high", "p_top_k", "top_k"):
        np.testing.assert_array_equal(getattr(counted, name), getattr(kept, name))


def test_rank_counts_are_the_histogram_of_the_ranks():
    """draw_rank_counts tallies draw_min_ranks, ties (and -0.0 beside 0.0) included."""
    rng = np.random.default_rng(3)
    draws = np.round(rng.normal(size=(500, 60)), 1).astype(np.float32)
    draws[:, 7] = -0.0
    draws[:, 8] = 0.0
    ranks = draw_min_ranks(draws)
    np.testing.assert_array_equal(ranks, stats.rankdata(-draws, method="min", axis=1))
    counts = draw_rank_counts(draws)
    assert counts.shape == (60, 61) and not counts[:, 0].any()
    for column in range(60):
        np.testing.assert_array_equal(counts[column], np.bincount(ranks[:, column], minlength=61))


def test_rank_counts_refuse_a_table_too_large_for_its_index():
    with pytest.raises(ValueError, match="46,340"):
        draw_rank_counts(np.zeros((1, 46_341), dtype=np.float32))


def test_a_failing_chunk_raises_in_the_caller(monkeypatch):
    """An error while ranking in a thread reaches the caller (no band is silently missing)."""
    monkeypatch.setattr(ranking, "ranking_threads", lambda: 2)

    def broken(draws):
        raise MemoryError("no room for the keys")

    monkeypatch.setattr(ranking, "draw_rank_counts", broken)
    with pytest.raises(MemoryError, match="no room"):
        rank_within_category(np.arange(10.0), np.ones(10), rng=np.random.default_rng(0))


@pytest.mark.parametrize("load, cores, threads", [(0.3, 2, 2), (1.4, 2, 2), (1.5, 2, 1), (6.7, 2, 1), (0.2, 1, 1),
                                                  (2.9, 4, 2)])
def test_a_second_thread_only_while_a_core_is_idle(monkeypatch, load, cores, threads):
    monkeypatch.setattr(ranking.os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(ranking, "_CORES", cores)
    assert ranking.ranking_threads() == threads
