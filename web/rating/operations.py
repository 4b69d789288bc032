"""Writes of the expert's side: save scores (versioned, idempotent), submit, recuse, reopen.

Every function changes the models and leaves the commit to the caller. A refused action raises
``Refused`` (web.core.errors) with the HTTP status it maps to (409 stale version, 422 invalid input, 423
locked) and a message, in Chinese and English, that never names the submitter, unit, province or copyright holder.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, insert, update
from sqlalchemy import select as core_select
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from scoring.rules.config import CriteriaSet
from scoring.rules.states import STATE_LABELS

from ..core.audit import record_event
from ..core.errors import Refused
from ..core.models import (Assignment, AssignmentStatus, Comment, Conflict, HighlightTag, Rating, Round,
                      RoundState, ScoreSave, User, utcnow)
from ..core.recompute_queue import enqueue_recompute
from .queries import assignment_scores, current_comment

MAX_COMMENT = 4000
MAX_REASON = 1000
MAX_KEY = 100


@dataclass(frozen=True)
class ScoreChange:
    """What one save asks for: criteria to set, and optionally comment, confidence, highlights."""

    scores: dict[str, float] = field(default_factory=dict)
    version: int = 0
    comment: str | None = None
    confidence: float | None = None
    highlights: tuple[str, ...] | None = None
    clear_confidence: bool = False


def can_edit(assignment: Assignment, round_: Round) -> bool:
    """Whether the expert may still change this form's values (the form and every save ask this)."""
    return round_.state == RoundState.scoring and \
        assignment.status in (AssignmentStatus.pending, AssignmentStatus.in_progress)


def can_recuse(assignment: Assignment, round_: Round) -> bool:
    """Whether the expert may still recuse from this work (before review, neither submitted nor recused)."""
    return round_.state in (RoundState.intake, RoundState.scoring) and \
        assignment.status not in (AssignmentStatus.submitted, AssignmentStatus.recused)


def can_reopen(assignment: Assignment, round_: Round) -> bool:
    """Whether the expert may reopen this submitted form (the chair allowed it, the round is scoring)."""
    return round_.state == RoundState.scoring and assignment.status == AssignmentStatus.submitted \
        and assignment.reopen_allowed


def _state_zh(round_: Round) -> str:
    return STATE_LABELS[round_.state.value][0]


def _check_open(round_: Round, assignment: Assignment) -> None:
    if round_.state != RoundState.scoring:
        raise Refused(423, "round_closed", f"轮次 {round_.key} 当前为“{_state_zh(round_)}”，不在评分阶段：评分已锁定。",
                      f"Round {round_.key} is {round_.state.value}, not scoring: scores are locked.")
    if assignment.status == AssignmentStatus.submitted:
        raise Refused(423, "submitted", "此评分表已提交，只能查看。", "This form was submitted and is read-only.")
    if assignment.status == AssignmentStatus.recused:
        raise Refused(423, "recused", "您已回避此作品。", "You recused yourself from this work.")


def _on_grid(value: float, low: float, step: float) -> bool:
    units = (value - low) / step
    return abs(units - round(units)) < 1e-9


def validate_change(change: ScoreChange, criteria: CriteriaSet) -> None:
    """Raise 422 naming the first criterion (or field) whose value is not allowed."""
    known = {c.key: c for c in criteria.criteria}
    for key, value in change.scores.items():
        criterion = known.get(key)
        if criterion is None:
            raise Refused(422, "unknown_criterion", f"未知的评分项 {key!r}；可用：{'、'.join(known)}。",
                          f"Unknown criterion {key!r}; expected one of {', '.join(known)}.", criterion=key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise Refused(422, "invalid_score", f"{key}：{value!r} 不是数字。", f"{key}: {value!r} is not a number.",
                          criterion=key)
        if not criterion.min <= value <= criterion.max or not _on_grid(value, criterion.min, criterion.step):
            raise Refused(422, "invalid_score",
                          f"{key}：不允许 {value}；请在 {criterion.min:g} 至 {criterion.max:g} 之间、"
                          f"按 {criterion.step:g} 的步长打分。",
                          f"{key}: {value} is not allowed; use {criterion.min:g} to {criterion.max:g} "
                          f"in steps of {criterion.step:g}.", criterion=key,
                                min=criterion.min, max=criterion.max, step=criterion.step)
    if change.comment is not None and len(change.comment) > MAX_COMMENT:
        raise Refused(422, "comment_too_long", f"评语最多 {MAX_COMMENT} 个字符。",
                      f"comment: at most {MAX_COMMENT} characters.")
    if change.confidence is not None and not 0 <= change.confidence <= 1:
        raise Refused(422, "invalid_confidence", "把握程度须为 0 至 1 之间的数。", "confidence: a number from 0 to 1.")
    tags = {h.key for h in criteria.highlights}
    for tag in change.highlights or ():
        if tag not in tags:
            raise Refused(422, "unknown_highlight", f"未知的亮点标签 {tag!r}；可用：{'、'.join(sorted(tags))}。",
                          f"Unknown highlight {tag!r}; expected one of {', '.join(sorted(tags))}.", highlight=tag)


# The save's hot path runs prebuilt SQLAlchemy Core statements on the session's connection: no
# statement is built, no cache key computed and no unit of work flushed per save (about half of
# a save's Python time went there). The ORM is still used for the rare paths (409, highlights).
_SAVES, _RATINGS, _ASSIGNMENTS = ScoreSave.__table__, Rating.__table__, Assignment.__table__
_EARLIER = core_select(_SAVES.c.assignment_id, _SAVES.c.version).where(
    _SAVES.c.user_id == bindparam("user_id"), _SAVES.c.key == bindparam("key"))
_VALUES = core_select(_RATINGS.c.criterion, _RATINGS.c.value).where(
    _RATINGS.c.assignment_id == bindparam("assignment_id"), _RATINGS.c.version == bindparam("version"))
# Compare-and-set: of two concurrent saves on one version only one wins, the other gets 409; and
# a form submitted or recused since it was read is not written (a submit keeps the version).
_MOVE = update(_ASSIGNMENTS).where(_ASSIGNMENTS.c.id == bindparam("assignment_id"),
                                   _ASSIGNMENTS.c.version == bindparam("seen"),
                                   _ASSIGNMENTS.c.status.in_([AssignmentStatus.pending, AssignmentStatus.in_progress]))
_MOVE_VALUES = dict(version=bindparam("new_version"), status=AssignmentStatus.in_progress,
                    updated_at=bindparam("now"))
_MOVE_KEEP = _MOVE.values(**_MOVE_VALUES)
_MOVE_CONFIDENCE = _MOVE.values(**_MOVE_VALUES, confidence=bindparam("new_confidence"))
_INSERT_RATINGS, _INSERT_SAVE = insert(_RATINGS), insert(_SAVES)


def _earlier_save(session: Session, user: User, key: str, assignment: Assignment) -> int | None:
    earlier = session.connection().execute(_EARLIER, {"user_id": user.id, "key": key}).first()
    if earlier is None:
        return None
    if earlier.assignment_id != assignment.id:
        raise Refused(422, "idempotency_key_reused", "此 Idempotency-Key 已用于另一项评审任务。",
                      "This Idempotency-Key was already used for another assignment.")
    return earlier.version


def save_scores(*, session: Session, expert: User, assignment: Assignment, round_: Round,
                criteria: CriteriaSet, change: ScoreChange, idempotency_key: str | None = None) -> int:
    """Apply one save as a new version (the full set of values kept as history); return the version.

    A repeat of an applied ``idempotency_key`` returns the version it first answered and applies
    nothing. A ``change.version`` other than the current one is refused with 409 and the current
    values, so the caller can show both.
    """
    if idempotency_key is not None:
        if not 0 < len(idempotency_key) <= MAX_KEY:
            raise Refused(422, "invalid_idempotency_key", f"Idempotency-Key 须为 1 至 {MAX_KEY} 个字符。",
                          f"Idempotency-Key: 1 to {MAX_KEY} characters.")
        earlier = _earlier_save(session, expert, idempotency_key, assignment)
        if earlier is not None:
            return earlier
    _check_open(round_, assignment)
    validate_change(change, criteria)
    if change.version != assignment.version:
        raise _stale(session, assignment)
    new_version, now = assignment.version + 1, utcnow()
    connection = session.connection()
    values = ({} if assignment.version <= 0 else
              dict(connection.execute(_VALUES, {"assignment_id": assignment.id, "version": assignment.version}).all()))
    values.update(change.scores)
    set_confidence = change.confidence is not None or change.clear_confidence
    moved = connection.execute(_MOVE_CONFIDENCE if set_confidence else _MOVE_KEEP,
                               {"assignment_id": assignment.id, "seen": change.version, "new_version": new_version,
                                "now": now, "new_confidence": change.confidence})
    if moved.rowcount != 1:
        session.refresh(assignment)
        # A concurrent retry of this very save may have won: answer its version, apply nothing.
        earlier = idempotency_key and _earlier_save(session, expert, idempotency_key, assignment)
        if earlier:
            return earlier
        _check_open(round_, assignment)  # submitted or recused meanwhile: 423, as for any later save
        raise _stale(session, assignment)
    # The row changed underneath the ORM: tell the loaded object without marking it dirty.
    for name, value in (("version", new_version), ("status", AssignmentStatus.in_progress), ("updated_at", now),
                        *((("confidence", change.confidence),) if set_confidence else ())):
        set_committed_value(assignment, name, value)
    if values:  # a first save may carry only a comment: no rating to keep yet (an empty insert is no insert)
        connection.execute(_INSERT_RATINGS, [{"assignment_id": assignment.id, "criterion": key,
                                              "value": float(value), "version": new_version, "created_at": now}
                                             for key, value in values.items()])
    if idempotency_key is not None:
        connection.execute(_INSERT_SAVE, {"user_id": expert.id, "key": idempotency_key,
                                          "assignment_id": assignment.id, "version": new_version, "created_at": now})
    if change.comment is not None:
        session.add(Comment(assignment_id=assignment.id, author_id=expert.id, kind="remark",
                            body=change.comment, version=new_version))
    if change.highlights is not None:
        _set_highlights(session, assignment, change.highlights)
    session.flush()
    return new_version


def _stale(session: Session, assignment: Assignment) -> Refused:
    return Refused(409, "stale_version",
                   f"此评分表已在别处保存（现为第 {assignment.version} 版），请选择保留哪些数值。",
                   f"This form was saved elsewhere (now version {assignment.version}); "
                   "choose which values to keep.", version=assignment.version,
                   scores=assignment_scores(session=session, assignment=assignment),
                   comment=current_comment(session=session, assignment=assignment))


def _set_highlights(session: Session, assignment: Assignment, tags: tuple[str, ...]) -> None:
    existing = {t.tag: t for t in session.exec(select(HighlightTag)
                                               .where(HighlightTag.assignment_id == assignment.id))}
    for tag, row in existing.items():
        if tag not in tags:
            session.delete(row)
    session.add_all(HighlightTag(assignment_id=assignment.id, tag=tag) for tag in set(tags) - set(existing))


def submit(*, session: Session, expert: User, assignment: Assignment, round_: Round,
           criteria: CriteriaSet) -> None:
    """Submit a complete form: every criterion scored; afterwards it is read-only."""
    _check_open(round_, assignment)
    scores = assignment_scores(session=session, assignment=assignment)
    missing = [c.key for c in criteria.criteria if c.key not in scores]
    if missing:
        raise Refused(422, "incomplete", f"请先为每个评分项打分再提交；尚缺：{'、'.join(missing)}。",
                      f"Score every criterion before submitting; missing: {', '.join(missing)}.", missing=missing)
    assignment.status = AssignmentStatus.submitted
    assignment.submitted_at = assignment.updated_at = utcnow()
    assignment.reopen_allowed = False
    session.add(assignment)
    record_event(session, "assignment.submitted", actor=expert.username, round_id=round_.id,
                 subject=f"assignment:{assignment.id}", detail={"version": assignment.version})
    enqueue_recompute(session=session, round_id=round_.id)  # the rankings read submitted forms


def recuse(*, session: Session, expert: User, assignment: Assignment, round_: Round, reason: str) -> Conflict | None:
    """Recuse from a work: status recused, reason kept, a "recused" conflict recorded; scores kept.

    A dissemination case has no conflict row (a conflict names a work, an organisation or a
    person): the recused assignment itself keeps the expert off that case.
    """
    reason = (reason or "").strip()
    if not reason:
        raise Refused(422, "reason_required", "请填写回避理由（例如与申报主体的关系）。",
                      "Give a reason for recusing (e.g. the relationship).")
    if len(reason) > MAX_REASON:
        raise Refused(422, "reason_too_long", f"回避理由最多 {MAX_REASON} 个字符。",
                      f"reason: at most {MAX_REASON} characters.")
    if not can_recuse(assignment, round_):
        if round_.state not in (RoundState.intake, RoundState.scoring):
            raise Refused(423, "round_closed", f"轮次 {round_.key} 当前为“{_state_zh(round_)}”：只能在复核前申请回避。",
                          f"Round {round_.key} is {round_.state.value}: recusal is only possible before review.")
        raise Refused(423, assignment.status.value,
                      "此评审任务已提交，不能回避。" if assignment.status == AssignmentStatus.submitted
                      else "您已回避此作品。", f"This assignment is already {assignment.status.value}.")
    assignment.status = AssignmentStatus.recused
    assignment.recuse_reason = reason
    assignment.updated_at = utcnow()
    session.add(assignment)
    conflict = None
    if assignment.work_id is not None:
        conflict = Conflict(user_id=expert.id, work_id=assignment.work_id, kind="recused", reason=reason)
        session.add(conflict)
    session.flush()
    record_event(session, "assignment.recused", actor=expert.username, round_id=round_.id,
                 subject=f"assignment:{assignment.id}",
                 detail={"reason": reason, "work_id": assignment.work_id, "case_id": assignment.case_id,
                         "conflict_id": conflict.id if conflict else None})
    return conflict


def allow_reopen(*, session: Session, chair: User, assignment: Assignment, round_: Round) -> None:
    """The chair lets the expert reopen one submitted form (only while the round is scoring)."""
    if round_.state != RoundState.scoring:
        raise Refused(423, "round_closed", f"轮次 {round_.key} 不在评分阶段，不能允许重新打开。",
                      f"Round {round_.key} is {round_.state.value}, not scoring.")
    if assignment.status != AssignmentStatus.submitted:
        raise Refused(409, "not_submitted", "只有已提交的评分表可以允许重新打开。", "Only a submitted form can be reopened.")
    assignment.reopen_allowed = True
    session.add(assignment)
    record_event(session, "assignment.reopen_allowed", actor=chair.username, round_id=round_.id,
                 subject=f"assignment:{assignment.id}")


def reopen(*, session: Session, expert: User, assignment: Assignment, round_: Round) -> None:
    """The expert reopens a submitted form the chair allowed; it becomes editable again."""
    if round_.state != RoundState.scoring:
        raise Refused(423, "round_closed", f"轮次 {round_.key} 当前为“{_state_zh(round_)}”，不在评分阶段。",
                      f"Round {round_.key} is {round_.state.value}, not scoring.")
    if not can_reopen(assignment, round_):
        raise Refused(423, "reopen_not_allowed", "组长尚未允许重新打开此评分表。",
                      "The chair has not allowed reopening this form.")
    assignment.status = AssignmentStatus.in_progress
    assignment.reopen_allowed = False
    assignment.submitted_at = None
    assignment.updated_at = utcnow()
    session.add(assignment)
    record_event(session, "assignment.reopened", actor=expert.username, round_id=round_.id,
                 subject=f"assignment:{assignment.id}", detail={"version": assignment.version})
    enqueue_recompute(session=session, round_id=round_.id)
