"""Weighted totals: one score per (work, rater) from long-form criterion ratings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["CriterionScale", "Totals", "weighted_totals"]


def _show(value) -> str:
    """repr of a value, unwrapping numpy scalars so messages read 'w1', not np.str_('w1')."""
    return repr(value.item() if isinstance(value, np.generic) else value)


@dataclass(frozen=True)
class CriterionScale:
    """Scale of one criterion: allowed range ``[min, max]`` on a grid of ``step``, and its weight.

    ``step`` of 0 or None means any value in range. The config layer converts its criteria
    into these.
    """

    key: str
    min: float
    max: float
    step: float | None
    weight: float

    def __post_init__(self) -> None:
        if not self.max > self.min:
            raise ValueError(f"criterion {self.key!r}: max ({self.max}) must exceed min ({self.min})")
        if self.step is not None and self.step < 0:
            raise ValueError(f"criterion {self.key!r}: step must be positive, got {self.step}")
        if not self.weight >= 0 or not np.isfinite(self.weight):
            raise ValueError(f"criterion {self.key!r}: weight must be a non-negative number, got {self.weight}")


@dataclass
class Totals:
    """Weighted total of each rating (one per (work, rater)), on the common scale ``[scale_min, scale_max]``.

    ``first_row`` is the 0-based index of the first input row of each rating, so callers can
    carry along per-rating columns such as category or confidence.
    """

    work_id: np.ndarray
    rater_id: np.ndarray
    total: np.ndarray
    first_row: np.ndarray
    scale_min: float
    scale_max: float


def weighted_totals(
    work_ids: Sequence, rater_ids: Sequence, criteria: Sequence, values: Sequence, *,
    scales: Sequence[CriterionScale],
) -> Totals:
    """Combine criterion ratings into one weighted total per (work, rater).

    Parameters
    ----------
    work_ids, rater_ids, criteria, values : array_like, shape (n,)
        Long form: one row per (work, rater, criterion) with its value.
    scales : sequence of CriterionScale
        Every criterion that must be rated, with its range, step and weight.

    Returns
    -------
    Totals

    Raises
    ------
    ValueError
        Naming the 1-based data row and the value: a non-numeric value, an unknown
        criterion, a value out of its criterion's range or off its step grid, a
        duplicated (work, rater, criterion) row, or a rating missing a criterion.

    Notes
    -----
    Each value is mapped to 0..1 on its own scale, ``(v - min) / (max - min)``; the weighted
    mean (weights normalised to sum 1) is mapped back onto the first criterion's scale.
    When all criteria share one scale this is exactly the weighted mean of the raw values,
    so the total stays on the criteria's common scale (and is computed that way, without
    the round trip through 0..1). This is the simple additive weighting of multi-criteria
    decision analysis (Keeney & Raiffa 1976, *Decisions with Multiple Objectives*).

    References
    ----------
    .. [1] Keeney, R. L., & Raiffa, H. (1976). *Decisions with Multiple Objectives: Preferences and
       Value Tradeoffs*. Wiley.

    Examples
    --------
    >>> scales = [CriterionScale("idea", 0, 10, 0.5, 2), CriterionScale("craft", 0, 10, 0.5, 1)]
    >>> t = weighted_totals(["w1", "w1"], ["a", "a"], ["idea", "craft"], [9, 6], scales=scales)
    >>> t.total.tolist()
    [8.0]
    """
    if not scales:
        raise ValueError("no criteria given")
    keys = [s.key for s in scales]
    if len(set(keys)) != len(keys):
        raise ValueError("criterion keys must be unique")
    weight = np.array([s.weight for s in scales], dtype=float)
    if weight.sum() <= 0:
        raise ValueError("criterion weights must not all be zero")
    weight = weight / weight.sum()
    n = len(values)
    if n == 0:
        raise ValueError("no ratings given")
    if not (len(work_ids) == len(rater_ids) == len(criteria) == n):
        raise ValueError("work_ids, rater_ids, criteria and values must have the same length")

    index = {k: i for i, k in enumerate(keys)}
    crit_list = list(criteria)
    try:
        crit = np.array(list(map(index.__getitem__, crit_list)), dtype=np.intp)
    except KeyError as exc:
        row = crit_list.index(exc.args[0])
        raise ValueError(f"data row {row + 1}: unknown criterion {_show(exc.args[0])} (known: {', '.join(keys)})") from None

    try:
        v = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        v = None
    if v is None or v.ndim != 1 or not np.isfinite(v).all():
        for i, x in enumerate(values):
            try:
                ok = np.isfinite(float(x))
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ValueError(f"data row {i + 1}: value {_show(x)} for criterion {_show(crit_list[i])} is not a number")
    lo = np.array([s.min for s in scales], dtype=float)[crit]
    hi = np.array([s.max for s in scales], dtype=float)[crit]
    bad = np.flatnonzero((v < lo) | (v > hi))
    if bad.size:
        i = bad[0]
        raise ValueError(
            f"data row {i + 1}: value {v[i]:g} for criterion {_show(crit_list[i])} is outside its scale "
            f"{lo[i]:g}..{hi[i]:g}"
        )
    step = np.array([s.step or 0.0 for s in scales], dtype=float)[crit]
    grid = np.divide(v - lo, step, out=np.zeros(n), where=step > 0)
    off = np.flatnonzero((step > 0) & (np.abs(grid - np.round(grid)) > 1e-6))
    if off.size:
        i = off[0]
        raise ValueError(
            f"data row {i + 1}: value {v[i]:g} for criterion {_show(crit_list[i])} is not on its step "
            f"grid ({lo[i]:g}, {lo[i] + step[i]:g}, ... in steps of {step[i]:g})"
        )

    w_uniq, w_code = np.unique(np.asarray(work_ids), return_inverse=True)
    r_uniq, r_code = np.unique(np.asarray(rater_ids), return_inverse=True)
    pair = w_code.astype(np.int64) * len(r_uniq) + r_code
    cell = pair * len(keys) + crit
    order = np.argsort(cell, kind="stable")
    dup = np.flatnonzero(cell[order][1:] == cell[order][:-1])
    if dup.size:
        first, second = sorted((order[dup[0]], order[dup[0] + 1]))
        raise ValueError(
            f"data row {second + 1} duplicates data row {first + 1}: rater {_show(r_uniq[r_code[second]])}, "
            f"work {_show(w_uniq[w_code[second]])}, criterion {_show(crit_list[second])} (value {v[second]:g})"
        )
    pairs, first_row, pair_code, count = np.unique(pair, return_index=True, return_inverse=True, return_counts=True)
    if np.any(count != len(keys)):
        p = int(np.flatnonzero(count != len(keys))[0])
        have = set(crit[pair_code == p].tolist())
        missing = [k for i, k in enumerate(keys) if i not in have]
        row = first_row[p]
        raise ValueError(
            f"data row {row + 1}: rating of work {_show(w_uniq[w_code[row]])} by rater {_show(r_uniq[r_code[row]])} "
            f"lacks criterion {_show(missing[0])}"
        )
    s0 = scales[0]
    if all(s.min == s0.min and s.max == s0.max for s in scales):
        total = np.bincount(pair_code, weight[crit] * v, minlength=len(pairs))
    else:
        unit = (v - lo) / (hi - lo)
        total01 = np.bincount(pair_code, weight[crit] * unit, minlength=len(pairs))
        total = s0.min + total01 * (s0.max - s0.min)
    return Totals(w_uniq[pairs // len(r_uniq)], r_uniq[pairs % len(r_uniq)], total, first_row, float(s0.min), float(s0.max))
