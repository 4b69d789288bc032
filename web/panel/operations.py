"""Writes of panel practice: flagging abnormal ratings (畸高/畸低), the author's written
explanation, the chair's written waiver, and panel members' signatures on the sealed
result. Each records its audit event; the caller commits."""
from __future__ import annotations

from collections import defaultdict

from sqlmodel import Session, select

from scoring.rules.abnormal import ROBUST_FIT, flag_abnormal, load_abnormal_rule, reason_of, robust_rejections
from scoring.rules.config import load_rules
from scoring.totals import CriterionScale, weighted_totals

from ..accounts.passwords import check_password
from ..core.audit import record_event
from ..core.errors import Refused
from ..core.models import (AbnormalFlag, Assignment, AssignmentStatus, Role, Round, RoundState, Shortlist, SignOff, User,
                      utcnow)
from . import queries

MAX_TEXT = 4000


def _totals(session: Session, round_: Round, item_id: int | None) -> list[tuple[int, int, float]]:
    criteria = load_rules().criteria_sets[round_.criteria_set].criteria
    scales = [CriterionScale(c.key, c.min, c.max, c.step, c.weight) for c in criteria]
    wanted = {c.key for c in criteria}
    by_rating: dict[int, dict[str, float]] = defaultdict(dict)
    item_of: dict[int, int] = {}
    for row in queries.submitted_values(session=session, round_=round_, item_id=item_id):
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
    context = queries.rating_context(session=session, round_=round_)
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
    existing = {f.assignment_id: f for f in queries.round_flags(session=session, round_=round_)}
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
    if assignment.status != AssignmentStatus.submitted:
        raise Refused(409, "not_submitted", "评分提交后才能填写说明",
                           "an explanation can be given once the rating is submitted")
    flag = queries.flag_of(session=session, assignment_id=assignment.id)
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


def member_sign(*, session: Session, round_: Round, member: User, password: str, dissent: object) -> SignOff:
    """A panel member signs the sealed result (password re-entered), with an optional dissent; audited."""
    if not queries.is_member(session=session, round_=round_, user=member):
        raise Refused(403, "not_on_panel", "您不是本轮评审组成员，不能签署",
                           "you are not on this round's panel: nothing to sign")
    if round_.state != RoundState.signed:
        raise Refused(409, "not_sealed", "组长尚未签署封存本轮结果，暂不能签署",
                           "the chair has not sealed this round's result yet")
    if not password or not check_password(member, password):
        raise Refused(403, "wrong_password", "密码不正确，未签署", "wrong password: nothing was signed")
    if dissent is not None and not isinstance(dissent, str):
        raise Refused(422, "bad_dissent", "保留意见须为文字", "dissent must be text")
    dissent = (dissent or "").strip() or None
    if dissent and len(dissent) > MAX_TEXT:
        raise Refused(422, "text_too_long", f"保留意见不超过 {MAX_TEXT} 字",
                           f"the dissent must be at most {MAX_TEXT} characters")
    shortlist = session.exec(select(Shortlist).where(Shortlist.round_id == round_.id)).one()
    if session.exec(select(SignOff).where(SignOff.shortlist_id == shortlist.id,
                                          SignOff.user_id == member.id)).first() is not None:
        raise Refused(409, "already_signed", "您已签署本轮结果", "you have already signed this result")
    signature = SignOff(shortlist_id=shortlist.id, user_id=member.id, content_sha256=shortlist.content_sha256,
                        dissent=dissent)
    session.add(signature)
    session.flush()
    record_event(session, "shortlist.member_signed", actor=member.username, round_id=round_.id,
                 subject=round_.key, detail={"sha256": shortlist.content_sha256, "dissent": dissent})
    return signature
