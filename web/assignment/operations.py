"""Writes of the assignment: the seeded draw of a round (随机抽取, via scoring.rules.assignment),
manual moves, additions and removals with a reason, and the replacement of a recused expert.

Every write checks the same hard constraints (conflicts of interest, expertise, capacity,
availability, the round's state), writes its audit event and leaves the commit to the caller.
An assignment whose rating has started (in progress, submitted, or any saved Rating row) is
never moved or dropped: the operation refuses and says so.
"""
from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, insert
from sqlmodel import Session, select

from scoring.rules.assignment import AssignmentResult, InfeasibleAssignment, draw_assignment
from scoring.rules.config import load_rules
from scoring.rules.conflicts import CONFLICT_REASONS, conflict_reasons, find_conflicts

from ..core.audit import record_event
from ..core.refused import Refused
from ..core.models import (Assignment, AssignmentDraw, AssignmentStatus, Conflict, DisseminationCase, ExpertAbsence, Role,
                      Round, RoundKind, RoundState, User, Work, utcnow)
from .draw_lock import blocking_job, busy_message
from .queries import conflict_rules, draw_input, draw_work, experts_of, has_ratings, latest_draw, recusals_of

OPEN_STATES = (RoundState.intake, RoundState.scoring)
MAX_SEED = 2**63 - 1


class AssignmentRefused(Refused):
    """The change breaks a rule of the round or of the assignment (409 ``refused``); ``zh`` and ``en``
    say which, and nothing was written."""

    def __init__(self, zh: str, en: str):
        super().__init__(409, "refused", zh, en)


def presentation_order(seed: int, expert_id: int, work_id: int) -> int:
    """A work's place in the expert's list: random per expert, fixed by the draw's seed."""
    digest = hashlib.blake2b(f"{seed}:{expert_id}:{work_id}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") >> 1


def can_change(round_: Round) -> bool:
    """Whether the round's assignments may change (drawn, added, moved, removed): intake or scoring."""
    return RoundState(round_.state) in OPEN_STATES


def check_open(round_: Round) -> None:
    """Refuse any assignment change once the round has left intake and scoring."""
    state = RoundState(round_.state)
    if not can_change(round_):
        raise AssignmentRefused(
            f"轮次 {round_.key} 处于“{state.value}”状态，只有征集（intake）或评审（scoring）阶段可以分配或调整专家",
            f"round {round_.key} is in state {state.value}; assignments can change only during "
            f"intake or scoring")


def check_draw_request(round_: Round, per_work: int, seed: int | None) -> int:
    """Refuse a draw the round or the parameters do not allow; the seed to use (a random one for None)."""
    check_open(round_)
    if per_work < 1:
        raise AssignmentRefused(f"每部作品的专家数必须至少为 1（收到 {per_work}）",
                                f"experts per work must be at least 1 (got {per_work})")
    seed = secrets.randbelow(MAX_SEED) if seed is None else int(seed)
    if not 0 <= seed <= MAX_SEED:
        raise AssignmentRefused("随机种子必须是 0 到 2^63-1 之间的整数", "the seed must be an integer from 0 to 2^63-1")
    return seed


@dataclass(frozen=True)
class DrawOutcome:
    """A finished draw: what the algorithm returned and what was written."""

    draw: AssignmentDraw
    result: AssignmentResult
    dropped: int  # unstarted assignments removed because they had become conflicts


def run_draw(*, session: Session, round_: Round, per_work: int, seed: int | None = None, actor: str = "",
             progress: Callable[[str, int, int], None] | None = None, job_id: int | None = None) -> DrawOutcome:
    """Draw experts for every open slot of the round (incremental); raises InfeasibleAssignment or AssignmentRefused.

    ``job_id`` is the caller's own ``DrawJob`` (web.assignment.jobs); any other queued or running
    draw of the round refuses this one.
    """
    seed = check_draw_request(round_, per_work, seed)
    running = blocking_job(session=session, round_=round_, job_id=job_id)
    if running is not None:
        raise AssignmentRefused(*busy_message(round_, running))
    data = draw_input(session=session, round_=round_)
    if not data.works:
        raise AssignmentRefused(f"轮次 {round_.key} 还没有作品", f"round {round_.key} has no works yet")
    expert_pos = {x.id: i for i, x in enumerate(data.experts)}
    work_pos = {w.id: i for i, w in enumerate(data.works)}
    table = find_conflicts(data.experts, data.works, rules=data.rules, recusals=data.recusals)
    known = [a for a in data.existing if a.expert_id in expert_pos]
    hit = table.contains(np.array([expert_pos[a.expert_id] for a in known], dtype=np.int64),
                         np.array([work_pos[a.work_id] for a in known], dtype=np.int64)) if known else []
    stale, kept = [], []
    for a in data.existing:
        if a.expert_id not in expert_pos:  # no longer an expert
            if a.id in data.started:
                raise AssignmentRefused(f"用户 {a.expert_id} 已不是评审专家，但已开始评审作品 {a.work_id}",
                                        f"user {a.expert_id} is no longer an expert but has started rating "
                                        f"work {a.work_id}")
            stale.append(a)
    for a, conflicted in zip(known, hit):
        if not conflicted:
            kept.append(a)
        elif a.id in data.started:
            codes = table.codes_of(expert_pos[a.expert_id], work_pos[a.work_id])
            raise AssignmentRefused(
                f"专家 {a.expert_id} 已开始评审作品 {a.work_id}，但二者存在回避关系；请先由专家回避或由组长处理",
                f"expert {a.expert_id} has started rating work {a.work_id}, which is now a conflict "
                f"({', '.join(codes)}); recuse it first")
        else:
            stale.append(a)
    result = draw_assignment(data.experts, data.works, per_work=per_work, seed=seed, rules=data.rules,
                             existing=[(a.expert_id, a.work_id) for a in kept], recusals=data.recusals,
                             progress=progress, small_category_max=load_rules().assignment.small_category_max)
    item = "case_id" if RoundKind(round_.kind) == RoundKind.dissemination else "work_id"
    if stale:
        session.execute(delete(Assignment).where(Assignment.id.in_([a.id for a in stale])))
    now = utcnow()
    if result.new:  # Core insert: no ORM bookkeeping for tens of thousands of rows
        session.connection().execute(insert(Assignment.__table__), [
            {"round_id": round_.id, "expert_id": e, item: w, "status": AssignmentStatus.pending, "version": 0,
             "presentation_order": presentation_order(seed, e, w), "created_at": now, "updated_at": now}
            for e, w in result.new])
    report = dataclasses.asdict(result.report)
    report["load_histogram"] = {str(k): v for k, v in report["load_histogram"].items()}
    draw = AssignmentDraw(round_id=round_.id, seed=seed, per_work=per_work, created=len(result.new),
                          kept=len(result.kept), report=report, actor=actor)
    session.add(draw)
    record_event(session, "assignment.drawn", actor=actor, round_id=round_.id, subject=round_.key,
                 detail={"seed": seed, "per_work": per_work, "new": len(result.new), "kept": len(result.kept),
                         "dropped_conflicts": len(stale), "coverage": result.report.coverage})
    session.flush()
    return DrawOutcome(draw, result, len(stale))


def _check_pair(session: Session, round_: Round, expert: User, work: Work, *, ignore: Assignment | None = None) -> None:
    """Refuse an (expert, work) pair that breaks a hard constraint."""
    if expert.role != Role.expert or not expert.active:
        raise AssignmentRefused(f"{expert.username} 不是在岗的评审专家", f"{expert.username} is not an active expert")
    if work.round_id != round_.id:
        raise AssignmentRefused(f"作品 {work.id} 不属于轮次 {round_.key}", f"work {work.id} is not in round {round_.key}")
    if work.category not in (expert.categories or ()):
        raise AssignmentRefused(f"{expert.username} 不擅长“{work.category}”类别",
                                f"{expert.username} does not cover the category {work.category}")
    if session.exec(select(ExpertAbsence).where(ExpertAbsence.round_id == round_.id,
                                                ExpertAbsence.user_id == expert.id)).first():
        raise AssignmentRefused(f"{expert.username} 本轮不可参评", f"{expert.username} is not available in this round")
    codes = conflict_reasons(experts_of(session=session, users=[expert])[0], draw_work(work),
                             rules=conflict_rules(round_), recusals=recusals_of(session=session, round_=round_,
                                                                                  work_ids={work.id}))
    if codes:
        raise AssignmentRefused("存在回避关系：" + "；".join(CONFLICT_REASONS[c][0] for c in codes),
                                "conflict of interest: " + "; ".join(CONFLICT_REASONS[c][1] for c in codes))
    live = list(session.exec(select(Assignment).where(Assignment.round_id == round_.id,
                                                      Assignment.expert_id == expert.id,
                                                      Assignment.status != AssignmentStatus.recused)))
    if any(a.work_id == work.id and a is not ignore for a in live):
        raise AssignmentRefused(f"{expert.username} 已分配该作品", f"{expert.username} is already assigned this work")
    load = len([a for a in live if a is not ignore])
    if expert.capacity is not None and load >= expert.capacity:
        raise AssignmentRefused(f"{expert.username} 已达本轮上限 {expert.capacity} 部",
                                f"{expert.username} already has {load} works, the most allowed ({expert.capacity})")


def _check_no_draw(session: Session, round_: Round) -> None:
    """Refuse a manual change while a draw of the round runs (it would work from a stale picture)."""
    if blocking_job(session=session, round_=round_) is not None:
        raise AssignmentRefused(f"轮次 {round_.key} 正在随机抽取，请待其完成后再人工调整",
                                f"a draw of round {round_.key} is running; change assignments once it has finished")


def _need_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise AssignmentRefused("请填写调整理由", "a reason is required")
    return reason[:1000]


def _order_seed(session: Session, round_: Round) -> int:
    draw = latest_draw(session=session, round_=round_)
    return draw.seed if draw else round_.id


def add_assignment(*, session: Session, round_: Round, expert: User, work: Work, actor: str, reason: str) -> Assignment:
    """Assign one more expert to a work, by hand, with a reason."""
    check_open(round_)
    _check_no_draw(session, round_)
    reason = _need_reason(reason)
    _check_pair(session, round_, expert, work)
    return _insert(session, round_, expert, "work", work.id, actor=actor, reason=reason)


def _insert(session: Session, round_: Round, expert: User, kind: str, item_id: int, *, actor: str,
            reason: str) -> Assignment:
    """Write one checked hand-made assignment of a work or a case (``kind``), audited with its reason."""
    work_id, case_id = (item_id, None) if kind == "work" else (None, item_id)
    assignment = Assignment(round_id=round_.id, expert_id=expert.id, work_id=work_id, case_id=case_id,
                            presentation_order=presentation_order(_order_seed(session, round_), expert.id, item_id))
    session.add(assignment)
    session.flush()
    record_event(session, "assignment.added", actor=actor, round_id=round_.id, subject=f"{kind} {item_id}",
                 detail={"expert": expert.username, f"{kind}_id": item_id, "reason": reason})
    return assignment


def add_case_assignment(*, session: Session, round_: Round, expert: User, case: DisseminationCase, actor: str,
                        reason: str) -> Assignment:
    """Assign an expert to a dissemination case, by hand (case rounds have no draw), with a reason.

    The expert must be active and available, not already on the case, within capacity, and not
    of the unit that submitted it (their organisation, or one they declared a conflict with).
    """
    check_open(round_)
    reason = _need_reason(reason)
    if expert.role != Role.expert or not expert.active:
        raise AssignmentRefused(f"{expert.username} 不是在岗的评审专家", f"{expert.username} is not an active expert")
    if case.round_id != round_.id:
        raise AssignmentRefused(f"案例 {case.id} 不属于轮次 {round_.key}", f"case {case.id} is not in round {round_.key}")
    if session.exec(select(ExpertAbsence).where(ExpertAbsence.round_id == round_.id,
                                                ExpertAbsence.user_id == expert.id)).first():
        raise AssignmentRefused(f"{expert.username} 本轮不可参评", f"{expert.username} is not available in this round")
    unit = case.unit.strip()
    declared = {(c.organisation or "").strip() for c in session.exec(select(Conflict).where(
        Conflict.user_id == expert.id, Conflict.organisation.is_not(None)))}
    if unit and (unit == (expert.organisation or "").strip() or unit in declared):
        raise AssignmentRefused(f"存在回避关系：{expert.username} 与申报单位“{unit}”有关",
                                f"conflict of interest: {expert.username} is linked to the submitting unit {unit}")
    mine = list(session.exec(select(Assignment).where(Assignment.round_id == round_.id,
                                                      Assignment.expert_id == expert.id)))
    if any(a.case_id == case.id and a.status == AssignmentStatus.recused for a in mine):
        raise AssignmentRefused(f"{expert.username} 已对该案例申请回避", f"{expert.username} recused from this case")
    live = [a for a in mine if a.status != AssignmentStatus.recused]
    if any(a.case_id == case.id for a in live):
        raise AssignmentRefused(f"{expert.username} 已分配该案例", f"{expert.username} is already assigned this case")
    if expert.capacity is not None and len(live) >= expert.capacity:
        raise AssignmentRefused(f"{expert.username} 已达本轮上限 {expert.capacity} 个",
                                f"{expert.username} already has {len(live)} items, the most allowed ({expert.capacity})")
    return _insert(session, round_, expert, "case", case.id, actor=actor, reason=reason)


def _refuse_started(session: Session, assignment: Assignment) -> None:
    if has_ratings(session=session, assignment=assignment):
        raise AssignmentRefused("该分配已有评分（评审中或已提交），不能移除或改派；如有回避，请由专家申请回避",
                                "this assignment already has a score (in progress or submitted); it cannot be "
                                "removed or moved — the expert recuses instead")


def _refuse_case(assignment: Assignment) -> None:
    if assignment.work_id is None:
        raise AssignmentRefused("传播案例的分配不能改派或替补：请移除后按案例编号重新增加",
                                "a dissemination case's assignment is not moved or replaced: remove it and add "
                                "another by the case's number")


def remove_assignment(*, session: Session, round_: Round, assignment: Assignment, actor: str, reason: str) -> None:
    """Remove an unstarted assignment, with a reason."""
    check_open(round_)
    _check_no_draw(session, round_)
    reason = _need_reason(reason)
    _refuse_started(session, assignment)
    detail = {"expert_id": assignment.expert_id, "work_id": assignment.work_id, "reason": reason}
    session.delete(assignment)
    record_event(session, "assignment.removed", actor=actor, round_id=round_.id,
                 subject=f"work {assignment.work_id}", detail=detail)
    session.flush()


def move_assignment(*, session: Session, round_: Round, assignment: Assignment, expert: User, actor: str,
                    reason: str) -> Assignment:
    """Give an unstarted assignment to another expert, with a reason."""
    check_open(round_)
    _check_no_draw(session, round_)
    reason = _need_reason(reason)
    _refuse_started(session, assignment)
    _refuse_case(assignment)
    work = session.get(Work, assignment.work_id)
    _check_pair(session, round_, expert, work)
    before = assignment.expert_id
    assignment.expert_id = expert.id
    assignment.presentation_order = presentation_order(_order_seed(session, round_), expert.id, work.id)
    assignment.updated_at = utcnow()
    session.add(assignment)
    record_event(session, "assignment.moved", actor=actor, round_id=round_.id, subject=f"work {work.id}",
                 detail={"from_expert_id": before, "to": expert.username, "work_id": work.id, "reason": reason})
    session.flush()
    return assignment


@dataclass(frozen=True)
class Candidate:
    """An expert who may take a freed slot: no conflict, covers the category, has room."""

    expert: User
    load: int
    shared: int  # experts of the work this candidate already shares other works with


def propose_replacement(*, session: Session, assignment: Assignment) -> list[Candidate]:
    """Ranked replacements for a recused (or unstarted) assignment: least loaded first, then most linked."""
    if assignment.work_id is None:  # a case: the secretariat adds another expert by the case's number
        return []
    round_ = session.get(Round, assignment.round_id)
    work = session.get(Work, assignment.work_id)
    users = session.exec(select(User).where(User.role == Role.expert, User.active).order_by(User.username))
    live = list(session.exec(select(Assignment).where(Assignment.round_id == round_.id,
                                                      Assignment.status != AssignmentStatus.recused)))
    load = Counter(a.expert_id for a in live)
    on_work = {a.expert_id for a in live if a.work_id == work.id}
    works_of = {}
    for a in live:
        works_of.setdefault(a.expert_id, set()).add(a.work_id)
    candidates = []
    for user in users:
        if user.id == assignment.expert_id or user.id in on_work:
            continue
        try:
            _check_pair(session, round_, user, work)
        except AssignmentRefused:
            continue
        mine = works_of.get(user.id, set())
        shared = sum(1 for other in on_work if mine & works_of.get(other, set()))
        candidates.append(Candidate(user, load[user.id], shared))
    return sorted(candidates, key=lambda c: (c.load, -c.shared, c.expert.username))


def replace_recused(*, session: Session, assignment: Assignment, expert: User, actor: str,
                    reason: str = "") -> Assignment:
    """Fill the slot of a recused assignment with ``expert`` (checked like any new pair)."""
    round_ = session.get(Round, assignment.round_id)
    check_open(round_)
    _check_no_draw(session, round_)
    if assignment.status != AssignmentStatus.recused:
        raise AssignmentRefused("只有已回避的分配需要替补", "only a recused assignment is replaced")
    _refuse_case(assignment)
    work = session.get(Work, assignment.work_id)
    draw = latest_draw(session=session, round_=round_)
    per_work = draw.per_work if draw else load_rules().assignment.per_work
    live = session.exec(select(Assignment).where(Assignment.round_id == round_.id, Assignment.work_id == work.id,
                                                 Assignment.status != AssignmentStatus.recused)).all()
    if len(live) >= per_work:
        raise AssignmentRefused(f"作品 {work.id} 已有 {len(live)} 名专家，空缺已补足",
                                f"work {work.id} already has {len(live)} experts; the slot is filled")
    _check_pair(session, round_, expert, work)
    new = Assignment(round_id=round_.id, expert_id=expert.id, work_id=work.id,
                     presentation_order=presentation_order(_order_seed(session, round_), expert.id, work.id))
    session.add(new)
    session.flush()
    record_event(session, "assignment.replaced", actor=actor, round_id=round_.id, subject=f"work {work.id}",
                 detail={"recused_assignment_id": assignment.id, "recused_expert_id": assignment.expert_id,
                         "to": expert.username, "work_id": work.id, "reason": (reason or "").strip()[:1000]})
    return new


__all__ = ["AssignmentRefused", "InfeasibleAssignment", "DrawOutcome", "Candidate", "run_draw", "add_assignment",
           "remove_assignment", "move_assignment", "propose_replacement", "replace_recused", "presentation_order",
           "check_open", "check_draw_request"]
