"""The conduct review of a round or a year: gathers the records (queries), the round's ranking by
the default normalization (the chair console's cached fit, never a second fit) and the calendar's
deadline, and hands them to scoring.rules.conduct. No SQL of its own."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlmodel import Session

from scoring.normalize import DEFAULT_METHOD
from scoring.rules.conduct import (ConductRule, ExpertConduct, RaterFit, load_conduct_rule, round_conduct,
                                   scoring_deadline, year_conduct)
from scoring.rules.config import Rules, load_rules

from ..core.models import Round, RoundKind
from ..review import services
from ..review import queries as review_queries
from ..rounds.keys import round_deadlines
from . import queries


@dataclass
class ConductReport:
    """What the page and the XLSX show: per-expert figures, their rounds, deadlines and flags."""

    scope: str  # "round" or "year"
    label: str  # the round key or the year
    rounds: list[Round]
    deadlines: dict[str, dt.datetime | None]
    rows: list[ExpertConduct]
    names: dict[int, str]
    flag_titles: dict[int, tuple[str, str]] = field(default_factory=dict)  # assignment → (round key, title)
    method: str = DEFAULT_METHOD
    rule: ConductRule = field(default_factory=ConductRule)


def forwarding_day(round_: Round, rules: Rules) -> dt.date | None:
    """The calendar's forwarding deadline a round's scoring deadline counts from.

    Quarters use their own; dissemination and annual rounds the quarter they go with (Q4).
    """
    day = round_deadlines(round_, rules).forwarding
    calendar = rules.calendars.get(round_.year)
    if day is None and round_.kind == RoundKind.annual and calendar is not None:
        day = calendar.quarter(calendar.dissemination_with).forwarding_deadline
    return day


def _round_rows(*, session: Session, round_: Round, rule: ConductRule, rules: Rules,
                titles: dict[int, tuple[str, str]]) -> tuple[list[ExpertConduct], dt.datetime | None]:
    records = queries.assignment_records(session=session, round_=round_)
    deadline = scoring_deadline(round_.key, forwarding_day(round_, rules), rule)
    fits, totals, consensus = {}, [], {}
    if any(r.status == "submitted" for r in records):
        ranking = services.ranking_for(session=session, round_=round_, method=DEFAULT_METHOD, rules=rules)
        fits = {r["expert_id"]: RaterFit(r["expert_id"], r["bias"], r["scale"], r["residual_sd"], r["n"])
                for r in ranking.raters}
        totals = [(r["expert_id"], r["item_id"], r["total"]) for r in ranking.ratings]
        consensus = {row.item_id: row.score for row in ranking.rows}
    flags = queries.flag_records(session=session, round_=round_)
    if flags:
        items = review_queries.round_items(session=session, round_=round_)
        titles.update({f.assignment_id: (round_.key, items.get(f.item_id, ("", ""))[0]) for f in flags})
    rows = round_conduct(records, deadline=deadline, fits=fits, totals=totals, consensus=consensus,
                         flags=flags, rule=rule)
    return rows, deadline


def _names(session: Session, rows: list[ExpertConduct]) -> dict[int, str]:
    return review_queries.user_names(session=session, ids={r.expert_id for r in rows})


def round_report(*, session: Session, round_: Round, rules: Rules | None = None) -> ConductReport:
    """Each assigned expert's figures in one round (the caller commits any ranking it cached)."""
    rules, rule, titles = rules or load_rules(), load_conduct_rule(), {}
    rows, deadline = _round_rows(session=session, round_=round_, rule=rule, rules=rules, titles=titles)
    return ConductReport("round", round_.key, [round_], {round_.key: deadline}, rows, _names(session, rows),
                         titles, rule=rule)


def year_report(*, session: Session, year: int, rules: Rules | None = None) -> ConductReport:
    """Each expert's figures over every round of ``year`` that has assignments."""
    rules, rule, titles = rules or load_rules(), load_conduct_rule(), {}
    rounds = queries.rounds_with_assignments(session=session, year=year)
    per_round, deadlines = [], {}
    for round_ in rounds:
        rows, deadlines[round_.key] = _round_rows(session=session, round_=round_, rule=rule, rules=rules,
                                                  titles=titles)
        per_round.append(rows)
    rows = year_conduct(per_round)
    return ConductReport("year", str(year), rounds, deadlines, rows, _names(session, rows), titles, rule=rule)
