"""Reads of rounds: typed, keyword-only ``session=`` (routes hold no SQL)."""
from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from ..core.models import Round, Work
from ..core.refused import Refused


def list_rounds(*, session: Session) -> list[Round]:
    """Every round, newest year first, quarters in order."""
    return list(session.exec(select(Round).order_by(Round.year.desc(), Round.quarter, Round.key)))


def get_round(*, session: Session, key: str) -> Round | None:
    """The round called ``key``."""
    return session.exec(select(Round).where(Round.key == key)).first()


def round_or_404(*, session: Session, key: str) -> Round:
    """The round called ``key``; a 404 refusal (``not_found``, the key named) when there is none."""
    round_ = get_round(session=session, key=key)
    if round_ is None:
        raise Refused(404, "not_found", f"轮次 {key} 不存在", f"no round {key!r}")
    return round_


def work_counts(*, session: Session) -> dict[int, int]:
    """Number of works per round id."""
    rows = session.exec(select(Work.round_id, func.count(Work.id)).group_by(Work.round_id))
    return {round_id: count for round_id, count in rows}


def received_count(*, session: Session, round_: Round) -> int:
    """Entries a round received (the base of the provincial cap)."""
    return session.exec(select(func.count(Work.id)).where(Work.round_id == round_.id)).one()
