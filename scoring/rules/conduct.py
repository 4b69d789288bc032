"""Expert conduct review (履职评价): each expert's figures in one round and over a year.

Plain Python over plain records (no SQL, no Flask); the web layer gathers the records and the
default normalization fit and calls :func:`round_conduct` and :func:`year_conduct`.

Definitions (docs/conduct.md says the same in words):

- **scoring deadline** — the round's own ``[[deadline.round]]`` in ``config/conduct.toml``,
  else the calendar's forwarding deadline of the round plus ``days_after_forwarding``; the end
  of that day in Beijing time (UTC+8). A submission at or before it is on time.
- **time spent** — per assignment, the moments of its save history (each rating version's
  first timestamp, then the submission) in order; the gaps between consecutive moments that
  are at most ``session_gap_minutes`` are added up. A longer gap is a break and counts nothing.
- **agreement** — Spearman's rank correlation (average ranks for ties) of the expert's weighted
  totals with the consensus (normalized) scores of the same works; none below 3 works or when
  either side is constant.
"""
from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Hashable, Iterable, Mapping

from .toml_reader import ConfigError, TableReader, read_toml

__all__ = ["ConductRule", "AssignmentRecord", "FlagRecord", "RaterFit", "ExpertConduct", "load_conduct_rule",
           "scoring_deadline", "time_spent", "spearman", "round_conduct", "year_conduct"]

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
BEIJING = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class ConductRule:
    """Where a round's scoring deadline comes from and how save gaps are read."""

    days_after_forwarding: int = 30
    deadlines: tuple[tuple[str, dt.date], ...] = ()  # (round key, last day of scoring)
    session_gap_minutes: float = 30.0


def load_conduct_rule(config_dir: Path | str | None = None) -> ConductRule:
    """The rule from ``conduct.toml`` (``TUIYOU_CONFIG`` or ``config/``); ConfigError names a bad key."""
    directory = Path(config_dir or os.environ.get("TUIYOU_CONFIG") or DEFAULT_CONFIG_DIR)
    path = directory / "conduct.toml"
    if not path.exists():
        return ConductRule()
    data = read_toml(path)
    TableReader(path.name, data).only("deadline", "time")
    deadline = data.get("deadline", {})
    time = data.get("time", {})
    for name, table in (("deadline", deadline), ("time", time)):
        if not isinstance(table, dict):
            raise ConfigError(path.name, name, "expected a table")
    reader = TableReader(path.name, deadline, "deadline.")
    reader.only("days_after_forwarding", "round")
    days = reader.get("days_after_forwarding", int, default=30)
    if not 0 <= days <= 366:
        raise reader.fail("days_after_forwarding", f"{days} must be between 0 and 366")
    listed = []
    for index, item in enumerate(reader.get("round", list, default=[])):
        if not isinstance(item, dict):
            raise ConfigError(path.name, f"deadline.round[{index}]", "expected a table with key and last_day")
        entry = TableReader(path.name, item, f"deadline.round[{index}].")
        entry.only("key", "last_day")
        key, day = entry.get("key", str), entry.get("last_day", dt.date)
        if isinstance(day, dt.datetime):
            raise entry.fail("last_day", f"{day!r} is not a date like 2025-04-30")
        listed.append((key, day))
    time_reader = TableReader(path.name, time, "time.")
    time_reader.only("session_gap_minutes")
    gap = time_reader.number("session_gap_minutes", default=30.0)
    if not 0 < gap <= 24 * 60:
        raise time_reader.fail("session_gap_minutes", f"{gap} must be above 0 and at most 1440")
    return ConductRule(int(days), tuple(sorted(listed)), float(gap))


def scoring_deadline(round_key: str, forwarding: dt.date | None, rule: ConductRule) -> dt.datetime | None:
    """The last moment (aware) a rating of the round counts as on time; None when nothing defines it.

    >>> scoring_deadline("2025Q1", dt.date(2025, 3, 31), ConductRule()).isoformat()
    '2025-04-30T23:59:59.999999+08:00'
    """
    day = dict(rule.deadlines).get(round_key)
    if day is None and forwarding is not None:
        day = forwarding + dt.timedelta(days=rule.days_after_forwarding)
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time.max, tzinfo=BEIJING)


def time_spent(saves: Iterable[dt.datetime], submitted_at: dt.datetime | None, *, gap_minutes: float) -> float:
    """Minutes of scoring in one assignment's save history (gaps above ``gap_minutes`` are breaks).

    >>> t = dt.datetime(2025, 4, 1, 9, tzinfo=dt.timezone.utc)
    >>> m = dt.timedelta(minutes=1)
    >>> time_spent([t, t + 10 * m, t + 70 * m], t + 75 * m, gap_minutes=30)
    15.0
    """
    moments = sorted([*saves, *([submitted_at] if submitted_at else [])])
    total = 0.0
    for earlier, later in zip(moments, moments[1:]):
        minutes = (later - earlier).total_seconds() / 60
        if minutes <= gap_minutes:
            total += minutes
    return total


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(x: list[float], y: list[float]) -> float | None:
    """Spearman's rho with average ranks for ties; None below 3 pairs or when a side is constant.

    >>> spearman([8.5, 7.5, 6.0, 6.5], [4, 3, 2, 1])
    0.8
    """
    if len(x) != len(y):
        raise ValueError("spearman needs two lists of the same length")
    if len(x) < 3:
        return None
    rx, ry = _ranks(list(x)), _ranks(list(y))
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    if sxx == 0 or syy == 0:
        return None
    return round(sxy / math.sqrt(sxx * syy), 12)


@dataclass(frozen=True)
class AssignmentRecord:
    """One assignment: its expert, work, status and save history."""

    assignment_id: int
    expert_id: int
    item_id: int
    status: str  # pending, in_progress, submitted, recused
    submitted_at: dt.datetime | None = None
    saves: tuple[dt.datetime, ...] = ()


@dataclass(frozen=True)
class FlagRecord:
    """An abnormal-rating flag (畸高/畸低) with its explanation or waiver."""

    assignment_id: int
    expert_id: int
    item_id: int
    direction: str
    active: bool
    explanation: str | None = None
    waiver: str | None = None


@dataclass(frozen=True)
class RaterFit:
    """An expert's effects in the default normalization fit of a round."""

    expert_id: int
    bias: float | None
    scale: float | None
    residual_sd: float | None
    n: int


@dataclass
class ExpertConduct:
    """One expert's conduct figures in a round, or over the rounds of a year."""

    expert_id: Hashable
    assigned: int = 0
    submitted: int = 0
    on_time: int = 0
    late: int = 0
    undated: int = 0  # submitted in a round without a deadline
    recused: int = 0
    minutes: float = 0.0
    saves: int = 0
    bias: float | None = None
    scale: float | None = None
    residual_sd: float | None = None
    n_fit: int = 0
    abnormal: int = 0
    explained: int = 0
    waived: int = 0
    agreement: float | None = None
    agreement_n: int = 0
    rounds: int = 1
    flags: list[FlagRecord] = field(default_factory=list)

    @property
    def unexplained(self) -> int:
        return self.abnormal - self.explained - self.waived

    @property
    def on_time_share(self) -> float | None:
        dated = self.on_time + self.late
        return self.on_time / dated if dated else None

    @property
    def abnormal_share(self) -> float | None:
        return self.abnormal / self.submitted if self.submitted else None


def round_conduct(assignments: Iterable[AssignmentRecord], *, deadline: dt.datetime | None,
                  fits: Mapping[int, RaterFit], totals: Iterable[tuple[int, int, float]],
                  consensus: Mapping[int, float], flags: Iterable[FlagRecord],
                  rule: ConductRule) -> list[ExpertConduct]:
    """Every assigned expert's figures in one round, by expert id.

    ``totals`` are (expert, item, weighted total) of the submitted ratings the fit used;
    ``consensus`` the normalized score of each item. Only active flags count as abnormal.
    """
    out: dict[int, ExpertConduct] = {}

    def of(expert: int) -> ExpertConduct:
        return out.setdefault(expert, ExpertConduct(expert))

    for a in assignments:
        c = of(a.expert_id)
        c.assigned += 1
        c.saves += len(a.saves)
        c.minutes += time_spent(a.saves, a.submitted_at, gap_minutes=rule.session_gap_minutes)
        if a.status == "recused":
            c.recused += 1
        elif a.status == "submitted":
            c.submitted += 1
            if deadline is None or a.submitted_at is None:
                c.undated += 1
            elif a.submitted_at <= deadline:
                c.on_time += 1
            else:
                c.late += 1
    for expert, fit in fits.items():
        if expert in out:
            c = out[expert]
            c.bias, c.scale, c.residual_sd, c.n_fit = fit.bias, fit.scale, fit.residual_sd, fit.n
    pairs: dict[int, list[tuple[float, float]]] = {}
    for expert, item, total in totals:
        if total is not None and consensus.get(item) is not None:
            pairs.setdefault(expert, []).append((float(total), float(consensus[item])))
    for expert, values in pairs.items():
        if expert in out:
            out[expert].agreement = spearman([a for a, _ in values], [b for _, b in values])
            out[expert].agreement_n = len(values) if out[expert].agreement is not None else 0
    for flag in flags:
        if flag.active and flag.expert_id in out:
            c = out[flag.expert_id]
            c.abnormal += 1
            c.flags.append(flag)
            if flag.explanation:
                c.explained += 1
            elif flag.waiver:
                c.waived += 1
    for c in out.values():
        c.minutes = round(c.minutes, 6)
    return [out[k] for k in sorted(out)]


def _weighted(values: list[tuple[float | None, int]]) -> float | None:
    usable = [(v, n) for v, n in values if v is not None and n > 0]
    weight = sum(n for _, n in usable)
    return round(sum(v * n for v, n in usable) / weight, 12) if weight else None


def year_conduct(rounds: Iterable[list[ExpertConduct]]) -> list[ExpertConduct]:
    """An expert's year from their rounds: counts and minutes add up; bias, scale and agreement are
    means weighted by the ratings (agreement: the works) behind each round's figure; the residual
    spread is pooled, sqrt(sum n * sd^2 / sum n)."""
    grouped: dict[Hashable, list[ExpertConduct]] = {}
    for rows in rounds:
        for row in rows:
            grouped.setdefault(row.expert_id, []).append(row)
    out = []
    for expert in sorted(grouped):
        rows = grouped[expert]
        c = ExpertConduct(expert, rounds=len(rows))
        for name in ("assigned", "submitted", "on_time", "late", "undated", "recused", "saves", "n_fit",
                     "abnormal", "explained", "waived", "agreement_n"):
            setattr(c, name, sum(getattr(r, name) for r in rows))
        c.minutes = round(sum(r.minutes for r in rows), 6)
        c.bias = _weighted([(r.bias, r.n_fit) for r in rows])
        c.scale = _weighted([(r.scale, r.n_fit) for r in rows])
        pooled = _weighted([(r.residual_sd ** 2 if r.residual_sd is not None else None, r.n_fit) for r in rows])
        c.residual_sd = round(math.sqrt(pooled), 12) if pooled is not None else None
        c.agreement = _weighted([(r.agreement, r.agreement_n) for r in rows])
        c.flags = [f for r in rows for f in r.flags]
        out.append(c)
    return out
