"""Ranking within category, with rank bands and top-k probabilities.

Ranks are "min" ranks within each category (1 is best, tied scores share the lower
number). Uncertainty comes from a seeded parametric bootstrap of the work scores.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

__all__ = ["Ranking", "rank_within_category", "min_rank", "draw_min_ranks", "draw_rank_counts"]


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

    The draws come from ``rng`` category by category (in sorted category order), in chunks
    of at most about ``CHUNK_SCORES`` simulated scores; while a core is idle, other threads
    (:func:`ranking_threads`) rank each chunk while the next is drawn. A category of up to
    ``COUNT_TABLE_MAX`` works tallies how often each work takes each rank
    (:func:`draw_rank_counts`) and reads the quantiles off the running counts; a larger one keeps every draw's ranks and partitions
    them. Both give exactly the quantiles ``np.quantile(..., method="lower"/"higher")`` of
    every draw's ranks (tests/scoring/test_ranking_bands.py), whatever the threads.

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
    # the draws' (0-based) order statistics that np.quantile's "lower" and "higher" methods take
    index = np.arange(n_draws)
    t_lo = int(np.quantile(index, (1 - band) / 2, method="lower"))
    t_hi = int(np.quantile(index, 1 - (1 - band) / 2, method="higher"))
    groups = [np.flatnonzero(cat == c) for c in range(int(cat.max()) + 1)]
    for members in groups:
        m = members.size
        rank[members] = min_rank(ranked_by[members])
        if k_given is not None:
            if np.any(k_given[members] != k_given[members[0]]):
                raise ValueError("top_k must be the same for every work of a category")
            k = min(int(k_given[members[0]]), m)
        else:
            k = max(1, int(np.ceil(0.1 * m))) if top_k is None else min(top_k, m)
        k_used[members] = k

    def settle(members: np.ndarray, chunks: list[Future]) -> None:
        m, k = members.size, int(k_used[members[0]])
        lo, hi, in_top = _tally([chunk.result() for chunk in chunks], counted=m <= COUNT_TABLE_MAX, k=k,
                                t_lo=t_lo, t_hi=t_hi)
        low[members] = np.minimum(lo, rank[members])
        high[members] = np.maximum(hi, rank[members])
        p_top[members] = in_top / n_draws
        unk = unknown[members]
        low[members[unk]], high[members[unk]] = 1, m
        # no standard error, no probability: unless every work of the category is within the cut
        p_top[members[unk]] = 1.0 if k >= m else np.nan

    with _Ranker() as ranker:
        # the draws in the generator's order (category by category, chunk by chunk, as always),
        # each chunk ranked by another thread meanwhile; a category is settled once the next
        # one's draws are on their way, so at most two categories' tallies are held
        previous = None
        for members in groups:
            chunks = [ranker.submit(draws, counted=members.size <= COUNT_TABLE_MAX)
                      for draws in _draws(rng, score[members], se_draw[members], n_draws)]
            if previous is not None:
                settle(*previous)
            previous = members, chunks
        settle(*previous)
    return Ranking(rank, low, high, p_top, k_used, band, n_draws)


_LOW32 = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)
#: Draws per chunk: at most about this many simulated scores are held and ranked at once.
CHUNK_SCORES = 2_000_000
#: A category of at most this many works tallies its ranks in a (works x ranks) table of counts
#: (8 MB at 1,024 works) instead of keeping every draw's ranks; both give the same bands.
COUNT_TABLE_MAX = 1024
#: Threads that rank the draws while the calling thread draws the next ones (numpy's sorts and
#: array arithmetic release the GIL), when the machine has a core to spare (:func:`ranking_threads`).
RANKING_THREADS = 2
_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def ranking_threads() -> int:
    """How many threads rank the draws now: ``RANKING_THREADS`` while the 1-minute load average
    leaves a core to spare (below the cores less a half), else 1, in the calling thread.

    With every core busy, a second thread makes the bands slower, not faster: each hand-over of
    the GIL between the drawing and the ranking thread waits for a descheduled thread (bands of
    a 5,000-work round 480 ms wall with two threads, 246 ms with one, at load 6.7 on 2 cores)."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return 1
    return max(1, min(RANKING_THREADS, _CORES)) if load < _CORES - 0.5 else 1


def _draws(rng: np.random.Generator, s: np.ndarray, e: np.ndarray, n_draws: int):
    """The category's simulated scores s + e * N(0, 1), float32, chunk by chunk of draws."""
    m = s.size
    chunk = max(1, CHUNK_SCORES // m)
    for start in range(0, n_draws, chunk):
        # single precision halves the sorting time; it only matters for works whose
        # drawn scores agree to seven digits, which then share a rank in that draw
        noise = rng.standard_normal((min(chunk, n_draws - start), m))
        noise *= e[None, :]
        noise += s[None, :]  # s + e * z, as before, without the temporaries
        yield noise.astype(np.float32)


class _Ranker:
    """Ranks chunks of draws in other threads (:func:`ranking_threads`), a few chunks ahead at most
    (memory), or in the calling thread."""

    def __init__(self, threads: int | None = None):
        self.threads = ranking_threads() if threads is None else threads
        self.pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None
        self.room = threading.BoundedSemaphore(2 * self.threads)

    def __enter__(self) -> "_Ranker":
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, draws: np.ndarray, *, counted: bool) -> Future:
        """A future of the chunk's rank counts (``counted``) or its ranks."""
        rank = draw_rank_counts if counted else draw_min_ranks
        if self.pool is None:
            done: Future = Future()
            done.set_result(rank(draws))
            return done
        self.room.acquire()
        future = self.pool.submit(rank, draws)
        future.add_done_callback(lambda _: self.room.release())
        return future


def _tally(chunks: list[np.ndarray], *, counted: bool, k: int, t_lo: int, t_hi: int) -> tuple[np.ndarray, ...]:
    """Each work's draws' order statistics ``t_lo`` and ``t_hi`` (0-based) of its ranks, and the
    number of draws in which it ranks within ``k``: from the chunks' rank counts (``counted``:
    the first rank whose running count passes t is the t-th smallest), else their ranks."""
    if counted:
        cum = np.cumsum(sum(chunks), axis=1)
        return np.sum(cum <= t_lo, axis=1), np.sum(cum <= t_hi, axis=1), cum[:, k]
    ranks = np.concatenate(chunks)
    in_top = np.sum(ranks <= k, axis=0)
    ranks.partition([t_lo, t_hi], axis=0)
    return ranks[t_lo], ranks[t_hi], in_top


def _sorted_keys(draws: np.ndarray, tags: np.ndarray) -> np.ndarray:
    """Each row's 64-bit keys, sorted: the float's bits mapped so that unsigned order is
    descending value order, above the column's tag."""
    bits = (draws + np.float32(0.0)).view(np.int32)  # + 0.0 makes -0.0 the same key as 0.0
    # negative floats keep their bits (sign set: the larger the magnitude, the later), positive
    # ones flip the bits below the sign (the larger, the earlier)
    flip = ~(bits >> 31)
    flip &= 0x7FFFFFFF
    flip ^= bits
    keys = flip.view(np.uint32).astype(np.uint64)
    keys <<= _SHIFT
    keys |= tags[None, :]
    keys.sort(axis=1)
    return keys


def _min_positions(keys: np.ndarray) -> np.ndarray:
    """The min rank of each sorted key in its row: its position (1-based), or its tie's first."""
    b, m = keys.shape
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
    return position


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
    keys = _sorted_keys(draws, np.arange(m, dtype=np.uint64))
    position = _min_positions(keys)
    order = (keys & _LOW32).view(np.intp)
    order += (np.arange(b, dtype=np.intp) * m)[:, None]
    ranks = np.empty((b, m), dtype=np.int32)
    ranks.ravel()[order.ravel()] = position.ravel()
    return ranks


def draw_rank_counts(draws: np.ndarray) -> np.ndarray:
    """How often each column of ``draws`` (as :func:`draw_min_ranks`) takes each "min" rank:
    ``counts[j, r]`` rows in which column j ranks r (r from 1 to m; ``counts[:, 0]`` is 0).

    The same sorted keys as :func:`draw_min_ranks`, each column tagged with its row of the
    table, so a sorted key's tag plus its rank is where it counts: one ``bincount``, no ranks
    scattered back into place. m (m + 1) must stay below 2**31.
    """
    b, m = draws.shape
    if m * (m + 1) >= 2**31:
        raise ValueError(f"draw_rank_counts takes at most 46,340 columns, got {m}")
    keys = _sorted_keys(draws, np.arange(m, dtype=np.uint64) * np.uint64(m + 1))
    cell = (keys & _LOW32).astype(np.int32)
    cell += _min_positions(keys)
    return np.bincount(cell.ravel(), minlength=m * (m + 1)).reshape(m, m + 1)
