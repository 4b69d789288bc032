"""Reads of signing: the signed versions of a round, whether it is signed (the lock every write
checks: every write to a signed round answers 423), the chair's sign-off and the panel members'
signatures, and the rounds an expert still has to sign."""
from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from ..core.models import Assignment, ResultVersion, Round, RoundState, Shortlist, SignOff, User


def round_is_locked(round_: Round) -> bool:
    """Whether writes to ``round_`` must be refused with 423: true once it is signed."""
    return round_.state == RoundState.signed


def sign_offs(*, session: Session, shortlist: Shortlist) -> list[tuple[SignOff, User]]:
    """Who signed the shortlist, with any dissent."""
    return list(session.exec(select(SignOff, User).join(User, User.id == SignOff.user_id)
                             .where(SignOff.shortlist_id == shortlist.id).order_by(SignOff.signed_at)))


def result_versions(*, session: Session, round_: Round) -> list[ResultVersion]:
    """Every signed version of the round's result, oldest first."""
    return list(session.exec(select(ResultVersion).where(ResultVersion.round_id == round_.id)
                             .order_by(ResultVersion.version)))


def result_version(*, session: Session, round_: Round, version: int) -> ResultVersion | None:
    """One signed version."""
    return session.exec(select(ResultVersion).where(ResultVersion.round_id == round_.id,
                                                    ResultVersion.version == version)).first()


def panel_members(*, session: Session, round_: Round) -> list[User]:
    """The panel of a round: every expert assigned in it (recused or not), by name."""
    ids = select(Assignment.expert_id).where(Assignment.round_id == round_.id).distinct()
    return list(session.exec(select(User).where(User.id.in_(ids)).order_by(User.username)))


def is_member(*, session: Session, round_: Round, user: User) -> bool:
    """Whether ``user`` is an expert assigned in the round."""
    return session.exec(select(Assignment.id).where(Assignment.round_id == round_.id,
                                                    Assignment.expert_id == user.id)).first() is not None


@dataclass(frozen=True)
class Signature:
    """A signature on the sealed result, or a member who has not signed (``signed_at`` None)."""

    name: str
    role: str  # "chair" or "member"
    signed_at: object
    dissent: str | None
    user_id: int


def signatures(*, session: Session, round_: Round) -> tuple[list[Signature], list[Signature]]:
    """(who signed the current sealed result, in order; panel members who have not signed yet)."""
    shortlist = session.exec(select(Shortlist).where(Shortlist.round_id == round_.id)).first()
    signed: list[Signature] = []
    if shortlist is not None and shortlist.state == "signed":
        rows = session.exec(select(SignOff, User).join(User, User.id == SignOff.user_id)
                            .where(SignOff.shortlist_id == shortlist.id).order_by(SignOff.signed_at)).all()
        signed = [Signature(u.display_name or u.username, "member" if u.role.value == "expert" else "chair",
                            s.signed_at, s.dissent, u.id) for s, u in rows]
    done = {s.user_id for s in signed}
    waiting = [Signature(u.display_name or u.username, "member", None, None, u.id)
               for u in panel_members(session=session, round_=round_) if u.id not in done]
    return signed, waiting


def rounds_to_sign(*, session: Session, expert: User) -> list[Round]:
    """Sealed rounds whose panel includes ``expert`` and which they have not signed yet."""
    rounds = session.exec(select(Round).where(Round.state == "signed", Round.id.in_(
        select(Assignment.round_id).where(Assignment.expert_id == expert.id)))).all()
    done = set(session.exec(select(Shortlist.round_id).join(SignOff, SignOff.shortlist_id == Shortlist.id)
                            .where(SignOff.user_id == expert.id)).all())
    return [r for r in rounds if r.id not in done]
