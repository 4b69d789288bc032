"""Abnormal scores (畸高/畸低): a rating whose weighted total lies far from the mean of the other
ratings of the same work. Plain Python over config/panel.toml; no web imports."""
from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Hashable, Iterable

from .toml_reader import ConfigError, TableReader, read_toml

__all__ = ["AbnormalRule", "AbnormalFlag", "load_abnormal_rule", "flag_abnormal"]

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


@dataclass(frozen=True)
class AbnormalRule:
    """When a rating is abnormal: ``|total - mean(others)| > relative_threshold * mean(others)``."""

    relative_threshold: float = 0.30
    min_other_ratings: int = 2


@dataclass(frozen=True)
class AbnormalFlag:
    """One abnormal rating: its total, the others' mean and count, and high or low."""

    rating: Hashable
    item: Hashable
    total: float
    others_mean: float
    others_n: int

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
    reader.only("relative_threshold", "min_other_ratings")
    threshold = reader.number("relative_threshold", default=0.30)
    others = reader.get("min_other_ratings", int, default=2)
    if not 0 < threshold < 10:
        raise reader.fail("relative_threshold", f"{threshold} must be above 0 (0.30 = 30%)")
    if others < 1:
        raise reader.fail("min_other_ratings", f"{others} must be at least 1")
    return AbnormalRule(relative_threshold=float(threshold), min_other_ratings=int(others))


def flag_abnormal(totals: Iterable[tuple[Hashable, Hashable, float]], rule: AbnormalRule) -> list[AbnormalFlag]:
    """The abnormal ratings among ``(rating, item, weighted total)`` rows, in input order.

    >>> rows = [("a", "w", 8.0), ("b", "w", 8.0), ("c", "w", 2.0)]
    >>> [(f.rating, f.direction) for f in flag_abnormal(rows, AbnormalRule())]
    [('c', 'low')]
    """
    rows = list(totals)
    by_item: dict[Hashable, list[float]] = defaultdict(list)
    for _rating, item, total in rows:
        by_item[item].append(float(total))
    flags = []
    for rating, item, total in rows:
        values = by_item[item]
        n_others = len(values) - 1
        if n_others < rule.min_other_ratings:
            continue
        mean = (sum(values) - float(total)) / n_others
        if mean > 0 and abs(float(total) - mean) > rule.relative_threshold * mean:
            flags.append(AbnormalFlag(rating, item, float(total), mean, n_others))
    return flags
