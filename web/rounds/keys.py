"""Round keys and their calendar: ``2025Q1`` (a quarter), ``2025`` (the year), with an
optional ``-SUFFIX`` for a provincial round (``2025Q1-浙江``)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from scoring.rules.config import Rules

from ..core.models import Round, RoundKind

_KEY = re.compile(r"^(?P<year>\d{4})(?:Q(?P<quarter>[1-4]))?(?P<dissemination>-传播案例|-cases)?"
                  r"(?:-(?P<suffix>[^\s/]{1,40}))?$")


@dataclass(frozen=True)
class RoundKey:
    year: int
    quarter: int | None
    kind: RoundKind


def parse_round_key(key: str) -> RoundKey:
    """Year, quarter and kind of a round key; ValueError names what is wrong."""
    match = _KEY.match(key.strip())
    if not match:
        raise ValueError(f"round key {key!r} is not like 2025Q1, 2025, 2025-cases or 2025Q1-浙江")
    quarter = int(match["quarter"]) if match["quarter"] else None
    if match["dissemination"]:
        if quarter is not None:
            raise ValueError(f"round key {key!r}: dissemination cases belong to the year, not a quarter")
        kind = RoundKind.dissemination
    else:
        kind = RoundKind.quarter if quarter else RoundKind.annual
    return RoundKey(int(match["year"]), quarter, kind)


@dataclass(frozen=True)
class Deadlines:
    window: tuple[dt.date, dt.date] | None
    submission: dt.date | None
    forwarding: dt.date | None


def round_deadlines(round_: Round, rules: Rules) -> Deadlines:
    """The first-broadcast window and deadlines of a round from the calendar (None if absent)."""
    calendar = rules.calendars.get(round_.year)
    if calendar is None:
        return Deadlines(None, None, None)
    if round_.quarter:
        quarter = calendar.quarter(f"Q{round_.quarter}")
        return Deadlines((quarter.broadcast_start, quarter.broadcast_end),
                         quarter.submission_deadline, quarter.forwarding_deadline)
    with_quarter = calendar.quarter(calendar.dissemination_with)
    if round_.kind == RoundKind.dissemination:
        return Deadlines((calendar.dissemination_period_start, calendar.dissemination_period_end),
                         with_quarter.submission_deadline, with_quarter.forwarding_deadline)
    return Deadlines(None, None, None)
