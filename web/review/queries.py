"""Reads of the chair console (typed, keyword-only ``session=``). The lock every write checks
(``round_is_locked``) and the signed versions are signing's (``web.signing.queries``)."""
from __future__ import annotations

import datetime as dt
import json
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from ..core.db import plain_rows
from ..core.models import (Assignment, AssignmentStatus, AuditEvent, Comment, DisseminationCase,
                      HighlightTag, RankingCache, Rating, Round, RoundKind,
                      RoundState, Shortlist, ShortlistEntry, User, Work)
from . import rating_reads
from .rankings import RatingInput, RoundRanking

#: The category under which a dissemination round's cases are ranked.
CASES_CATEGORY = "优秀传播案例"


def is_case_round(round_: Round) -> bool:
    """A dissemination-case round rates DisseminationCase rows, not works."""
    return round_.kind == RoundKind.dissemination


def round_items(*, session: Session, round_: Round) -> dict[int, tuple[str, str]]:
    """Every rateable item of the round: id → (title, category)."""
    if is_case_round(round_):
        rows = session.exec(select(DisseminationCase.id, DisseminationCase.name)
                            .where(DisseminationCase.round_id == round_.id))
        return {i: (name, CASES_CATEGORY) for i, name in rows}
    rows = session.exec(select(Work.id, Work.title, Work.category).where(Work.round_id == round_.id))
    return {i: (title, category) for i, title, category in rows}


def item_count(*, session: Session, round_: Round) -> int:
    """How many rateable items the round has (what the provincial cap counts as received)."""
    table = DisseminationCase if is_case_round(round_) else Work
    return session.exec(select(func.count(table.id)).where(table.round_id == round_.id)).one()


def _item_column(round_: Round):
    return Assignment.case_id if is_case_round(round_) else Assignment.work_id


def rating_input(*, session: Session, round_: Round) -> RatingInput:
    """The current criterion values of every submitted assignment of the round (long form),
    read column-wise and incrementally: only the forms this process has not seen at their
    version are read (:mod:`.rating_reads`); ordered by assignment, then criterion, as always."""
    return rating_reads.rating_input(session=session, round_=round_)


def signing_inputs(*, session: Session, round_: Round) -> list[list]:
    """The rows :func:`rating_input` reads, as the snapshot records them:
    [assignment, expert, item, criterion, value, rating version, confidence]."""
    item = _item_column(round_)
    rows = session.exec(
        select(Assignment.id, Assignment.expert_id, item, Rating.criterion, Rating.value, Rating.version,
               Assignment.confidence)
        .join(Rating, (Rating.assignment_id == Assignment.id) & (Rating.version == Assignment.version))
        .where(Assignment.round_id == round_.id, Assignment.status == AssignmentStatus.submitted,
               item.is_not(None))
        .order_by(Assignment.id, Rating.criterion)).all()
    return [[a, e, i, c, float(v), version, confidence] for a, e, i, c, v, version, confidence in rows]


def ratings_fingerprint(*, session: Session, round_: Round) -> str:
    """Changes whenever the ranking's input changes: one aggregate over the round's submitted
    forms. A submitted form's values cannot change while it stays submitted (a save answers
    423): they change by a reopen (it leaves the set) and a submit (it comes back with a higher
    version and a later ``updated_at``). Saves on forms not yet submitted do not change it: the
    ranking reads submitted forms only."""
    forms = session.exec(select(func.count(Assignment.id), func.sum(Assignment.id), func.sum(Assignment.version),
                                func.max(Assignment.updated_at), func.max(Assignment.submitted_at))
                         .where(Assignment.round_id == round_.id,
                                Assignment.status == AssignmentStatus.submitted)).one()
    return ":".join(str(part) for part in forms)


def cached_ranking(*, session: Session, round_: Round, method: str, fingerprint: str) -> RoundRanking | None:
    """The cached ranking of this method if the ratings have not changed since, else None."""
    stored = stored_ranking(session=session, round_=round_, method=method)
    return stored[0] if stored is not None and stored[2] == fingerprint else None


#: Parsed stored rankings of this process, by (row id, fingerprint, computed at): a stored row is
#: parsed once per process, not once per request (a 5,000-work round's payload is megabytes of
#: JSON). The key comes from the database on every request, so nothing stale is served: a
#: recompute writes a new time and fingerprint, and the next request reads the new payload (and
#: the older result of that row is let go, with what its readers kept of it: ``RoundRanking.memo``).
_PARSED: dict[tuple, RoundRanking] = {}
_PARSED_KEEP = 16
_PARSED_LOCK = threading.Lock()


def stored_ranking(*, session: Session, round_: Round, method: str
                   ) -> tuple[RoundRanking, dt.datetime, str] | None:
    """The latest stored ranking of this method, valid or not: (ranking, computed at, the
    ratings' fingerprint it was computed from); None when there is none of this layout."""
    entry = session.exec(select(RankingCache.id, RankingCache.fingerprint, RankingCache.created_at)
                         .where(RankingCache.round_id == round_.id, RankingCache.method == method)).first()
    if entry is None:
        return None
    entry_id, fingerprint, at = entry
    at = at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)
    key = (entry_id, fingerprint, at)
    ranking = _PARSED.get(key)
    if ranking is None:
        payload = session.exec(select(RankingCache.payload).where(RankingCache.id == entry_id)).one()
        try:
            ranking = RoundRanking.from_json(json.loads(payload))
        except TypeError:  # stored by an older layout of RoundRanking: compute afresh
            return None
        with _PARSED_LOCK:
            for older in [k for k in _PARSED if k[0] == entry_id]:  # replaced by this one: never asked for again
                del _PARSED[older]
            if len(_PARSED) >= _PARSED_KEEP:
                _PARSED.pop(next(iter(_PARSED)))
            _PARSED[key] = ranking
    return ranking, at, fingerprint


def stored_methods(*, session: Session, round_: Round) -> list[str]:
    """The methods the round has a stored ranking of (what a recompute refreshes)."""
    return list(session.exec(select(RankingCache.method).where(RankingCache.round_id == round_.id)))


def cache_entry(*, session: Session, round_: Round, method: str) -> RankingCache | None:
    """The stored cache row of (round, method), valid or not."""
    return session.exec(select(RankingCache).where(RankingCache.round_id == round_.id,
                                                   RankingCache.method == method)).first()


def get_shortlist(*, session: Session, round_: Round) -> Shortlist | None:
    """The round's shortlist, if one was proposed."""
    return session.exec(select(Shortlist).where(Shortlist.round_id == round_.id)).first()


def shortlist_entries(*, session: Session, shortlist: Shortlist) -> list[ShortlistEntry]:
    """The entries of a shortlist by category and rank."""
    return list(session.exec(select(ShortlistEntry).where(ShortlistEntry.shortlist_id == shortlist.id)
                             .order_by(ShortlistEntry.category, ShortlistEntry.rank, ShortlistEntry.id)))


class EntryRow(NamedTuple):
    """A shortlist entry's columns as the shortlist's view reads them (no ORM object per entry)."""

    id: int
    work_id: int | None
    case_id: int | None
    category: str
    rank: int
    score: float
    se: float | None
    proposed: bool
    included: bool
    straddles_cut: bool
    override_reason: str | None
    override_by: int | None
    override_at: dt.datetime | None


def shortlist_entry_rows(*, session: Session, shortlist: Shortlist) -> list[EntryRow]:
    """The entries of a shortlist by category and rank, as plain rows (what a page reads; writes
    use :func:`shortlist_entries`)."""
    e = ShortlistEntry.__table__.c
    rows = session.connection().execute(
        core_select(*(e[name] for name in EntryRow._fields)).where(e.shortlist_id == shortlist.id)
        .order_by(e.category, e.rank, e.id)).all()  # one fetch, not a row at a time
    return list(map(EntryRow._make, rows))


#: the audited writes that change a shortlist's entries (review.operations: every one records its event)
ENTRY_WRITES = ("shortlist.proposed", "shortlist.override")


def entries_revision(*, session: Session, round_: Round) -> int:
    """Changes whenever the round's shortlist entries change: the id of the last audited write of
    them (the audit log is append-only, and each write records its event in the same transaction)."""
    return session.exec(select(func.max(AuditEvent.id)).where(AuditEvent.action.in_(ENTRY_WRITES),
                                                              AuditEvent.round_id == round_.id)).one() or 0


def review_events(*, session: Session, round_: Round) -> list[AuditEvent]:
    """The round's shortlist and sign-off events from the audit log (overrides, sign-off, re-opening)."""
    return list(session.exec(select(AuditEvent).where(AuditEvent.round_id == round_.id,
                                                      AuditEvent.action.startswith("shortlist."))
                             .order_by(AuditEvent.id)))


def user_names(*, session: Session, ids: set[int]) -> dict[int, str]:
    """Display names (or usernames) of users by id."""
    if not ids:
        return {}
    rows = session.exec(select(User.id, User.display_name, User.username).where(User.id.in_(list(ids))))
    return {i: display or name for i, display, name in rows}


@dataclass(frozen=True)
class ItemRating:
    """One expert's rating of an item, as the drill-down shows it."""

    assignment: Assignment
    expert: User
    values: dict[str, float]
    comments: list[str]
    tags: list[str]


def item_ratings(*, session: Session, round_: Round, item_id: int) -> list[ItemRating]:
    """Every assignment of an item with its current values, comments and highlight tags."""
    item = _item_column(round_)
    pairs = list(session.exec(select(Assignment, User).join(User, User.id == Assignment.expert_id)
                              .where(Assignment.round_id == round_.id, item == item_id)
                              .order_by(User.username)))
    ids = [a.id for a, _ in pairs]
    values: dict[int, dict[str, float]] = defaultdict(dict)
    comments: dict[int, list[str]] = defaultdict(list)
    tags: dict[int, list[str]] = defaultdict(list)
    if ids:
        versions = {a.id: a.version for a, _ in pairs}
        for rating in session.exec(select(Rating).where(Rating.assignment_id.in_(ids))):
            if rating.version == versions[rating.assignment_id]:
                values[rating.assignment_id][rating.criterion] = rating.value
        for comment in session.exec(select(Comment).where(Comment.assignment_id.in_(ids)).order_by(Comment.id)):
            comments[comment.assignment_id].append(comment.body)
        for tag in session.exec(select(HighlightTag).where(HighlightTag.assignment_id.in_(ids))):
            tags[tag.assignment_id].append(tag.tag)
    return [ItemRating(a, u, values[a.id], comments[a.id], sorted(tags[a.id])) for a, u in pairs]


@dataclass(frozen=True)
class Completion:
    """Assignments by status, for one expert or one category."""

    label: str
    total: int
    submitted: int
    in_progress: int
    recused: int

    @property
    def share(self) -> float:
        active = self.total - self.recused
        return self.submitted / active if active else 0.0


def completion(*, session: Session, round_: Round) -> tuple[list[Completion], list[Completion]]:
    """Completion per expert and per category: grouped counts that the assignment indexes (per
    expert and state, per item and state; migration 0015) answer alone, no row per assignment.

    No join in SQL: per item and state, then each item's category from the round's items (a
    join left to the planner ran as a 9.5 s nested loop on PostgreSQL while a freshly loaded
    round had no statistics yet)."""
    a = Assignment.__table__.c
    item = a.case_id if is_case_round(round_) else a.work_id
    connection = session.connection()
    # the driver's tuples: the status as its stored name, no conversion per row (5,000 works: 25,000 rows)
    per_expert = plain_rows(connection, core_select(a.expert_id, a.status, func.count())
                            .where(a.round_id == round_.id).group_by(a.expert_id, a.status))
    per_item = plain_rows(connection, core_select(item, a.status, func.count())
                          .where(a.round_id == round_.id).group_by(item, a.status))
    names = user_names(session=session, ids={expert for expert, _status, _n in per_expert})
    if is_case_round(round_):
        category_of = dict.fromkeys(session.exec(select(DisseminationCase.id)
                                                 .where(DisseminationCase.round_id == round_.id)), CASES_CATEGORY)
    else:
        category_of = dict(connection.execute(core_select(Work.id, Work.category)
                                              .where(Work.round_id == round_.id)).all())
    by_expert: dict[str, Counter] = defaultdict(Counter)
    by_category: dict[str, Counter] = defaultdict(Counter)
    for counters, rows, label in ((by_expert, per_expert, names), (by_category, per_item, category_of)):
        for key, status, n in rows:
            counter = counters[label.get(key) or "?"]
            counter["total"] += n
            counter[status] += n

    def table(groups: dict[str, Counter]) -> list[Completion]:
        return [Completion(label, c["total"], c["submitted"], c["in_progress"], c["recused"])
                for label, c in sorted(groups.items())]

    return table(by_expert), table(by_category)


def annual_eligibility(*, session: Session, round_: Round) -> dict[int, str]:
    """For an annual round: work id → why it may not be proposed ("" when it may)."""
    works = list(session.exec(select(Work.id, Work.source_work_id).where(Work.round_id == round_.id)))
    sources = [s for _, s in works if s is not None]
    included: set[int] = set()
    if sources:
        included = set(session.exec(
            select(ShortlistEntry.work_id)
            .join(Shortlist, Shortlist.id == ShortlistEntry.shortlist_id)
            .join(Round, Round.id == Shortlist.round_id)
            .where(ShortlistEntry.work_id.in_(sources), ShortlistEntry.included == True,  # noqa: E712
                   Shortlist.state == "signed", Round.state == RoundState.signed)))
    return {work_id: ("" if source in included else
                      ("not_from_quarter" if source is None else "quarter_not_signed"))
            for work_id, source in works}
