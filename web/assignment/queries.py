"""Reads for the assignment: the draw's instance built from the database (experts with their
declared conflicts, works, kept assignments, recusals), the pool, and a round's report
computed from the rows themselves (so its numbers are the database's)."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from sqlmodel import Session, func, select

from scoring.rules.assignment_report import DesignFigures, design_figures, shared_work_pairs
from scoring.rules.config import load_rules
from scoring.rules.conflicts import ConflictRules, Expert, Recusal
from scoring.rules.conflicts import Work as DrawWork

from ..core.models import (Assignment, AssignmentDraw, AssignmentStatus, Conflict, DisseminationCase, ExpertAbsence, Rating,
                      Role, Round, RoundKind, RoundState, Stage, SubmitterType, UnitType, User, Work)
from ..core.inputs import record_id
from ..rating.queries import CASE_CATEGORY

# Provincial-level divisions, short forms: a unit's or an expert's province is compared by these.
PROVINCES = ("北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江", "安徽",
             "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州", "云南",
             "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆", "香港", "澳门", "台湾", "新疆生产建设兵团")
STARTED = (AssignmentStatus.in_progress, AssignmentStatus.submitted)


def province_of(text: str) -> str:
    """The short province name ``text`` starts with ("浙江省广播电视局" -> "浙江"), else ``text`` trimmed."""
    text = (text or "").strip()
    for name in sorted(PROVINCES, key=len, reverse=True):
        if text.startswith(name):
            return name
    return text


def conflict_rules(round_: Round) -> ConflictRules:
    """The automatic conflicts config/stages.toml switches on for this round's stage."""
    return ConflictRules.for_stage(load_rules().assignment, Stage(round_.stage).value)


def draw_work(work: Work) -> DrawWork:
    """A work as the conflict rules see it (its unit's province only for provincial units)."""
    people = (work.submitter,) if work.submitter_type == SubmitterType.individual else ()
    province = province_of(work.unit) if work.unit_type == UnitType.province else ""
    return DrawWork(id=work.id, category=work.category, submitter=work.submitter,
                    copyright_holder=work.copyright_holder, unit=work.unit, unit_province=province, people=people)


def draw_case(case: DisseminationCase) -> DrawWork:
    """A dissemination case as the conflict rules see it: its unit is submitter and recommending unit."""
    return DrawWork(id=case.id, category=CASE_CATEGORY, submitter=case.unit, copyright_holder="", unit=case.unit,
                    unit_province="", people=())


def experts_of(*, session: Session, users: list[User], capacity: dict[int, int | None] | None = None,
               cases: bool = False) -> list[Expert]:
    """Experts with their declared organisations, people and works (capacity overridable per id).

    For a dissemination-case round (``cases``) every expert covers the cases, and declared works
    (work numbers, not case numbers) do not apply.
    """
    declared = defaultdict(list)
    ids = [u.id for u in users]
    for row in session.exec(select(Conflict).where(Conflict.user_id.in_(ids), Conflict.kind != "recused")) if ids else ():
        declared[row.user_id].append(row)
    capacity = capacity or {}
    return [Expert(id=u.id, categories=(CASE_CATEGORY,) if cases else tuple(u.categories or ()),
                   organisation=u.organisation, province=province_of(u.province), capacity=capacity.get(u.id, u.capacity),
                   declared_organisations=tuple(c.organisation for c in declared[u.id] if c.organisation),
                   declared_people=tuple(c.person for c in declared[u.id] if c.person),
                   declared_work_ids=() if cases else tuple(c.work_id for c in declared[u.id] if c.work_id is not None))
            for u in users]


def recusals_of(*, session: Session, round_: Round, work_ids: set[int] | None = None) -> list[Recusal]:
    """Recusals in the round: recused assignments and "recused" conflicts on its works (or cases)."""
    if round_.kind == RoundKind.dissemination:
        return [Recusal(a.expert_id, a.case_id, a.recuse_reason or "") for a in session.exec(
            select(Assignment).where(Assignment.round_id == round_.id, Assignment.status == AssignmentStatus.recused,
                                     Assignment.case_id.is_not(None)))
            if work_ids is None or a.case_id in work_ids]
    found = {(a.expert_id, a.work_id): a.recuse_reason or "" for a in session.exec(
        select(Assignment).where(Assignment.round_id == round_.id, Assignment.status == AssignmentStatus.recused,
                                 Assignment.work_id.is_not(None)))}
    rows = session.exec(select(Conflict).join(Work, Work.id == Conflict.work_id)
                        .where(Conflict.kind == "recused", Work.round_id == round_.id))
    for row in rows:
        found.setdefault((row.user_id, row.work_id), row.reason)
    return [Recusal(e, w, reason) for (e, w), reason in found.items() if work_ids is None or w in work_ids]


@dataclass(frozen=True)
class DrawInput:
    """Everything a draw of one round needs, read in a handful of queries."""

    experts: list[Expert]
    works: list[DrawWork]
    existing: list  # rows (id, expert_id, work_id, status) of the round's live (not recused) assignments
    started: set[int]  # ids of existing assignments with a started or submitted rating
    recusals: list[Recusal]
    rules: ConflictRules
    unavailable: set[int]


def draw_input(*, session: Session, round_: Round) -> DrawInput:
    """The instance of a draw: active experts (absent ones keep their assignments but get no new ones).

    A dissemination-case round draws its cases (``works`` then holds cases, and ``work_id`` of
    the existing rows is the case's id).
    """
    cases = round_.kind == RoundKind.dissemination
    if cases:
        works = [draw_case(c) for c in session.exec(select(DisseminationCase).where(
            DisseminationCase.round_id == round_.id).order_by(DisseminationCase.id))]
    else:
        works = [draw_work(w) for w in session.exec(select(Work).where(Work.round_id == round_.id).order_by(Work.id))]
    item = Assignment.case_id if cases else Assignment.work_id
    existing = list(session.exec(select(Assignment.id, Assignment.expert_id, item.label("work_id"),
                                        Assignment.status).where(
        Assignment.round_id == round_.id, Assignment.status != AssignmentStatus.recused,
        item.is_not(None)).order_by(Assignment.id)))
    rated = set(session.exec(select(Rating.assignment_id).join(Assignment, Assignment.id == Rating.assignment_id)
                             .where(Assignment.round_id == round_.id).distinct()))
    started = {a.id for a in existing if a.status in STARTED or a.id in rated}
    unavailable = set(session.exec(select(ExpertAbsence.user_id).where(ExpertAbsence.round_id == round_.id)))
    on_round = {a.expert_id for a in existing}
    users = [u for u in session.exec(select(User).where(User.role == Role.expert).order_by(User.id))
             if (u.active and u.id not in unavailable) or u.id in on_round]
    kept_load = Counter(a.expert_id for a in existing)
    frozen = {u.id: kept_load[u.id] for u in users if not u.active or u.id in unavailable}
    return DrawInput(experts=experts_of(session=session, users=users, capacity=frozen, cases=cases),
                     works=works, existing=existing, started=started,
                     recusals=recusals_of(session=session, round_=round_), rules=conflict_rules(round_),
                     unavailable=unavailable)


def expert_pool(*, session: Session) -> list[tuple[User, int, int]]:
    """Every expert with their number of declared conflicts and live assignments in all rounds."""
    declared = dict(session.exec(select(Conflict.user_id, func.count()).where(Conflict.kind != "recused")
                                 .group_by(Conflict.user_id)).all())
    live = dict(session.exec(select(Assignment.expert_id, func.count())
                             .where(Assignment.status != AssignmentStatus.recused)
                             .group_by(Assignment.expert_id)).all())
    users = session.exec(select(User).where(User.role == Role.expert).order_by(User.username))
    return [(u, declared.get(u.id, 0), live.get(u.id, 0)) for u in users]


def absences(*, session: Session) -> list[tuple[str, str, str]]:
    """(round key, expert user name, reason) of every expert unavailable in a round."""
    return [tuple(row) for row in session.exec(
        select(Round.key, User.username, ExpertAbsence.reason).join(Round, Round.id == ExpertAbsence.round_id)
        .join(User, User.id == ExpertAbsence.user_id).order_by(Round.key, User.username))]


@dataclass(frozen=True)
class WorkChoice:
    """A work as an expert may see it when declaring a conflict: number, title, category, round — nothing else."""

    id: int
    title: str
    category: str
    round_key: str


def declared_conflicts(*, session: Session, user: User) -> list[tuple[Conflict, WorkChoice | None]]:
    """The conflicts an expert declared (organisations, people, works with their title), oldest first."""
    rows = list(session.exec(select(Conflict).where(Conflict.user_id == user.id, Conflict.kind != "recused")
                             .order_by(Conflict.id)))
    ids = {c.work_id for c in rows if c.work_id is not None}
    works = {w.id: w for w in _work_choices(session, Work.id.in_(ids))} if ids else {}
    return [(c, works.get(c.work_id)) for c in rows]


def _work_choices(session: Session, *where, limit: int | None = None) -> list[WorkChoice]:
    query = (select(Work.id, Work.title, Work.category, Round.key).join(Round, Round.id == Work.round_id)
             .where(*where).order_by(Round.key, Work.id))
    return [WorkChoice(*row) for row in session.exec(query.limit(limit) if limit else query)]


MIN_SEARCH = 2  # characters: one character would list nearly every work
MAX_RESULTS = 20


def find_works_to_declare(*, session: Session, expert: User, text: str,
                          limit: int = MAX_RESULTS) -> list[WorkChoice]:
    """What the expert could be assigned anyway, by number or title: works of the expert's own
    categories in rounds in intake or scoring (no case rounds), at most ``limit``; nothing for
    fewer than two characters. Blind: number, title, category and round, never the submitter."""
    text = (text or "").strip()[:100]
    categories = list(expert.categories or [])
    if len(text) < MIN_SEARCH or not categories:
        return []
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    match = Work.title.ilike(pattern, escape="\\")
    assignable = (Round.state.in_((RoundState.intake, RoundState.scoring)), Round.kind != RoundKind.dissemination,
                  Work.category.in_(categories))
    number = record_id(text)
    exact = _work_choices(session, *assignable, Work.id == number) if number is not None else []
    titled = _work_choices(session, *assignable, match, limit=limit)
    return (exact + [w for w in titled if w not in exact])[:limit]  # the work with that number first


def latest_draw(*, session: Session, round_: Round) -> AssignmentDraw | None:
    """The round's most recent draw, if any."""
    return session.exec(select(AssignmentDraw).where(AssignmentDraw.round_id == round_.id)
                        .order_by(AssignmentDraw.id.desc()).limit(1)).first()


def has_ratings(*, session: Session, assignment: Assignment) -> bool:
    """Whether the assignment's rating has started (status or any saved Rating row)."""
    if assignment.status in STARTED:
        return True
    return session.exec(select(Rating.id).where(Rating.assignment_id == assignment.id).limit(1)).first() is not None


@dataclass(frozen=True)
class CategoryStatus:
    """One category of a round, counted from the assignment rows."""

    category: str
    works: int
    covered: int
    experts: int
    components: int
    sharing_pairs: int
    figures: DesignFigures  # how well the rows let the model estimate rater effects (same function as the draw's)


@dataclass(frozen=True)
class RoundAssignmentReport:
    """Coverage, loads, connectivity and shared works of a round, as the database holds them."""

    per_work: int
    works: int
    covered: int
    assignments: int
    started: int
    recused: int
    load_histogram: dict[int, int]
    categories: list[CategoryStatus]
    top_pairs: list[tuple[str, str, int]]  # (expert, expert, works shared), most first

    @property
    def coverage(self) -> float:
        return self.covered / self.works if self.works else 1.0


def round_report(*, session: Session, round_: Round, per_work: int, top: int = 15) -> RoundAssignmentReport:
    """The round's assignment report computed from its rows (live assignments only)."""
    if round_.kind == RoundKind.dissemination:
        works = [(c, CASE_CATEGORY) for c in session.exec(select(DisseminationCase.id)
                                                           .where(DisseminationCase.round_id == round_.id))]
        item = Assignment.case_id
    else:
        works = list(session.exec(select(Work.id, Work.category).where(Work.round_id == round_.id)))
        item = Assignment.work_id
    rows = list(session.exec(select(Assignment.expert_id, item, Assignment.status)
                             .where(Assignment.round_id == round_.id, item.is_not(None))))
    live = [(e, w) for e, w, s in rows if s != AssignmentStatus.recused]
    per = Counter(w for _, w in live)
    names = dict(session.exec(select(User.id, User.username).where(User.role == Role.expert)).all())
    load = Counter(e for e, _ in live)
    histogram = Counter(load.values())
    histogram[0] = sum(1 for e in names if e not in load) if live else 0
    by_category = defaultdict(list)
    for work_id, category in works:
        by_category[category].append(work_id)
    category_of = {w: c for w, c in works}
    categories = []
    for category in sorted(by_category):
        ids = by_category[category]
        pairs = [(e, w) for e, w in live if category_of[w] == category]
        categories.append(CategoryStatus(category, len(ids), sum(1 for w in ids if per[w] >= per_work),
                                         len({e for e, _ in pairs}), _components(pairs, len(ids)),
                                         len(shared_work_pairs(pairs)),
                                         design_figures(np.array([e for e, _ in pairs], dtype=np.int64),
                                                        np.array([w for _, w in pairs], dtype=np.int64), len(ids))))
    shared = Counter()
    for (a, b), n in shared_work_pairs(live).items():
        shared[tuple(sorted((names.get(a, str(a)), names.get(b, str(b)))))] += n
    return RoundAssignmentReport(
        per_work=per_work, works=len(works), covered=sum(1 for w, _ in works if per[w] >= per_work),
        assignments=len(live), started=sum(1 for _, _, s in rows if s in STARTED),
        recused=sum(1 for _, _, s in rows if s == AssignmentStatus.recused),
        load_histogram={k: v for k, v in sorted(histogram.items()) if v},
        categories=categories, top_pairs=[(a, b, n) for (a, b), n in shared.most_common(top)])


def _components(pairs: list[tuple[int, int]], n_works: int) -> int:
    """Connected components of a category's rater–work graph (a work without raters is its own)."""
    if not pairs:
        return n_works
    e = np.array([p[0] for p in pairs])
    w = np.array([p[1] for p in pairs])
    wu, wi = np.unique(w, return_inverse=True)
    eu, ei = np.unique(e, return_inverse=True)
    graph = sparse.csr_matrix((np.ones(len(w), np.int8), (wi, len(wu) + ei)), shape=(len(wu) + len(eu),) * 2)
    return int(connected_components(graph, directed=False)[0]) + n_works - len(wu)


@dataclass(frozen=True)
class AssignedItem:
    """What the chair's table shows of an assigned work or dissemination case."""

    id: int
    title: str
    category: str


def round_assignments(*, session: Session, round_: Round, limit: int = 500) -> list[tuple[Assignment, AssignedItem, User]]:
    """The round's assignments with their work (or case) and expert, by item (for the chair's table)."""
    if round_.kind == RoundKind.dissemination:
        cases = session.exec(select(Assignment, DisseminationCase, User)
                             .join(DisseminationCase, DisseminationCase.id == Assignment.case_id)
                             .join(User, User.id == Assignment.expert_id).where(Assignment.round_id == round_.id)
                             .order_by(DisseminationCase.id, User.username).limit(limit))
        return [(a, AssignedItem(c.id, c.name, CASE_CATEGORY), u) for a, c, u in cases]
    works = session.exec(select(Assignment, Work, User).join(Work, Work.id == Assignment.work_id)
                         .join(User, User.id == Assignment.expert_id).where(Assignment.round_id == round_.id)
                         .order_by(Work.category, Work.id, User.username).limit(limit))
    return [(a, AssignedItem(w.id, w.title, w.category), u) for a, w, u in works]


def assignment_of_round(*, session: Session, round_: Round, assignment_id: int) -> Assignment | None:
    """The assignment ``assignment_id`` when it belongs to ``round_`` (None otherwise: not found)."""
    assignment = session.get(Assignment, assignment_id)
    return assignment if assignment is not None and assignment.round_id == round_.id else None


def item_by_number(*, session: Session, round_: Round, number: int | None) -> Work | DisseminationCase | None:
    """The work (or, in a dissemination round, the case) a form names by its number."""
    if number is None:
        return None
    return session.get(DisseminationCase if round_.kind == RoundKind.dissemination else Work, number)


def conflict_of(*, session: Session, expert: User, conflict_id: int | None) -> Conflict | None:
    """One of ``expert``'s own declared conflicts (None for another expert's, or none)."""
    conflict = session.get(Conflict, conflict_id) if conflict_id is not None else None
    return conflict if conflict is not None and conflict.user_id == expert.id else None


def work_by_id(*, session: Session, work_id: int | None) -> Work | None:
    """The work ``work_id`` (None when there is none)."""
    return session.get(Work, work_id) if work_id is not None else None
