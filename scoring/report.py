"""Numbers as reported to people: inside what the score scale allows, and ``None`` where not estimable.

A fitted work score is "the score the typical rater would give"; for a top work rated by
severe raters it can lie a little beyond the scale's end (10.3 on a 0-10 scale). Ranks are
taken from the estimates themselves, but a report says 10 there: no rating could say more.
A standard error wider than the whole scale, or an interval reaching past its ends, claims
nothing the scale can hold, so both are cut to the scale; a value that is nan or infinite
(not estimable) is reported as ``None``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["on_scale", "spread_on_scale", "interval_on_scale", "finite_or_none", "finite_or_none_list"]


def on_scale(values, low: float, high: float) -> np.ndarray:
    """Scores clipped to [low, high]; nan stays nan.

    >>> on_scale([-0.2, 5.0, 10.3, np.nan], 0, 10).tolist()
    [0.0, 5.0, 10.0, nan]
    """
    return np.clip(np.asarray(values, dtype=float), low, high)


def spread_on_scale(values, low: float, high: float) -> np.ndarray:
    """Standard errors (or other spreads) at most the scale's width; nan and inf become nan.

    >>> spread_on_scale([0.3, 25.0, np.inf], 0, 10).tolist()
    [0.3, 10.0, nan]
    """
    out = np.asarray(values, dtype=float)
    return np.where(np.isfinite(out), np.minimum(out, high - low), np.nan)


def interval_on_scale(centre, half_width, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
    """centre -/+ half_width, each end cut to [low, high]; nan where the half-width is not finite.

    >>> lo, hi = interval_on_scale([9.5, 5.0], [1.0, np.nan], 0, 10)
    >>> lo.tolist(), hi.tolist()
    ([8.5, nan], [10.0, nan])
    """
    c = np.asarray(centre, dtype=float)
    h = np.asarray(half_width, dtype=float)
    ok = np.isfinite(h) & np.isfinite(c)
    return (np.where(ok, np.clip(c - h, low, high), np.nan), np.where(ok, np.clip(c + h, low, high), np.nan))


def finite_or_none_list(values, digits: int = 6) -> list:
    """:func:`finite_or_none` of every value, the same floats, vectorized.

    ``round(x, d)`` is the double nearest the decimal rounding of ``x``; so is
    ``rint(x * 10**d) / 10**d`` whenever ``x * 10**d`` is not within round-off of a half
    (the product's integer part is then the decimal rounding, and dividing two exact doubles
    rounds correctly). The values near a half, and any too large for that, go through
    ``round`` itself.

    >>> finite_or_none_list([1.23456789, float("nan"), 0.125, -2.5], 2)
    [1.23, None, 0.12, -2.5]
    """
    x = np.asarray(values, dtype=float).ravel()
    scale = 10.0 ** digits
    with np.errstate(invalid="ignore", over="ignore"):
        y = x * scale
        fraction = np.abs(y - np.floor(y) - 0.5)
        careful = ~(fraction > 1e-6) | ~(np.abs(y) < 2.0 ** 50)  # near a half, huge, nan or inf
        out = (np.rint(y) / scale).tolist()
    for i in np.flatnonzero(careful).tolist():
        out[i] = finite_or_none(x[i], digits)
    return out


def finite_or_none(value, digits: int = 6):
    """A rounded float, or None when it is nan or infinite (for JSON).

    >>> finite_or_none(1.23456789, 3), finite_or_none(float("nan"))
    (1.235, None)
    """
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None
