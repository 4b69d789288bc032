"""Writes of signing: the chair's sign-off, which freezes the snapshot and signs the round, and each
panel member's signature on it (password re-entered, an optional dissent). Each records its audit
event; the request's unit of work commits."""
from __future__ import annotations

from sqlmodel import Session, select

from scoring.rules.states import state_label_zh

from ..accounts.passwords import check_password
from ..core.audit import read_head, record_event
from ..core.errors import Refused
from ..core.models import ResultVersion, Role, Round, RoundState, Shortlist, SignOff, User
from . import queries
from .queries import result_versions, round_is_locked
from .snapshot import canonical_json, content_sha256

MAX_TEXT = 4000


class RoundLocked(Refused):
    """The round is signed: every write answers 423."""

    def __init__(self, round_: Round):
        super().__init__(423, "locked", f"轮次 {round_.key} 已签署，结果已冻结，不能再修改（须由管理员填写理由后重新开启）",
                         f"round {round_.key} is signed and frozen; an admin must re-open it (with a reason) first")


def ensure_writable(round_: Round) -> None:
    """Raise :class:`RoundLocked` when the round is signed."""
    if round_is_locked(round_):
        raise RoundLocked(round_)


def check_signer(user: User, password: str) -> None:
    """The signer must re-enter their password (403 when wrong)."""
    if not password or not check_password(user, password):
        raise Refused(403, "wrong_password", "密码不正确，未签署", "wrong password: nothing was signed")


def sign_off(*, session: Session, round_: Round, shortlist: Shortlist, content: dict, signer: User,
           dissent: str | None) -> ResultVersion:
    """Seal the result: snapshot and hash, the chair's signature, the round becomes signed."""
    ensure_writable(round_)
    if round_.state != RoundState.review:
        raise Refused(409, "not_in_review", f"轮次须处于“复核”状态才能签署（当前：{state_label_zh(round_.state.value)}）",
                          f"the round must be in review to be signed (it is {round_.state.value})")
    if signer.role not in (Role.chair, Role.admin):
        raise Refused(403, "not_chair", "只有评审组组长可以签署结果", "only the chair can seal the result")
    text = canonical_json(content)
    digest = content_sha256(content)
    number = len(result_versions(session=session, round_=round_)) + 1
    version = ResultVersion(round_id=round_.id, version=number, method=content["method"], content=text,
                            content_sha256=digest, signed_by=signer.id)
    session.add(version)
    shortlist.state, shortlist.content_sha256, shortlist.frozen_at = "signed", digest, version.signed_at
    session.add(shortlist)
    session.add(SignOff(shortlist_id=shortlist.id, user_id=signer.id, content_sha256=digest,
                        dissent=(dissent or "").strip() or None, signed_at=version.signed_at))
    previous = round_.state
    round_.state = RoundState.signed
    session.add(round_)
    session.flush()
    record_event(session, "round.state", actor=signer.username, round_id=round_.id, subject=round_.key,
                 detail={"from": previous.value, "to": "signed", "backward": False, "reason": None})
    record_event(session, "shortlist.signed", actor=signer.username, round_id=round_.id, subject=round_.key,
                 detail={"version": number, "sha256": digest, "method": content["method"],
                         "included": sum(e["included"] for e in content["entries"]),
                         "dissent": (dissent or "").strip() or None})
    # the audit log's head with this signing in it: the anchor every PDF of this version prints
    head = read_head(session)
    version.audit_events, version.audit_hash = head.events, head.last_hash
    session.add(version)
    return version


def member_signature(*, session: Session, round_: Round, member: User, password: str, dissent: object) -> SignOff:
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
