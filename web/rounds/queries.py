"""Reads of rounds: typed, keyword-only ``session=`` (routes hold no SQL)."""
from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from ..core.models import Round, Work


def list_rounds(*, session: Session) -> list[Round]:
    """Every round, newest year first, quarters in order."""
    return list(session.exec(select(Round).order_by(Round.year.desc(), Round.quarter, Round.key)))


def get_round(*, session: Session, key: str) -> Round | None:
    """The round called ``key``."""
    return session.exec(select(Round).where(Round.key == key)).first()


def work_counts(*, session: Session) -> dict[int, int]:
    """Number of works per round id."""
    rows = session.exec(select(Work.round_id, func.count(Work.id)).group_by(Work.round_id))
    return {round_id: count for round_id, count in rows}


def received_count(*, session: Session, round_: Round) -> int:
    """Entries a round received (the base of the provincial cap)."""
    return session.exec(select(func.count(Work.id)).where(Work.round_id == round_.id)).one()
