"""Reads of intake: the latest import batches, the entries list with its filters, a round's works."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlmodel import Session, select

from ..core.models import ImportBatch, Round, Work

PAGE_SIZE = 50
FLAGS = {"uhd": Work.uhd, "aigc": Work.aigc, "single_episode": Work.single_episode,
         "recommended": Work.recommended}


def latest_batches(*, session: Session, limit: int = 20) -> list[tuple[ImportBatch, str]]:
    """The newest accepted import files with their round's key."""
    return list(session.exec(select(ImportBatch, Round.key).join(Round, Round.id == ImportBatch.round_id)
                             .order_by(ImportBatch.id.desc()).limit(limit)).all())


@dataclass(frozen=True)
class WorksPage:
    """One page of the entries list."""

    rows: list[tuple[Work, str]]
    total: int
    page: int
    pages: int


def search_works(*, session: Session, round_key: str = "", text: str = "", category: str = "",
                 unit: str = "", flag: str = "", page: int = 1) -> WorksPage:
    """Entries filtered by round, title text, category, unit and flag, ``PAGE_SIZE`` a page."""
    query = select(Work, Round.key).join(Round, Round.id == Work.round_id)
    if round_key:
        query = query.where(Round.key == round_key)
    if text.strip():
        needle = "%" + text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Work.title.ilike(needle, escape="\\"),
                                Work.title_normalized.ilike(needle, escape="\\")))
    if category:
        query = query.where(Work.category == category)
    if unit:
        query = query.where(Work.unit == unit)
    if flag in FLAGS:
        query = query.where(FLAGS[flag] == True)  # noqa: E712 (SQL expression)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = session.exec(query.order_by(Round.key, Work.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return WorksPage(list(rows), total, page, pages)


def work_units(*, session: Session) -> list[str]:
    """Every recommending unit named by an entry, sorted."""
    return list(session.exec(select(Work.unit).distinct().order_by(Work.unit)))


def round_works(*, session: Session, round_: Round) -> list[Work]:
    """A round's entries by category, then id."""
    return list(session.exec(select(Work).where(Work.round_id == round_.id).order_by(Work.category, Work.id)))
