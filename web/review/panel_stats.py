"""Panel reliability and flags from a computed ranking (plain numpy over the cached ratings)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from scoring.reliability import icc, krippendorff_alpha

from .rankings import RoundRanking


@dataclass(frozen=True)
class Reliability:
    """Krippendorff's interval alpha (any design) and ICC where the design is complete."""

    label: str
    n_items: int
    n_raters: int
    alpha: float | None
    icc2: float | None  # ICC(2,1): absolute agreement of single ratings
    icc2k: float | None  # ICC(2,k): of the mean of k ratings
    icc_note: str  # "" when computed, else why not


def _matrix(ratings: list[dict]) -> np.ndarray:
    items = sorted({r["item_id"] for r in ratings})
    raters = sorted({r["expert_id"] for r in ratings})
    row = {k: i for i, k in enumerate(items)}
    col = {k: j for j, k in enumerate(raters)}
    m = np.full((len(items), len(raters)), np.nan)
    for r in ratings:
        m[row[r["item_id"]], col[r["expert_id"]]] = r["total"]
    return m


def _clean(value: float) -> float | None:
    return round(float(value), 3) if math.isfinite(value) else None


def reliability(ranking: RoundRanking) -> list[Reliability]:
    """All categories together, then each category."""
    category = {row.item_id: row.category for row in ranking.rows}
    groups: dict[str, list[dict]] = {"": ranking.ratings}
    for r in ranking.ratings:
        groups.setdefault(category[r["item_id"]], []).append(r)
    out = []
    for label, ratings in groups.items():
        m = _matrix(ratings)
        alpha = None
        if m.shape[0] >= 2 and np.sum(np.sum(~np.isnan(m), axis=1) >= 2) >= 2:
            alpha = _clean(krippendorff_alpha(m, level="interval"))
        icc2 = icc2k = None
        note = ""
        if m.shape[0] < 3 or m.shape[1] < 2:
            note = "too_small"
        elif np.isnan(m).any():
            note = "incomplete"
        else:
            result = icc(m)
            icc2, icc2k = _clean(result.ICC2), _clean(result.ICC2k)
        out.append(Reliability(label, m.shape[0], m.shape[1], alpha, icc2, icc2k, note))
    return out


def outlier_ratings(ranking: RoundRanking) -> list[dict]:
    """Ratings the model finds far off (|z| > 3 of its residuals). The 畸高/畸低 ratings are not
    these but ``web.rating.flags.abnormal_ratings``, the one list every page counts."""
    return [r for r in ranking.ratings if r["outlier"]]
