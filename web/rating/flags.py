"""Abnormal ratings (畸高/畸低) beside the ratings they judge: which submitted ratings the panel's
rule flags (refreshed from one place, ``refresh_flags``), the author's written explanation, the
chair's written waiver, and the reads of them (what still blocks the chair's sign-off).
Each write records its audit event; the caller's unit of work commits."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session, select

from scoring.rules.abnormal import ROBUST_FIT, flag_abnormal, load_abnormal_rule, reason_of, robust_rejections
from scoring.rules.config import load_rules
from scoring.totals import CriterionScale, weighted_totals

from ..core.audit import record_event
from ..core.errors import Refused
from ..core.models import (AbnormalFlag, Assignment, AssignmentStatus, DisseminationCase, Rating, Role, Round,
                           RoundKind, RoundState, User, Work, utcnow)

CASE_CATEGORY = "优秀传播案例"


@dataclass(frozen=True)
class RatingValue:
    """One current criterion value of a submitted rating."""

    assignment_id: int
    item_id: int
    criterion: str
    value: float


def submitted_values(*, session: Session, round_: Round, item_id: int | None = None) -> list[RatingValue]:
    """Current criterion values of the round's submitted ratings (of one work or case when given)."""
    query = (select(Assignment.id, Assignment.work_id, Assignment.case_id, Rating.criterion, Rating.value)
             .join(Rating, (Rating.assignment_id == Assignment.id) & (Rating.version == Assignment.version))
             .where(Assignment.round_id == round_.id, Assignment.status == AssignmentStatus.submitted))
    if item_id is not None:
        item = Assignment.case_id if round_.kind == RoundKind.dissemination else Assignment.work_id
        query = query.where(item == item_id)
    rows = session.exec(query.order_by(Assignment.id, Rating.criterion)).all()
    return [RatingValue(a, w if w is not None else c, k, float(v)) for a, w, c, k, v in rows
            if (w if w is not None else c) is not None]


def rating_context(*, session: Session, round_: Round) -> dict[int, tuple[int, str]]:
    """Assignment id → (expert id, category) of the round's submitted ratings (cases: one category)."""
    query = (select(Assignment.id, Assignment.expert_id, Work.category)
             .join(Work, Work.id == Assignment.work_id, isouter=True)
             .where(Assignment.round_id == round_.id, Assignment.status == AssignmentStatus.submitted))
    return {a: (e, c or CASE_CATEGORY) for a, e, c in session.exec(query)}


def round_flags(*, session: Session, round_: Round) -> list[AbnormalFlag]:
    """Every flag of the round (active or not), by assignment id."""
    return list(session.exec(select(AbnormalFlag).where(AbnormalFlag.round_id == round_.id)
                             .order_by(AbnormalFlag.assignment_id)))


def flag_of(*, session: Session, assignment_id: int) -> AbnormalFlag | None:
    """The flag of one assignment, if it was ever flagged."""
    return session.exec(select(AbnormalFlag).where(AbnormalFlag.assignment_id == assignment_id)).first()


def open_flags_of_expert(*, session: Session, expert: User) -> dict[int, AbnormalFlag]:
    """The expert's active flags by assignment id (explained or not): their "explanation requested" items."""
    rows = session.exec(select(AbnormalFlag).join(Assignment, Assignment.id == AbnormalFlag.assignment_id)
                        .where(Assignment.expert_id == expert.id, AbnormalFlag.active)).all()
    return {flag.assignment_id: flag for flag in rows}


@dataclass(frozen=True)
class FlagRow:
    """A flag as the chair sees it: the rating's expert and the work, and why it is flagged
    (``"relative"``: far from the others' mean; ``"robust fit"``: only the fit rejects it)."""

    flag: AbnormalFlag
    expert: str
    title: str
    category: str
    waived_by: str | None
    reason: str = "relative"
    item_id: int | None = None   # the work (or case) rated, for the link to its drill-down


def flag_rows(*, session: Session, round_: Round) -> list[FlagRow]:
    """The round's flags with expert name, title and category, active first, then by category and title."""
    flags = round_flags(session=session, round_=round_)
    if not flags:
        return []
    assignments = {a.id: a for a in session.exec(
        select(Assignment).where(Assignment.id.in_([f.assignment_id for f in flags])))}
    user_ids = {a.expert_id for a in assignments.values()} | {f.waived_by for f in flags if f.waived_by}
    users = {u.id: u.display_name or u.username for u in session.exec(select(User).where(User.id.in_(user_ids)))}
    works = {w.id: (w.title, w.category) for w in session.exec(select(Work).where(Work.id.in_(
        [a.work_id for a in assignments.values() if a.work_id])))}
    cases = {c.id: (c.name, CASE_CATEGORY) for c in session.exec(select(DisseminationCase).where(
        DisseminationCase.id.in_([a.case_id for a in assignments.values() if a.case_id])))}
    rule = load_abnormal_rule()
    rows = []
    for flag in flags:
        a = assignments[flag.assignment_id]
        title, category = works.get(a.work_id) or cases.get(a.case_id) or ("", "")
        rows.append(FlagRow(flag, users.get(a.expert_id, ""), title, category,
                            users.get(flag.waived_by) if flag.waived_by else None,
                            reason_of(rule, flag.total, flag.others_mean, flag.others_n),
                            a.work_id or a.case_id))
    rows.sort(key=lambda r: (not r.flag.active, r.category, r.title, r.flag.assignment_id))
    return rows


def abnormal_ratings(*, session: Session, round_: Round) -> list[FlagRow]:
    """The round's abnormal ratings (畸高/畸低): its active flags, as ``refresh_flags`` last set them.

    The one definition every page counts from: the diagnostics, the 畸高/畸低 tab and the API list
    these; the chair's sign-off is refused over the ones of them still unexplained (``unexplained``).
    """
    return [row for row in flag_rows(session=session, round_=round_) if row.flag.active]


def unexplained(*, session: Session, round_: Round) -> list[int]:
    """Assignment ids of the abnormal ratings with neither an explanation nor a waiver: they block sign-off."""
    return sorted(row.flag.assignment_id for row in abnormal_ratings(session=session, round_=round_)
                  if not row.flag.explanation and not row.flag.waiver_reason)


MAX_TEXT = 4000


def _totals(session: Session, round_: Round, item_id: int | None) -> list[tuple[int, int, float]]:
    criteria = load_rules().criteria_sets[round_.criteria_set].criteria
    scales = [CriterionScale(c.key, c.min, c.max, c.step, c.weight) for c in criteria]
    wanted = {c.key for c in criteria}
    by_rating: dict[int, dict[str, float]] = defaultdict(dict)
    item_of: dict[int, int] = {}
    for row in submitted_values(session=session, round_=round_, item_id=item_id):
        if row.criterion in wanted:
            by_rating[row.assignment_id][row.criterion] = row.value
            item_of[row.assignment_id] = row.item_id
    complete = [a for a, values in by_rating.items() if set(values) == wanted]
    if not complete:
        return []
    ids = [a for a in complete for _ in wanted]
    keys = [k for _a in complete for k in sorted(wanted)]
    values = [by_rating[a][k] for a in complete for k in sorted(wanted)]
    totals = weighted_totals(ids, ids, keys, values, scales=scales)
    return [(int(a), item_of[int(a)], float(t)) for a, t in zip(totals.work_id, totals.total)]


def _rejected_by_fit(session: Session, round_: Round, totals: list[tuple[int, int, float]]) -> set[int]:
    """Assignments whose rating the default normalization's robust fit rejects (whole round)."""
    context = rating_context(session=session, round_=round_)
    rows = [(a, item, context[a][0], total, context[a][1]) for a, item, total in totals if a in context]
    first = load_rules().criteria_sets[round_.criteria_set].criteria[0]  # totals are on the first criterion's scale
    return robust_rejections(rows, scale_ends=(first.min, first.max))


def refresh_flags(*, session: Session, round_: Round, item_id: int | None = None,
                  actor: str = "") -> list[AbnormalFlag]:
    """Apply the abnormal-score rule to the round's submitted ratings (of one work when given).

    New abnormal ratings get a flag (audited); a flag whose rating is no longer abnormal becomes
    inactive, and active again if it returns, keeping any explanation. Returns the new flags.

    With ``robust_fit`` on (config/panel.toml), a rating the robust fit rejects is flagged too;
    the fit needs the whole round, so it runs only on a refresh of the whole round (entering
    review, the chair's sign-off); a refresh of one work leaves the fit's flags as they are.
    """
    rule = load_abnormal_rule()
    totals = _totals(session, round_, item_id)
    rejected = _rejected_by_fit(session, round_, totals) if rule.robust_fit and item_id is None else set()
    abnormal = {f.rating: f for f in flag_abnormal(totals, rule, rejected)}
    considered = {a for a, _i, _t in totals}
    existing = {f.assignment_id: f for f in round_flags(session=session, round_=round_)}
    raised = []
    for assignment_id, found in abnormal.items():
        flag = existing.get(assignment_id)
        if flag is None:
            flag = AbnormalFlag(round_id=round_.id, assignment_id=assignment_id, total=found.total,
                                others_mean=found.others_mean, others_n=found.others_n,
                                direction=found.direction)
            raised.append(flag)
        flag.total, flag.others_mean, flag.others_n = found.total, found.others_mean, found.others_n
        flag.direction, flag.active = found.direction, True
        session.add(flag)
    for assignment_id, flag in existing.items():
        in_scope = item_id is None or assignment_id in considered or _item_of(session, assignment_id) == item_id
        left_to_fit = (item_id is not None and rule.robust_fit
                       and reason_of(rule, flag.total, flag.others_mean, flag.others_n) == ROBUST_FIT)
        if flag.active and in_scope and assignment_id not in abnormal and not left_to_fit:
            flag.active = False
            session.add(flag)
    session.flush()
    for flag in raised:
        record_event(session, "rating.flagged", actor=actor, round_id=round_.id,
                     subject=f"assignment:{flag.assignment_id}",
                     detail={"total": round(flag.total, 4), "others_mean": round(flag.others_mean, 4),
                             "others_n": flag.others_n, "direction": flag.direction,
                             "reason": abnormal[flag.assignment_id].reason})
    return raised


def _item_of(session: Session, assignment_id: int) -> int | None:
    assignment = session.get(Assignment, assignment_id)
    return None if assignment is None else (assignment.work_id or assignment.case_id)


def _clean(text: object, what_zh: str, what_en: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise Refused(422, "text_required", f"请填写{what_zh}", f"send the {what_en} as text")
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise Refused(422, "text_too_long", f"{what_zh}不超过 {MAX_TEXT} 字",
                           f"the {what_en} must be at most {MAX_TEXT} characters")
    return text


def can_explain(assignment: Assignment, round_: Round) -> bool:
    """Whether the author may (re)write the explanation of a flag on this rating: submitted, the
    round in scoring or review (the form shows the box, the operation checks the same)."""
    return round_.state in (RoundState.scoring, RoundState.review) and assignment.status == AssignmentStatus.submitted


def _check_round(round_: Round) -> None:
    if round_.state == RoundState.signed:
        raise Refused(423, "locked", f"轮次 {round_.key} 已签署，结果已冻结",
                           f"round {round_.key} is signed and frozen")
    if round_.state not in (RoundState.scoring, RoundState.review):
        raise Refused(409, "round_not_open", f"轮次 {round_.key} 不在评分或复核阶段",
                           f"round {round_.key} is {round_.state.value}, not scoring or review")


def explain(*, session: Session, expert: User, assignment: Assignment, round_: Round, text: object) -> AbnormalFlag:
    """The author's written explanation of a flagged rating (after submit or in review); scores unchanged."""
    _check_round(round_)
    if not can_explain(assignment, round_):
        raise Refused(409, "not_submitted", "评分提交后才能填写说明",
                           "an explanation can be given once the rating is submitted")
    flag = flag_of(session=session, assignment_id=assignment.id)
    if flag is None or not flag.active:
        raise Refused(409, "not_flagged", "该评分未被标记为畸高或畸低，无需说明",
                           "this rating is not flagged as abnormal: nothing to explain")
    flag.explanation, flag.explained_at = _clean(text, "书面说明", "explanation"), utcnow()
    session.add(flag)
    record_event(session, "rating.explained", actor=expert.username, round_id=round_.id,
                 subject=f"assignment:{assignment.id}", detail={"text": flag.explanation})
    return flag


def waive(*, session: Session, chair: User, flag: AbnormalFlag, round_: Round, reason: object) -> AbnormalFlag:
    """The chair's written waiver of a flag (the author need not explain it); audited."""
    if chair.role not in (Role.chair, Role.admin):
        raise Refused(403, "not_chair", "只有评审组组长可以豁免", "only the chair can waive a flag")
    _check_round(round_)
    flag.waiver_reason = _clean(reason, "豁免理由", "waiver reason")
    flag.waived_by, flag.waived_at = chair.id, utcnow()
    session.add(flag)
    record_event(session, "rating.flag_waived", actor=chair.username, round_id=round_.id,
                 subject=f"assignment:{flag.assignment_id}", detail={"reason": flag.waiver_reason})
    return flag
