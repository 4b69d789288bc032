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


def _matrix(item: np.ndarray, expert: np.ndarray, total: np.ndarray) -> np.ndarray:
    """(items × experts) totals, items and experts in id order, nan where an expert did not rate."""
    items, row = np.unique(item, return_inverse=True)
    raters, col = np.unique(expert, return_inverse=True)
    m = np.full((items.size, raters.size), np.nan)
    m[row, col] = total
    return m


def _clean(value: float) -> float | None:
    return round(float(value), 3) if math.isfinite(value) else None


def reliability(ranking: RoundRanking) -> list[Reliability]:
    """All categories together, then each category (in the order the ratings first name them)."""
    columns = ranking.rating_columns
    if not columns or not columns.get("item_id"):
        return [_reliability("", np.empty((0, 0)))]
    item = np.asarray(columns["item_id"], dtype=np.int64)
    expert = np.asarray(columns["expert_id"], dtype=np.int64)
    total = np.asarray(columns["total"], dtype=float)  # None (not finite) reads as nan
    category = {row.item_id: row.category for row in ranking.rows}
    labels = [category[i] for i in columns["item_id"]]
    names, first, code = np.unique(np.asarray(labels, dtype=object).astype(str), return_index=True,
                                   return_inverse=True)
    out = [_reliability("", _matrix(item, expert, total))]
    for k in np.argsort(first, kind="stable").tolist():
        mine = code == k
        out.append(_reliability(str(names[k]), _matrix(item[mine], expert[mine], total[mine])))
    return out


def _reliability(label: str, m: np.ndarray) -> Reliability:
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
    return Reliability(label, m.shape[0], m.shape[1], alpha, icc2, icc2k, note)


def outlier_ratings(ranking: RoundRanking) -> list[dict]:
    """Ratings the model finds far off (|z| > 3 of its residuals). The 畸高/畸低 ratings are not
    these but ``web.rating.flags.abnormal_ratings``, the one list every page counts."""
    columns = ranking.rating_columns
    if not columns.get("outlier"):
        return []
    names = list(columns)
    return [{name: columns[name][i] for name in names} for i, off in enumerate(columns["outlier"]) if off]
