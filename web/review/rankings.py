"""A round's rankings from its submitted ratings: the numeric core's public functions, no SQL.

``compute_ranking`` turns the long-form criterion values of a round into weighted totals,
normalizes rater bias by the chosen method, ranks within category with bands, and adds what
the chair reads beside the score: the raw mean, P(on the shortlist), per-rating residuals and
flags, rater effects with approximate intervals. The result is plain JSON-able data so it can
be cached in the database (``RankingCache``) and shared by every app server.
"""
from __future__ import annotations

import functools
import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import special

from scoring.normalize import normalize
from scoring.ranking import rank_within_category
from scoring.totals import CriterionScale, weighted_totals

#: The rank band's coverage and the bootstrap seed: frozen with every signed result.
BAND = 0.9
SEED = 20250


@dataclass(frozen=True)
class RatingInput:
    """The long-form ratings of a round: one row per criterion of a submitted assignment."""

    assignment_id: list[int]
    expert_id: list[int]
    item_id: list[int]  # Work.id, or DisseminationCase.id in a dissemination round
    criterion: list[str]
    value: list[float]
    confidence: dict[int, float] = field(default_factory=dict)  # assignment id → confidence


@dataclass
class RoundRanking:
    """Everything the rankings, drill-down, diagnostics and shortlist pages show."""

    method: str
    params: dict
    rows: list[dict]  # one per ranked item, sorted by category then rank
    raters: list[dict]
    # One entry per (item, expert): total and flags, stored column-wise as a JSON string so that
    # reading the cache for the rankings (which do not need them) never parses them.
    ratings_json: str = "{}"
    connected: bool = True
    n_components: int = 1
    message: str = ""
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """A JSON-able dict (for the cache)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "RoundRanking":
        """The inverse of :meth:`to_json`."""
        return cls(**data)

    @functools.cached_property
    def ratings(self) -> list[dict]:
        """Per-rating totals, residuals and flags (parsed on first use)."""
        columns = json.loads(self.ratings_json)
        names = list(columns)
        return [dict(zip(names, values)) for values in zip(*columns.values())] if names else []

    def row(self, item_id: int) -> dict | None:
        """The row of one item, or None when it has no ratings."""
        for row in self.rows:
            if row["item_id"] == item_id:
                return row
        return None


def _num(value, digits: int = 6):
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def _norm_cdf(z: np.ndarray) -> np.ndarray:
    return 0.5 * special.erfc(-z / math.sqrt(2))


def p_shortlist(score: np.ndarray, se: np.ndarray, category: np.ndarray, *, slots: dict[str, int] | None,
                threshold: float | None, seed: int = SEED) -> np.ndarray:
    """P(the item belongs on the shortlist): P(top slots of its category) × P(score ≥ threshold).

    Both factors come from the same normal uncertainty (score ± se) the rank bands use; their
    product treats them as independent, which overstates the chance slightly near both cuts.
    """
    p = np.ones(score.size)
    if slots is not None:
        for index, name in enumerate(sorted(set(category.tolist()))):
            members = np.flatnonzero(category == name)
            k = int(slots.get(name, 0))
            if k <= 0:
                p[members] = 0.0
                continue
            ranking = rank_within_category(score[members], se[members], None, band=BAND, top_k=k,
                                           rng=np.random.default_rng([seed, index]))
            p[members] = ranking.p_top_k
    if threshold is not None:
        safe = np.where(np.isfinite(se) & (se > 0), se, np.nan)
        z = (score - threshold) / safe
        p *= np.where(np.isnan(z), (score >= threshold).astype(float), _norm_cdf(np.nan_to_num(z)))
    return p


def compute_ranking(ratings: RatingInput, items: dict[int, tuple[str, str]], *, method: str,
                    scales: list[CriterionScale], slots: dict[str, int] | None,
                    threshold: float | None, band: float = BAND, seed: int = SEED) -> RoundRanking:
    """Rank the items (id → (title, category)) of a round from ``ratings`` by ``method``.

    ``band`` and ``seed`` default to the module's; ``tuiyou result verify`` passes the ones a
    signed snapshot recorded.
    """
    params = {"band": band, "seed": seed, "slots": slots, "threshold": threshold,
              "criteria": [asdict(s) for s in scales]}
    if not ratings.value:
        return RoundRanking(method, params, [], [], notes=["no_ratings"])
    totals = weighted_totals(ratings.item_id, ratings.expert_id, ratings.criterion, ratings.value,
                             scales=scales)
    first = totals.first_row
    assignment = np.asarray(ratings.assignment_id)[first]
    confidence = None
    if ratings.confidence:
        confidence = np.array([ratings.confidence.get(int(a), 1.0) or 1.0 for a in assignment])
    work = totals.work_id.astype(np.int64)
    category = np.array([items[int(w)][1] for w in work], dtype=object)
    result = normalize(work, totals.rater_id.astype(np.int64), totals.total, method=method,
                       confidence=confidence, categories=category, scale_ends=(totals.scale_min, totals.scale_max))
    score, se = result.score, result.se
    cats = result.category.astype(str)
    # as in `tuiyou analyze`: ranks follow the (shrunk) scores, the bands and the shortlist
    # probability are drawn around the unshrunk estimates and their standard errors
    shrunk = getattr(result, "unshrunk_score", None) is not None
    band_score, band_se = (result.unshrunk_score, result.unshrunk_se) if shrunk else (score, se)
    ranking = rank_within_category(band_score, band_se, cats, band=band, rng=np.random.default_rng(seed),
                                   rank_score=score if shrunk else None)
    p = p_shortlist(band_score, band_se, cats, slots=slots, threshold=threshold, seed=seed)
    item_ids = result.work_id.astype(np.int64)
    position = {int(w): i for i, w in enumerate(item_ids)}
    raw_sum = np.bincount([position[int(w)] for w in work], totals.total, minlength=item_ids.size)
    raw_mean = raw_sum / np.maximum(result.n_ratings, 1)
    d = result.diagnostics
    rows = [{"item_id": int(w), "title": items[int(w)][0], "category": cats[i],
             "score": _num(score[i]), "se": _num(se[i]), "rank": int(ranking.rank[i]),
             "rank_low": int(ranking.rank_low[i]), "rank_high": int(ranking.rank_high[i]),
             "n_ratings": int(result.n_ratings[i]), "raw_mean": _num(raw_mean[i]),
             "p_shortlist": _num(p[i], 4), "disagreement": bool(d.disagreement[i]),
             "component": int(result.connectivity.work_component[i])}
            for i, w in enumerate(item_ids.tolist())]
    rows.sort(key=lambda r: (r["category"], r["rank"], r["item_id"]))
    r = result.raters
    rater_ids = r.rater_id.astype(np.int64)
    sigma = result.sigma if math.isfinite(result.sigma) and result.sigma > 0 else 1.0
    rater_index = {int(x): j for j, x in enumerate(rater_ids)}
    code = np.array([rater_index[int(e)] for e in totals.rater_id], dtype=np.intp)
    rated = score[np.array([position[int(w)] for w in work], dtype=np.intp)]
    count = np.bincount(code, minlength=rater_ids.size)
    mean = np.bincount(code, rated, minlength=rater_ids.size) / np.maximum(count, 1)
    var = np.bincount(code, rated**2, minlength=rater_ids.size) / np.maximum(count, 1) - mean**2
    # spread of the work scores a rater saw: how well their scale (slope) is determined
    spread = np.where(count > 1, np.sqrt(np.maximum(var, 0)), np.nan)
    raters = []
    for j, expert in enumerate(rater_ids.tolist()):
        n = max(int(r.n[j]), 1)
        half_bias = 1.96 * sigma / math.sqrt(n)
        half_log_scale = 1.96 * sigma / (spread[j] * math.sqrt(n)) if spread[j] > 0 else float("nan")
        raters.append({"expert_id": expert, "bias": _num(r.bias[j]), "scale": _num(r.scale[j]),
                       "n": int(r.n[j]), "residual_sd": _num(r.residual_sd[j]),
                       "bias_low": _num(r.bias[j] - half_bias), "bias_high": _num(r.bias[j] + half_bias),
                       "scale_low": _num(r.scale[j] * math.exp(-half_log_scale)),
                       "scale_high": _num(r.scale[j] * math.exp(half_log_scale))})
    def rounded(values, digits):
        return [round(float(v), digits) if math.isfinite(v) else None for v in values]

    per_rating = {"assignment_id": assignment.astype(np.int64).tolist(), "item_id": work.tolist(),
                  "expert_id": totals.rater_id.astype(np.int64).tolist(), "total": rounded(totals.total, 6),
                  "residual": rounded(d.residual, 4), "standardized": rounded(d.standardized, 3),
                  "robust_weight": rounded(d.robust_weight, 3), "outlier": d.outlier.astype(bool).tolist(),
                  "deviation": d.deviation.astype(int).tolist()}
    return RoundRanking(method, params, rows, raters, json.dumps(per_rating, allow_nan=False),
                        connected=bool(result.connectivity.connected),
                        n_components=int(result.connectivity.n_components),
                        message=result.connectivity.message, notes=list(result.notes))
