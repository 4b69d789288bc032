"""The scoring progress board's reads (评分进度): a handful of grouped SQL counts per round, no
ORM objects per assignment, so a refresh at 5,000 works / 25,000 assignments stays cheap.

Each assignment is in exactly one state: ``pending`` (nothing saved), ``saved`` (saved, not
submitted: ``in_progress``), ``submitted`` or ``recused``; ``assigned`` is their sum. A work
needs one rating per assignment that is not recused; it lacks ratings while fewer of them are
submitted, or while it has no assignment that is not recused.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import heapq
from dataclasses import dataclass, field, fields

from sqlalchemy import case, func
from sqlalchemy import select as core_select
from sqlmodel import Session

from ..core.db import plain_rows
from ..core.models import Assignment, AssignmentStatus, DisseminationCase, Round, RoundKind, User, Work
from ..rating.flags import unexplained

CASES_CATEGORY = "优秀传播案例"
#: the works lacking ratings the page lists (most missing first); the counts cover all of them
LACKING_SHOWN = 100


@dataclass(frozen=True)
class CategoryProgress:
    """One category: its works, the ratings they need and have, the works still lacking some."""

    category: str
    works: int
    ratings_needed: int
    ratings_submitted: int
    works_missing_ratings: int


@dataclass(frozen=True)
class ExpertProgress:
    """One expert's assignments in the round by state, their last save, and what waits on them."""

    expert_id: int
    username: str
    display_name: str
    assigned: int
    pending: int
    saved: int
    submitted: int
    recused: int
    last_save: dt.datetime | None
    unexplained: int  # abnormal ratings of theirs still waiting for a written explanation
    stalled: bool  # forms still open and nothing saved for the idle time (or never)

    @property
    def open(self) -> int:
        """Forms still to finish (not submitted, not recused)."""
        return self.pending + self.saved


@dataclass(frozen=True)
class LackingWork:
    """A work with fewer submitted ratings than it needs."""

    item_id: int
    title: str
    category: str
    needed: int
    submitted: int

    @property
    def missing(self) -> int:
        """Ratings still to come (0 for a work no expert is left on: ``unassigned``)."""
        return max(self.needed - self.submitted, 0)

    @property
    def unassigned(self) -> bool:
        """No assignment of the work is left (none drawn, or every expert recused)."""
        return self.needed == 0


@dataclass(frozen=True)
class Board:
    """Everything the board shows, as of ``as_of``."""

    round_key: str
    idle_minutes: float
    categories: list[CategoryProgress]
    experts: list[ExpertProgress]
    lacking: list[LackingWork]  # at most LACKING_SHOWN: unassigned first, then most missing
    lacking_total: int
    unexplained: int
    as_of: dt.datetime
    totals: dict = field(default_factory=dict)

    def etag(self) -> str:
        """Changes exactly when something shown changes (not with ``as_of`` alone; the stalled
        flags move with the clock and are part of it): a digest of every other field's repr (the
        frozen records' reprs name every field; no deep copy as ``asdict`` makes)."""
        content = tuple(getattr(self, f.name) for f in fields(self) if f.name != "as_of")
        return hashlib.sha256(repr(content).encode()).hexdigest()[:32]


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.timezone.utc)


def board(*, session: Session, round_: Round, idle: dt.timedelta, now: dt.datetime) -> Board:
    """The round's progress: per category, per expert, the works lacking ratings, the flags waiting."""
    a = Assignment.__table__.c
    cases = round_.kind == RoundKind.dissemination
    item = a.case_id if cases else a.work_id
    connection = session.connection()
    if cases:
        items = {i: (name, CASES_CATEGORY) for i, name in plain_rows(connection, core_select(
            DisseminationCase.id, DisseminationCase.name).where(DisseminationCase.round_id == round_.id))}
    else:
        items = {i: (title, category) for i, title, category in plain_rows(connection, core_select(
            Work.id, Work.title, Work.category).where(Work.round_id == round_.id))}
    # counts, not sums of 0/1 (PostgreSQL's sum is numeric: 15,000 Decimals a refresh at 5,000 works)
    in_state = {status: func.count().filter(a.status == status) for status in AssignmentStatus}
    per_item = plain_rows(connection, core_select(
        item, func.count(), in_state[AssignmentStatus.submitted], in_state[AssignmentStatus.recused])
        .where(a.round_id == round_.id, item.is_not(None)).group_by(item))
    counts = {i: (n - recused, submitted) for i, n, submitted, recused in per_item}
    by_category: dict[str, list[int]] = {}
    # early in a day most works lack a rating: each is kept as its place in the list, a plain tuple
    # (unassigned first, then most missing, category, title, id), and only the shown few become records
    places: list[tuple] = []
    for item_id, (title, category) in items.items():
        needed, submitted = counts.get(item_id, (0, 0))
        tally = by_category.setdefault(category, [0, 0, 0, 0])
        tally[0] += 1
        tally[1] += needed
        tally[2] += submitted
        if submitted < needed or needed == 0:
            tally[3] += 1
            places.append((needed != 0, min(submitted - needed, 0), category, title, item_id, needed, submitted))
    lacking = [LackingWork(item_id, title, category, needed, submitted)
               for _, _, category, title, item_id, needed, submitted in heapq.nsmallest(LACKING_SHOWN, places)]
    categories = [CategoryProgress(name, *tally) for name, tally in sorted(by_category.items())]

    waiting = unexplained(session=session, round_=round_)
    waiting_by_expert: dict[int, int] = {}
    if waiting:
        for expert_id, n in connection.execute(
                core_select(a.expert_id, func.count()).where(a.id.in_(waiting)).group_by(a.expert_id)):
            waiting_by_expert[expert_id] = int(n)
    # a save or a submit; a recusal (which also moves updated_at) is not work on the forms
    saved_at = case(((a.version > 0) & a.status.in_([AssignmentStatus.in_progress, AssignmentStatus.submitted]),
                     a.updated_at), else_=None)
    # grouped by the expert alone, which the (round, expert, status, version, updated_at) index
    # answers in its own order (migration 0015); the hundred or so names come in a query of their own
    per_expert = connection.execute(
        core_select(a.expert_id, func.count(),
                    *(in_state[s] for s in (AssignmentStatus.pending, AssignmentStatus.in_progress,
                                            AssignmentStatus.submitted, AssignmentStatus.recused)),
                    func.max(saved_at))
        .where(a.round_id == round_.id).group_by(a.expert_id)).all()
    users = {i: (username, display) for i, username, display in connection.execute(
        core_select(User.id, User.username, User.display_name)
        .where(User.id.in_([row[0] for row in per_expert])))} if per_expert else {}
    experts = []
    for expert_id, n, pending, saved, submitted, recused, last in per_expert:
        if expert_id not in users:  # as the join did: an assignment without its user is not listed
            continue
        username, display = users[expert_id]
        last = _aware(last)
        still_open = int(pending) + int(saved)
        stalled = still_open > 0 and (last is None or now - last > idle)
        experts.append(ExpertProgress(expert_id, username, display or username, int(n), int(pending), int(saved),
                                      int(submitted), int(recused), last, waiting_by_expert.get(expert_id, 0),
                                      stalled))
    experts.sort(key=lambda e: (not e.stalled, -e.open, e.username))
    totals = {"works": len(items), "ratings_needed": sum(c.ratings_needed for c in categories),
              "ratings_submitted": sum(c.ratings_submitted for c in categories),
              "works_missing_ratings": len(places), "experts": len(experts),
              "stalled": sum(e.stalled for e in experts)}
    return Board(round_.key, idle.total_seconds() / 60, categories, experts, lacking, len(places),
                 len(waiting), now, totals)


def open_titles(*, session: Session, round_: Round, expert_id: int, limit: int = 30) -> list[str]:
    """Titles of the expert's forms still open in the round (for the reminder), by title."""
    a = Assignment.__table__.c
    cases = round_.kind == RoundKind.dissemination
    title = DisseminationCase.name if cases else Work.title
    table = DisseminationCase if cases else Work
    rows = session.connection().execute(
        core_select(title).join_from(Assignment.__table__, table.__table__,
                                     table.id == (a.case_id if cases else a.work_id))
        .where(a.round_id == round_.id, a.expert_id == expert_id,
               a.status.in_([AssignmentStatus.pending, AssignmentStatus.in_progress]))
        .order_by(title).limit(limit)).all()
    return [r[0] for r in rows]


