"""Ranking within category, with rank bands and top-k probabilities.

Ranks are "min" ranks within each category (1 is best, tied scores share the lower
number). Uncertainty comes from a seeded parametric bootstrap of the work scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Ranking", "rank_within_category", "min_rank", "draw_min_ranks"]


@dataclass
class Ranking:
    """Ranks of works within their category.

    Attributes
    ----------
    rank : ndarray of int
        "min" rank within the category, 1 best.
    rank_low, rank_high : ndarray of int
        The ``band`` (e.g. 90%) interval of the rank across bootstrap draws; it always
        contains ``rank``.
    p_top_k : ndarray of float
        Share of draws in which the work ranks within the top ``top_k`` of its category.
    top_k : ndarray of int
        The cut-off used for each work's category.
    band : float
    n_draws : int
    """

    rank: np.ndarray
    rank_low: np.ndarray
    rank_high: np.ndarray
    p_top_k: np.ndarray
    top_k: np.ndarray
    band: float
    n_draws: int


TIE_TOLERANCE = 1e-9  # relative: scores this close are the same score computed two ways


def min_rank(score: np.ndarray) -> np.ndarray:
    """Rank with 1 for the highest score, ties sharing the lower number (scipy's "min" method).

    Scores within ``TIE_TOLERANCE`` (relative to the largest magnitude, at least 1) of the
    previous one count as tied, so two works with the same ratings stay tied whatever
    round-off the fit left in the last bits.
    """
    s = np.asarray(score, dtype=float)
    order = np.argsort(-s, kind="stable")
    ranked = s[order]
    start = np.zeros(s.size, dtype=np.int64)
    if s.size > 1:
        finite = np.abs(ranked[np.isfinite(ranked)])
        tol = TIE_TOLERANCE * max(1.0, float(finite.max()) if finite.size else 1.0)
        start[1:] = np.where(~(ranked[:-1] - ranked[1:] <= tol), np.arange(1, s.size), 0)
    np.maximum.accumulate(start, out=start)
    out = np.empty(s.size, dtype=np.int64)
    out[order] = start + 1
    return out


def rank_within_category(
    score, se=None, category=None, *, band: float = 0.9, top_k: int | None = None,
    n_draws: int | None = None, rng: np.random.Generator | None = None, rank_score=None,
) -> Ranking:
    """Rank works within category with a bootstrap rank band and P(top k).

    Parameters
    ----------
    score : array_like, shape (n_works,)
        Normalized work scores (higher is better).
    se : array_like, shape (n_works,), optional
        Standard errors of the scores; without them the band collapses to the rank.
        A ``nan`` standard error means unknown: that work's band is the whole category.
    category : array_like, shape (n_works,), optional
        Category of each work; all works form one category if omitted.
    band : float, default 0.9
        Coverage of the rank interval.
    top_k : int or array_like of int, optional
        Cut-off for ``p_top_k``: one for every category, or one per work (the same for the
        works of a category; 0 allowed: nobody is in); default is 10% of each category (at
        least 1).
    n_draws : int, optional
        Bootstrap draws; default 1000, reduced for very large inputs so that at most
        about 1e7 simulated scores are ranked (never below 100: 100 draws for 100,000
        works, where the 5% and 95% quantiles still rest on five draws each; coverage is
        checked in tests/scoring/test_scoring_fast_paths.py).
    rng : numpy.random.Generator, optional
        Source of randomness; pass a seeded generator for reproducible bands.
    rank_score : array_like, shape (n_works,), optional
        Scores that decide ``rank`` when they differ from the ones the bands are drawn
        around, e.g. posterior means ranked with bands from the unshrunk estimates
        (``NormalizationResult.unshrunk_score``); the band is widened to contain the rank.

    Returns
    -------
    Ranking
        ``p_top_k`` is nan for a work whose standard error is unknown (nan), unless its
        whole category is within the cut-off (then 1).

    Notes
    -----
    Parametric bootstrap: each draw replaces every score by score + se * N(0, 1)
    independently and ranks the draw within category (Goldstein & Spiegelhalter 1996,
    "League tables and their limitations", *J. R. Statist. Soc. A* 159:385-443). It is
    O(n_draws * n log n) and ignores the correlation between works that share raters, so
    bands are approximate. ``rank_low``/``rank_high`` are the lower and upper
    (1 - band)/2 quantiles of the simulated ranks, widened if needed to contain ``rank``.

    References
    ----------
    .. [1] Goldstein, H., & Spiegelhalter, D. J. (1996). League tables and their limitations: statistical
       issues in comparisons of institutional performance. *Journal of the Royal Statistical Society, Series
       A*, 159, 385-443.

    Examples
    --------
    >>> r = rank_within_category([9.0, 7.0, 7.0, 3.0], [0.1, 0.1, 0.1, 0.1], ["a", "a", "a", "b"],
    ...                          rng=np.random.default_rng(0))
    >>> r.rank.tolist(), r.rank_low.tolist(), r.rank_high.tolist()
    ([1, 2, 2, 1], [1, 2, 2, 1], [1, 3, 3, 1])
    """
    score = np.asarray(score, dtype=float)
    if score.ndim != 1 or score.size == 0:
        raise ValueError("score must be a non-empty one-dimensional array")
    if not np.all(np.isfinite(score)):
        raise ValueError(f"score has a non-finite value at work {int(np.flatnonzero(~np.isfinite(score))[0]) + 1}")
    n = score.size
    se_arr = np.zeros(n) if se is None else np.asarray(se, dtype=float)
    if se_arr.shape != (n,):
        raise ValueError(f"se must have one value per work ({n}), got shape {se_arr.shape}")
    if np.any(se_arr < 0):
        raise ValueError("se must be non-negative")
    if not 0 < band < 1:
        raise ValueError(f"band must be between 0 and 1, got {band!r}")
    k_given = None
    if top_k is not None and np.ndim(top_k) == 0:
        if top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {top_k!r}")
    elif top_k is not None:
        k_given = np.asarray(top_k)
        if k_given.shape != (n,) or not np.issubdtype(k_given.dtype, np.integer) or np.any(k_given < 0):
            raise ValueError(f"top_k must be one integer, or one non-negative integer per work ({n})")
    cat = np.zeros(n, dtype=np.intp) if category is None else np.unique(np.asarray(category, dtype=object).astype(str), return_inverse=True)[1]
    if cat.shape != (n,):
        raise ValueError(f"category must have one value per work ({n})")
    if n_draws is None:
        n_draws = int(min(1000, max(100, 10_000_000 // n)))
    if n_draws < 1:
        raise ValueError("n_draws must be positive")
    rng = np.random.default_rng() if rng is None else rng
    ranked_by = score if rank_score is None else np.asarray(rank_score, dtype=float)
    if ranked_by.shape != (n,) or not np.all(np.isfinite(ranked_by)):
        raise ValueError(f"rank_score must have one finite value per work ({n})")
    unknown = ~np.isfinite(se_arr)
    se_draw = np.where(unknown, 0.0, se_arr)

    rank = np.empty(n, dtype=np.int64)
    low = np.empty(n, dtype=np.int64)
    high = np.empty(n, dtype=np.int64)
    p_top = np.empty(n)
    k_used = np.empty(n, dtype=np.int64)
    q_lo, q_hi = (1 - band) / 2, 1 - (1 - band) / 2
    for c in range(int(cat.max()) + 1):
        members = np.flatnonzero(cat == c)
        m = members.size
        s, e = score[members], se_draw[members]
        rank[members] = min_rank(ranked_by[members])
        if k_given is not None:
            if np.any(k_given[members] != k_given[members[0]]):
                raise ValueError("top_k must be the same for every work of a category")
            k = min(int(k_given[members[0]]), m)
        else:
            k = max(1, int(np.ceil(0.1 * m))) if top_k is None else min(top_k, m)
        k_used[members] = k
        in_top = np.zeros(m)
        ranks_all = np.empty((n_draws, m), dtype=np.int32)
        chunk = max(1, 2_000_000 // m)
        for start in range(0, n_draws, chunk):
            b = min(chunk, n_draws - start)
            # single precision halves the sorting time; it only matters for works whose
            # drawn scores agree to seven digits, which then share a rank in that draw
            noise = rng.standard_normal((b, m))
            noise *= e[None, :]
            noise += s[None, :]  # s + e * z, as before, without the temporaries
            r = draw_min_ranks(noise.astype(np.float32))
            ranks_all[start:start + b] = r
            in_top += np.sum(r <= k, axis=0)
        lo = np.quantile(ranks_all, q_lo, axis=0, method="lower").astype(np.int64)
        hi = np.quantile(ranks_all, q_hi, axis=0, method="higher").astype(np.int64)
        low[members] = np.minimum(lo, rank[members])
        high[members] = np.maximum(hi, rank[members])
        p_top[members] = in_top / n_draws
        unk = unknown[members]
        low[members[unk]], high[members[unk]] = 1, m
        # no standard error, no probability: unless every work of the category is within the cut
        p_top[members[unk]] = 1.0 if k >= m else np.nan
    return Ranking(rank, low, high, p_top, k_used, band, n_draws)


_SIGN = np.uint32(0x80000000)
_LOW32 = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)


def draw_min_ranks(draws: np.ndarray) -> np.ndarray:
    """"Min" ranks (1 for the highest, ties sharing the lower number) within each row of
    ``draws`` (float32, shape (n_draws, m), finite), as int32.

    One sort per row of 64-bit keys that carry the value and its column: the float's bits
    mapped so that unsigned order is descending value order, above the column index. The
    sorted keys give each row's order and its values at once (an ``argsort`` and a gather
    cost three times as much), and a tie is two neighbouring keys with the same upper half.
    Rows without a tie (nearly all: float32 draws from continuous noise) take their ranks
    from their positions; the others go through the running "first of its tie" maximum.
    The ranks are the same as ranking each row by ``argsort`` (any tie order gives the
    same min ranks); tests/scoring/test_scoring_ranking.py compares the two.
    """
    b, m = draws.shape
    bits = (draws + np.float32(0.0)).view(np.uint32)  # + 0.0 makes -0.0 the same key as 0.0
    # ascending unsigned order of floats: negative ones bit-flipped, positive ones sign-set;
    # the complement of that is descending
    descending = np.where(bits >= _SIGN, bits, ~(bits | _SIGN))
    keys = descending.astype(np.uint64)
    keys <<= _SHIFT
    keys |= np.arange(m, dtype=np.uint64)[None, :]
    keys.sort(axis=1)
    order = (keys & _LOW32).astype(np.intp)
    value = (keys >> _SHIFT).astype(np.uint32)
    position = np.broadcast_to(np.arange(1, m + 1, dtype=np.int32), (b, m))
    tied = value[:, 1:] == value[:, :-1]
    rows_with_ties = np.flatnonzero(tied.any(axis=1))
    if rows_with_ties.size:
        position = position.copy()
        starts = np.where(tied[rows_with_ties], 0, np.arange(2, m + 1, dtype=np.int32)[None, :])
        first = np.ones((rows_with_ties.size, m), dtype=np.int32)
        first[:, 1:] = starts
        np.maximum.accumulate(first, axis=1, out=first)
        position[rows_with_ties] = first
    ranks = np.empty((b, m), dtype=np.int32)
    order += (np.arange(b, dtype=np.intp) * m)[:, None]
    ranks.ravel()[order.ravel()] = position.ravel()
    return ranks
