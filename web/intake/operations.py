"""Writes of intake, one function per action: importing works, importing dissemination cases
(优秀传播案例), and recording a provincial round's recommendation onward.

An import checks every row (``scoring.rules.eligibility`` / ``scoring.rules.cases``) and looks
for 重复参评 / 多头申报 within the file and against the other rounds of the year at the same
stage (``scoring.rules.duplicates``). With any failing row nothing is written unless
``accept_valid`` is set, in which case the valid rows are imported and the caller writes the
rejected ones out. Cases go in with Q4's deadlines (calendar ``annual.dissemination_with``)
and must have been carried out in the year.
"""
from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from scoring.rules.cases import CaseContext, CaseEntry, case_columns_problem, check_case
from scoring.rules.columns import CASE_COLUMNS, WORK_COLUMNS
from scoring.rules.config import Rules, load_rules
from scoring.rules.duplicates import Candidate, find_duplicates
from scoring.rules.eligibility import Entry, IntakeContext, check_entry
from scoring.rules.fields import normalize_license, normalize_title
from scoring.rules.quota import QuotaDecision, check_recommendation

from ..core.audit import record_event
from ..core.refused import Refused
from ..core.models import DisseminationCase, Round, RoundKind, RoundState, Stage, Work
from ..rounds.keys import round_deadlines
from .batches import LATE_REASON_FLAG, ImportReport, prepare, today, write_batch


def _candidates_in_db(session: Session, round_: Round) -> list[Candidate]:
    """Works already entered this year at the same stage (copies into the annual round excluded)."""
    rows = session.exec(
        select(Work.id, Work.title, Work.title_normalized, Work.license_no, Work.submitter, Round.key)
        .join(Round, Round.id == Work.round_id)
        .where(Round.year == round_.year, Round.stage == round_.stage, Round.kind == RoundKind.quarter))
    return [Candidate(ref=id_, title=title, normalized=normalized, license=normalize_license(license_no),
                      submitter=submitter, round_key=key)
            for id_, title, normalized, license_no, submitter, key in rows]


def import_works(session: Session, *, round_key: str, data: bytes, filename: str,
                 accept_valid: bool = False, late_reason: str | None = None, actor: str = "",
                 on: dt.date | None = None, rules: Rules | None = None,
                 late_reason_where: tuple[str, str] = LATE_REASON_FLAG) -> ImportReport:
    """Check and import a works file into a quarter round; nothing is written if a row fails
    (unless ``accept_valid``). Raises IntakeError when the import cannot go ahead at all."""
    rules = rules or load_rules()
    on = on or today()
    round_, report, table = prepare(session, round_key=round_key, data=data, filename=filename,
                                    kind="works", columns=WORK_COLUMNS, late_reason=late_reason,
                                    on=on, rules=rules, late_reason_where=late_reason_where)
    if table is None:
        return report
    window = round_deadlines(round_, rules).window
    context = IntakeContext(round_key=round_.key, window=window, stage=round_.stage.value, today=on)
    entries: list[Entry] = []
    for number, cells in report.cells:
        entry, issues = check_entry(number, cells, rules=rules, context=context)
        report.issues.extend(issues)
        if entry is not None:
            entries.append(entry)
    candidates = [Candidate(ref=e.row, title=e.title, normalized=e.title_normalized,
                            license=e.license_normalized, submitter=e.submitter) for e in entries]
    matches = find_duplicates(candidates, _candidates_in_db(session, round_),
                              threshold=rules.intake.near_duplicate_threshold)
    report.issues.extend(match.issue() for match in matches)
    report.issues.sort(key=lambda issue: issue.row)
    bad_rows = set(report.rejected_rows)
    valid = [e for e in entries if e.row not in bad_rows]
    if (report.issues and not accept_valid) or not valid:
        session.rollback()  # end the read transaction; nothing was written
        return report
    rows = [{key: getattr(entry, key) for key in _WORK_FIELDS} for entry in valid]
    write_batch(session, round_=round_, report=report, actor=actor, table=Work.__table__, rows=rows)
    return report


_WORK_FIELDS = ("title", "title_normalized", "category", "submitter", "submitter_type", "unit",
                "unit_type", "platform", "first_broadcast", "last_broadcast", "license_no",
                "copyright_holder", "uhd", "aigc", "single_episode", "episodes", "duration_min",
                "synopsis", "url")


def _cases_in_db(session: Session, year: int) -> list[Candidate]:
    rows = session.exec(select(DisseminationCase.id, DisseminationCase.name, DisseminationCase.unit, Round.key)
                        .join(Round, Round.id == DisseminationCase.round_id)
                        .where(Round.year == year, Round.kind == RoundKind.dissemination))
    return [Candidate(ref=id_, title=name, normalized=normalize_title(name), license="", submitter=unit,
                      round_key=key) for id_, name, unit, key in rows]


def import_cases(session: Session, *, round_key: str, data: bytes, filename: str,
                 accept_valid: bool = False, late_reason: str | None = None, actor: str = "",
                 on: dt.date | None = None, rules: Rules | None = None,
                 late_reason_where: tuple[str, str] = LATE_REASON_FLAG) -> ImportReport:
    """Check and import a dissemination-case file; nothing is written if a row fails (unless ``accept_valid``)."""
    rules = rules or load_rules()
    on = on or today()
    round_, report, table = prepare(session, round_key=round_key, data=data, filename=filename,
                                    kind="cases", columns=CASE_COLUMNS, late_reason=late_reason, on=on,
                                    rules=rules, extra_header_check=case_columns_problem,
                                    late_reason_where=late_reason_where)
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


class QuotaError(Refused):
    """A recommendation over the provincial cap without a written reason (422); ``decision`` says by how much."""

    def __init__(self, decision: QuotaDecision):
        super().__init__(422, "over_quota", decision.zh, decision.en)
        self.decision = decision


def recommend(*, session: Session, round_: Round, work_ids: list[int], reason: str | None = None,
              actor: str = "", rules: Rules | None = None) -> QuotaDecision:
    """Record which entries a provincial round forwards (replacing any earlier choice); not committed.

    At most ``stage.provincial.recommend_cap`` of the entries received, "in principle": more
    only with a written reason, which the audit log keeps.
    """
    rules = rules or load_rules()
    if round_.stage != Stage.provincial:
        raise ValueError(f"{round_.key} is a national round; only provincial rounds recommend onward "
                         "(central units submit directly)")
    if round_.state == RoundState.signed:
        raise ValueError(f"round {round_.key} is signed; its recommendation is final")
    chosen = set(work_ids)
    works = list(session.exec(select(Work).where(Work.round_id == round_.id)))
    known = {w.id for w in works}
    strangers = sorted(chosen - known)
    if strangers:
        raise ValueError(f"works {', '.join(map(str, strangers))} are not entries of {round_.key}")
    decision = check_recommendation(received=len(works), chosen=len(chosen), stage=rules.stages["provincial"],
                                    reason=reason)
    if not decision.allowed:
        raise QuotaError(decision)
    for work in works:
        if work.recommended != (work.id in chosen):
            work.recommended = work.id in chosen
            session.add(work)
    record_event(session, "round.recommended", actor=actor, round_id=round_.id, subject=round_.key,
                 detail={"received": decision.received, "recommended": sorted(chosen), "limit": decision.limit,
                         "over_cap": decision.over_cap, "reason": (reason or "").strip() or None})
    session.flush()
    return decision
