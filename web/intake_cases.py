"""Importing dissemination cases (优秀传播案例) into the year's case round, with the same
all-or-nothing rules as works. Cases go in with Q4's deadlines (calendar
``annual.dissemination_with``) and must have been carried out in the year.
"""
from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from scoring.rules.cases import CaseContext, CaseEntry, case_columns_problem, check_case
from scoring.rules.columns import CASE_COLUMNS
from scoring.rules.config import Rules, load_rules
from scoring.rules.duplicates import Candidate, find_duplicates
from scoring.rules.fields import normalize_title

from .intake import ImportReport, prepare, today, write_batch
from .models import DisseminationCase, Round, RoundKind


def _cases_in_db(session: Session, year: int) -> list[Candidate]:
    rows = session.exec(select(DisseminationCase.id, DisseminationCase.name, DisseminationCase.unit, Round.key)
                        .join(Round, Round.id == DisseminationCase.round_id)
                        .where(Round.year == year, Round.kind == RoundKind.dissemination))
    return [Candidate(ref=id_, title=name, normalized=normalize_title(name), license="", submitter=unit,
                      round_key=key) for id_, name, unit, key in rows]


def import_cases(session: Session, *, round_key: str, data: bytes, filename: str,
                 accept_valid: bool = False, late_reason: str | None = None, actor: str = "",
                 on: dt.date | None = None, rules: Rules | None = None) -> ImportReport:
    """Check and import a dissemination-case file; nothing is written if a row fails (unless ``accept_valid``)."""
    rules = rules or load_rules()
    on = on or today()
    round_, report, table = prepare(session, round_key=round_key, data=data, filename=filename,
                                    kind="cases", columns=CASE_COLUMNS, late_reason=late_reason, on=on,
                                    rules=rules, extra_header_check=case_columns_problem)
    if table is None:
        return report
    calendar = rules.calendar(round_.year)
    context = CaseContext(round_key=round_.key, today=on,
                          period=(calendar.dissemination_period_start, calendar.dissemination_period_end))
    entries: list[CaseEntry] = []
    for number, cells in report.cells:
        entry, issues = check_case(number, cells, context=context)
        report.issues.extend(issues)
        if entry is not None:
            entries.append(entry)
    candidates = [Candidate(ref=e.row, title=e.name, normalized=normalize_title(e.name), license="",
                            submitter=e.unit) for e in entries]
    for match in find_duplicates(candidates, _cases_in_db(session, round_.year),
                                 threshold=rules.intake.near_duplicate_threshold):
        report.issues.append(match.issue(case=True))
    report.issues.sort(key=lambda issue: issue.row)
    bad_rows = set(report.rejected_rows)
    valid = [e for e in entries if e.row not in bad_rows]
    if (report.issues and not accept_valid) or not valid:
        session.rollback()
        return report
    rows = [{"name": e.name, "unit": e.unit, "period_start": e.period_start, "period_end": e.period_end,
             "description": e.description, "channels": e.channels, "reach": e.reach, "url": e.url}
            for e in valid]
    write_batch(session, round_=round_, report=report, actor=actor, table=DisseminationCase.__table__,
                rows=rows)
    return report
