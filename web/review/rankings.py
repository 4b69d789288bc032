"""A round's rankings from its submitted ratings: the numeric core's public functions, no SQL.

``compute_ranking`` turns the long-form criterion values of a round into weighted totals,
normalizes rater bias by the chosen method (each category by the method its ratings can
support, :mod:`scoring.support`), ranks within category with bands, and adds what the chair
reads beside the score: the raw mean, P(on the shortlist) from the same draws as the band,
per-rating residuals and flags, rater effects with approximate intervals, and per category the
method actually used and why. Every number is on the score scale or ``None`` where it cannot
be estimated. Each ranked item is a :class:`RankedItem` (a named tuple: attribute access, no
per-row dict); the result turns into plain JSON (the rows column-wise) so it can be cached in
the database (``RankingCache``) and shared by every app server.
"""
from __future__ import annotations

import functools
import gc
import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NamedTuple
from dataclasses import asdict, dataclass, field, fields

import numpy as np
from scipy import special

from scoring.normalize import normalize
from scoring.ranking import rank_within_category
from scoring.report import finite_or_none, finite_or_none_list, interval_on_scale, on_scale, spread_on_scale
from scoring.rules.shortlist import INTERVAL_Z
from scoring.totals import CriterionScale, weighted_totals

#: The rank band's coverage and the bootstrap seed: frozen with every signed result.
BAND = 0.9
SEED = 20250
#: The layout of the cached JSON; a cache entry of another layout is computed afresh.
#: 3: the rows column-wise (one list per field of RankedItem), and what the chair's pages derive
#: from a result (``derived``: the proposal, reliability, the model's outliers) stored beside it.
LAYOUT = 3
#: A robust weight below this is shown as "稳健降权" (down-weighted) with the weight
DOWNWEIGHT_BADGE = 0.5
#: Rater intervals: 95%, the slopes kept within the fit's own limits (log-slope in [-5, 5])
RATER_Z = 1.96
SLOPE_LIMITS = (math.exp(-5), math.exp(5))


@dataclass(frozen=True)
class RatingInput:
    """The long-form ratings of a round: one row per criterion of a submitted assignment."""

    assignment_id: Sequence[int]  # a list, or a numpy column as the round's reader gives it
    expert_id: Sequence[int]
    item_id: Sequence[int]  # Work.id, or DisseminationCase.id in a dissemination round
    criterion: Sequence[str]
    value: Sequence[float]
    confidence: dict[int, float] = field(default_factory=dict)  # assignment id → confidence


class RankedItem(NamedTuple):
    """One ranked item (a work, or a case in a dissemination round) of a round's ranking."""

    item_id: int
    title: str
    category: str
    score: float | None  # on the score scale; None where it cannot be estimated
    se: float | None
    rank: int  # within the category, 1 best, ties share the lower number
    rank_low: int  # the rank band (coverage ``params["band"]``)
    rank_high: int
    n_ratings: int
    raw_mean: float | None
    p_shortlist: float | None  # P(on the shortlist), None without a standard error
    disagreement: bool
    component: int  # the rater-work graph's component the item belongs to
    cut: int | None  # the category's cut in ranks (with slots), else None
    score_low: float | None  # the score's 90% interval
    score_high: float | None
    method_used: str  # the method the item's category was fitted with


#: The fields of RankedItem, in the order the cached columns are written and read.
ROW_FIELDS = RankedItem._fields


def rows_to_columns(rows: Sequence[RankedItem]) -> dict[str, list]:
    """Rows as one list per field (the cached layout: no key repeated per row)."""
    columns = list(zip(*rows)) if rows else [() for _ in ROW_FIELDS]
    return {name: list(values) for name, values in zip(ROW_FIELDS, columns)}


def rows_from_columns(columns: dict[str, list]) -> list[RankedItem]:
    """The inverse of :func:`rows_to_columns`."""
    return list(map(RankedItem._make, zip(*(columns[name] for name in ROW_FIELDS))))


@dataclass
class RoundRanking:
    """Everything the rankings, drill-down, diagnostics and shortlist pages show."""

    method: str
    params: dict
    rows: list[RankedItem]  # one per ranked item, sorted by category then rank
    raters: list[dict]
    # One entry per (item, expert): total and flags, stored column-wise as a JSON string so that
    # reading the cache for the rankings (which do not need them) never parses them.
    ratings_json: str = "{}"
    connected: bool = True
    n_components: int = 1
    message: str = ""
    notes: list[str] = field(default_factory=list)
    # one per category: {category, method_used, code, reason, checks} (scoring.support.CategoryMethod)
    categories: list[dict] = field(default_factory=list)
    # What the chair's pages derive from this result, derived once when it is computed for the
    # store (web.review.derived): {"proposal": …, "reliability": […], "outliers": […]}; {} when not.
    derived: dict = field(default_factory=dict)
    layout: int = LAYOUT

    def to_json(self) -> dict:
        """A JSON-able dict (for the cache): the rows column-wise, the other fields as they are,
        not deep-copied (the JSON encoder reads them once; ``asdict`` copied 170,000 values of a
        5,000-work round)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["rows"] = rows_to_columns(self.rows)
        return data

    @classmethod
    def from_json(cls, data: dict) -> "RoundRanking":
        """The inverse of :meth:`to_json`; TypeError for a cache entry of an older layout."""
        if data.get("layout") != LAYOUT:
            raise TypeError(f"ranking cached with layout {data.get('layout')!r}, not {LAYOUT}")
        return cls(**{**data, "rows": rows_from_columns(data["rows"])})

    @functools.cached_property
    def memo(self) -> dict:
        """What a reader makes of this result once and keeps while it lives (the API's serialized
        answers); a newer result is a new object with its own."""
        return {}

    @functools.cached_property
    def method_of(self) -> dict[str, dict]:
        """Category -> its entry of :attr:`categories`."""
        return {c["category"]: c for c in self.categories}

    @functools.cached_property
    def rating_columns(self) -> dict[str, list]:
        """Per-rating totals, residuals and flags, column by column (parsed on first use)."""
        return json.loads(self.ratings_json)

    @functools.cached_property
    def ratings(self) -> list[dict]:
        """Per-rating totals, residuals and flags, one dict per rating (built on first use)."""
        columns = self.rating_columns
        names = list(columns)
        return [dict(zip(names, values)) for values in zip(*columns.values())] if names else []

    @functools.cached_property
    def row_by_id(self) -> dict[int, RankedItem]:
        """Item id -> its row."""
        return {row.item_id: row for row in self.rows}

    def row(self, item_id: int) -> RankedItem | None:
        """The row of one item, or None when it has no ratings (O(1))."""
        return self.row_by_id.get(item_id)

    @functools.cached_property
    def by_category(self) -> dict[str, list[RankedItem]]:
        """Category -> its rows by rank (the rows' own order)."""
        groups: dict[str, list[RankedItem]] = {}
        for row in self.rows:
            groups.setdefault(row.category, []).append(row)
        return groups

    @functools.cached_property
    def disagreements(self) -> list[RankedItem]:
        """The items whose raters disagree more than the model expects."""
        return [row for row in self.rows if row.disagreement]


def _norm_cdf(z: np.ndarray) -> np.ndarray:
    return 0.5 * special.erfc(-z / math.sqrt(2))


def shortlist_cuts(score: np.ndarray, category: np.ndarray, *, slots: dict[str, int] | None,
                   threshold: float | None) -> np.ndarray:
    """Per item, its category's cut in ranks: the slots, or fewer when fewer items reach the floor.

    This is the proposal's cut when every item is eligible (scoring/rules/shortlist.py takes the
    best items up to the slots and never one below the floor).
    """
    cut = np.zeros(score.size, dtype=np.int64)
    for name in set(category.tolist()):
        members = np.flatnonzero(category == name)
        above = members.size if threshold is None else int(np.sum(score[members] >= threshold))
        cut[members] = min(int((slots or {}).get(name, 0)), above)
    return cut


def p_above(score: np.ndarray, se: np.ndarray, threshold: float) -> np.ndarray:
    """P(true score >= threshold) under score ± se (normal); nan where the se is not known."""
    with np.errstate(invalid="ignore", divide="ignore"):
        p = _norm_cdf((score - threshold) / se)
    return np.where(np.isfinite(se) & (se > 0), p, np.nan)


def _rater_rows(result, scales_span: tuple[float, float]) -> list[dict]:
    """Each rater's bias and scale with approximate 95% intervals, None where not estimable."""
    r = result.raters
    low, high = scales_span
    width = high - low
    bias_ok = np.isfinite(r.bias_se)
    bias = np.where(bias_ok, np.clip(r.bias, -width, width), np.nan)
    bias_low, bias_high = interval_on_scale(bias, RATER_Z * r.bias_se, -width, width)
    # the scale's interval on the log scale (delta method), inside the fit's own slope limits
    with np.errstate(divide="ignore", invalid="ignore"):
        half_log = np.where(np.isfinite(r.scale_se) & (r.scale > 0), RATER_Z * r.scale_se / r.scale, np.nan)
    scale_low = np.clip(r.scale * np.exp(-half_log), *SLOPE_LIMITS)
    scale_high = np.clip(r.scale * np.exp(half_log), *SLOPE_LIMITS)
    rows = []
    for j, expert in enumerate(r.rater_id.astype(np.int64).tolist()):
        n = int(r.n[j])
        note = "one_rating" if n == 1 else ("not_estimable" if not bias_ok[j] else "")
        rows.append({"expert_id": expert, "n": n, "method_used": str(r.method[j]), "note": note,
                     "bias": finite_or_none(bias[j]), "bias_low": finite_or_none(bias_low[j]),
                     "bias_high": finite_or_none(bias_high[j]), "scale": finite_or_none(r.scale[j]),
                     "scale_low": finite_or_none(scale_low[j]), "scale_high": finite_or_none(scale_high[j]),
                     "residual_sd": finite_or_none(min(r.residual_sd[j], width))})
    return rows


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block (and back on after it, unless it was off).

    A computation allocates a few hundred thousand short-lived containers (the rows, the per-rating
    columns, the proposal's entries) that reference counting frees; each allocation burst also
    starts collections that walk every object the process keeps (a round's read cache alone is
    some 100,000): about 90 ms of a 5,000-work recompute's CPU. Whatever cycles the block leaves
    are collected after it. With blocks in several threads at once it is back on when every
    block that found it on has ended (a block may then finish with it on: only slower)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


@collector_paused()
def compute_ranking(ratings: RatingInput, items: dict[int, tuple[str, str]], *, method: str,
                    scales: list[CriterionScale], slots: dict[str, int] | None,
                    threshold: float | None, band: float = BAND, seed: int = SEED) -> RoundRanking:
    """Rank the items (id → (title, category)) of a round from ``ratings`` by ``method``.

    ``band`` and ``seed`` default to the module's; ``tuiyou result verify`` passes the ones a
    signed snapshot recorded.

    P(on the shortlist): with slots, the share of the rank band's own bootstrap draws in which
    the item ranks within its category's cut (:func:`shortlist_cuts`), so an item whose band
    lies wholly above the cut has at least 95% and wholly below at most 5%; with only a bar
    (dissemination cases), P(score >= bar) from the reported score and standard error, whose
    90% interval (score ± 1.645 se) lies above the bar exactly when P >= 95%. No standard
    error, no probability (None).
    """
    params = {"band": band, "seed": seed, "slots": slots, "threshold": threshold,
              "criteria": [asdict(s) for s in scales]}
    if len(ratings.value) == 0:
        return RoundRanking(method, params, [], [], notes=["no_ratings"])
    totals = weighted_totals(ratings.item_id, ratings.expert_id, ratings.criterion, ratings.value,
                             scales=scales)
    span = (float(totals.scale_min), float(totals.scale_max))
    first = totals.first_row
    assignment = np.asarray(ratings.assignment_id)[first]
    confidence = None
    if ratings.confidence:
        confidence = np.array([ratings.confidence.get(int(a), 1.0) or 1.0 for a in assignment])
    work = totals.work_id.astype(np.int64)
    category = np.array([items[int(w)][1] for w in work], dtype=object)
    result = normalize(work, totals.rater_id.astype(np.int64), totals.total, method=method,
                       confidence=confidence, categories=category, scale_ends=span)
    score, se = on_scale(result.score, *span), spread_on_scale(result.se, *span)
    cats = result.category.astype(str)
    # as in `tuiyou analyze`: ranks follow the (shrunk) estimates, the bands and the shortlist
    # probability are drawn around the unshrunk estimates and their standard errors
    shrunk = getattr(result, "unshrunk_score", None) is not None
    band_score, band_se = (result.unshrunk_score, result.unshrunk_se) if shrunk else (result.score, result.se)
    cut = shortlist_cuts(result.score, cats, slots=slots, threshold=threshold) if slots is not None else None
    ranking = rank_within_category(band_score, band_se, cats, band=band, rng=np.random.default_rng(seed),
                                   rank_score=result.score if shrunk else None, top_k=cut)
    if slots is not None:
        p = ranking.p_top_k
    elif threshold is not None:
        p = p_above(result.score, result.se, threshold)
    else:
        p = np.full(score.size, np.nan)
    score_low, score_high = interval_on_scale(score, INTERVAL_Z * se, *span)
    item_ids = result.work_id.astype(np.int64)
    by_id = np.argsort(item_ids, kind="stable")
    position = by_id[np.searchsorted(item_ids[by_id], work)]  # each rating's item's row (ids are unique)
    raw_sum = np.bincount(position, totals.total, minlength=item_ids.size)
    raw_mean = raw_sum / np.maximum(result.n_ratings, 1)
    d = result.diagnostics
    used = {c.category: c.method_used for c in result.categories}
    # column by column (one tolist() or vectorized rounding each), then one tuple per item
    ids, categories = item_ids.tolist(), cats.tolist()
    columns = {"item_id": ids, "title": [items[w][0] for w in ids], "category": categories,
               "score": finite_or_none_list(score), "se": finite_or_none_list(se),
               "rank": ranking.rank.astype(np.int64).tolist(), "rank_low": ranking.rank_low.astype(np.int64).tolist(),
               "rank_high": ranking.rank_high.astype(np.int64).tolist(),
               "n_ratings": np.asarray(result.n_ratings).astype(np.int64).tolist(),
               "raw_mean": finite_or_none_list(raw_mean), "p_shortlist": finite_or_none_list(p, 4),
               "disagreement": np.asarray(d.disagreement).astype(bool).tolist(),
               "component": np.asarray(result.connectivity.work_component).astype(np.int64).tolist(),
               "cut": cut.astype(np.int64).tolist() if cut is not None else [None] * len(ids),
               "score_low": finite_or_none_list(score_low), "score_high": finite_or_none_list(score_high),
               "method_used": [used.get(c, method) for c in categories]}
    rows = list(map(RankedItem._make, zip(*(columns[f] for f in ROW_FIELDS))))
    rows.sort(key=lambda r: (r.category, r.rank, r.item_id))

    per_rating = {"assignment_id": assignment.astype(np.int64).tolist(), "item_id": work.tolist(),
                  "expert_id": totals.rater_id.astype(np.int64).tolist(), "total": finite_or_none_list(totals.total, 6),
                  "residual": finite_or_none_list(d.residual, 4),
                  "standardized": finite_or_none_list(d.standardized, 3),
                  "robust_weight": finite_or_none_list(d.robust_weight, 3), "outlier": d.outlier.astype(bool).tolist(),
                  "deviation": d.deviation.astype(int).tolist()}
    ranking = RoundRanking(method, params, rows, _rater_rows(result, span), json.dumps(per_rating, allow_nan=False),
                           connected=bool(result.connectivity.connected),
                           n_components=int(result.connectivity.n_components),
                           message=result.connectivity.message, notes=list(result.notes),
                           categories=[c.as_dict() for c in result.categories])
    # what parsing ratings_json would give (plain ints, floats, None and bools round-trip through
    # JSON unchanged), so the derived tables computed next do not parse what was just written
    ranking.__dict__["rating_columns"] = per_rating
    return ranking
