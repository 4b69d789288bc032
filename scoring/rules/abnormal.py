"""Abnormal scores (畸高/畸低): a rating whose weighted total lies far from the mean of the other
ratings of the same work, and optionally (``robust_fit``) a rating the default normalization's
robust fit rejects as wild. Plain Python over config/panel.toml and ``scoring``; no web imports."""
from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Hashable, Iterable

from .toml_reader import ConfigError, TableReader, read_toml

__all__ = ["AbnormalRule", "AbnormalFlag", "load_abnormal_rule", "flag_abnormal", "robust_rejections",
           "reason_of", "RELATIVE", "ROBUST_FIT"]

#: Why a rating is flagged: far from the others' mean, or rejected by the robust fit.
RELATIVE, ROBUST_FIT = "relative", "robust fit"

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


@dataclass(frozen=True)
class AbnormalRule:
    """When a rating is abnormal: ``|total - mean(others)| > relative_threshold * mean(others)``,
    or (with ``robust_fit``) when the default normalization's robust fit rejects it."""

    relative_threshold: float = 0.30
    min_other_ratings: int = 2
    robust_fit: bool = False

    def relative(self, total: float, others_mean: float, others_n: int) -> bool:
        """Whether the relative rule holds for these numbers."""
        return (others_n >= self.min_other_ratings and others_mean > 0
                and abs(total - others_mean) > self.relative_threshold * others_mean)


@dataclass(frozen=True)
class AbnormalFlag:
    """One abnormal rating: its total, the others' mean and count, and high or low."""

    rating: Hashable
    item: Hashable
    total: float
    others_mean: float
    others_n: int
    reason: str = RELATIVE  # RELATIVE, or ROBUST_FIT when only the robust fit flags it

    @property
    def direction(self) -> str:
        """``"high"`` (畸高) or ``"low"`` (畸低)."""
        return "high" if self.total > self.others_mean else "low"

    @property
    def deviation(self) -> float:
        """The difference as a share of the others' mean (signed)."""
        return (self.total - self.others_mean) / self.others_mean


def load_abnormal_rule(config_dir: Path | str | None = None) -> AbnormalRule:
    """The rule from ``panel.toml`` (``TUIYOU_CONFIG`` or ``config/``); ConfigError names a bad key."""
    directory = Path(config_dir or os.environ.get("TUIYOU_CONFIG") or DEFAULT_CONFIG_DIR)
    path = directory / "panel.toml"
    if not path.exists():
        return AbnormalRule()
    data = read_toml(path)
    TableReader(path.name, data).only("abnormal")
    table = data.get("abnormal", {})
    if not isinstance(table, dict):
        raise ConfigError(path.name, "abnormal", "expected a table")
    reader = TableReader(path.name, table, "abnormal.")
    reader.only("relative_threshold", "min_other_ratings", "robust_fit")
    threshold = reader.number("relative_threshold", default=0.30)
    others = reader.get("min_other_ratings", int, default=2)
    robust = reader.get("robust_fit", bool, default=False)
    if not 0 < threshold < 10:
        raise reader.fail("relative_threshold", f"{threshold} must be above 0 (0.30 = 30%)")
    if others < 1:
        raise reader.fail("min_other_ratings", f"{others} must be at least 1")
    return AbnormalRule(relative_threshold=float(threshold), min_other_ratings=int(others), robust_fit=bool(robust))


def flag_abnormal(totals: Iterable[tuple[Hashable, Hashable, float]], rule: AbnormalRule,
                  rejected: Collection[Hashable] = ()) -> list[AbnormalFlag]:
    """The abnormal ratings among ``(rating, item, weighted total)`` rows, in input order.

    ``rejected`` names ratings the robust fit rejected (see :func:`robust_rejections`); with
    ``rule.robust_fit`` they are flagged too, with reason ``"robust fit"`` unless the relative
    rule also holds (then the reason is ``"relative"``).

    >>> rows = [("a", "w", 8.0), ("b", "w", 8.0), ("c", "w", 8.0), ("d", "w", 8.0), ("e", "w", 2.0)]
    >>> [(f.rating, f.direction, f.reason) for f in flag_abnormal(rows, AbnormalRule())]
    [('e', 'low', 'relative')]
    """
    rows = list(totals)
    wild = set(rejected) if rule.robust_fit else set()
    by_item: dict[Hashable, list[float]] = defaultdict(list)
    for _rating, item, total in rows:
        by_item[item].append(float(total))
    flags = []
    for rating, item, total in rows:
        values = by_item[item]
        n_others = len(values) - 1
        if n_others < 1:
            continue
        mean = (sum(values) - float(total)) / n_others
        if rule.relative(float(total), mean, n_others):
            flags.append(AbnormalFlag(rating, item, float(total), mean, n_others, RELATIVE))
        elif rating in wild:
            flags.append(AbnormalFlag(rating, item, float(total), mean, n_others, ROBUST_FIT))
    return flags


def reason_of(rule: AbnormalRule, total: float, others_mean: float, others_n: int) -> str:
    """Why a stored flag with these numbers is flagged: the relative rule when it holds, else the fit."""
    return RELATIVE if rule.relative(total, others_mean, others_n) else ROBUST_FIT


def robust_rejections(rows: Iterable[tuple[Hashable, Hashable, Hashable, float, str]], *,
                      scale_ends: tuple[float, float] | None = None) -> set[Hashable]:
    """The ratings the default normalization's robust fit rejects as wild.

    ``rows`` are ``(rating, item, rater, weighted total, category)``; the fit is the one the chair's
    rankings use (``scoring.normalize.DEFAULT_METHOD`` over the whole round), and a rating is
    rejected when the fit reports it in ``diagnostics.rejected`` (weight below one half).
    ``scale_ends`` are the totals' scale ends, as the rankings pass them.
    """
    rows = list(rows)
    if not rows:
        return set()
    from scoring.normalize import DEFAULT_METHOD, normalize  # numpy/scipy only when asked

    result = normalize([r[1] for r in rows], [r[2] for r in rows], [float(r[3]) for r in rows],
                       method=DEFAULT_METHOD, categories=[r[4] for r in rows], scale_ends=scale_ends)
    rejected = result.diagnostics.rejected
    if rejected is None:
        return set()
    return {rows[i][0] for i in range(len(rows)) if bool(rejected[i])}
