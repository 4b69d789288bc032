"""Queue a recompute of a round's rankings: what a write that changes the ranking's input calls.

One statement, an upsert on the round's queued job (``RecomputeJob.queued_round_id`` is unique):
the first change of a round inserts a job due ``debounce`` seconds later; every further change
until a worker takes it adds to that job's ``changes`` and leaves its due time alone, so a steady
stream of submits is recomputed every few seconds, not once per submit and not never.

On PostgreSQL the upsert locks the queued row until the writer commits, and a worker claims
with ``FOR UPDATE SKIP LOCKED``: a job is never taken while a change that landed on it is still
uncommitted, so the recompute that answers a change always reads it (none lost). SQLite has one
writer at a time, which gives the same order. Call it as a write's last statement: the lock is
then held only for the commit.
"""
from __future__ import annotations

import datetime as dt
import os

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from ..core.models import RecomputeJob, utcnow

#: seconds from a round's first unanswered change to its recompute (TUIYOU_RECOMPUTE_DEBOUNCE_SECONDS)
DEFAULT_DEBOUNCE = 10.0


def debounce() -> dt.timedelta:
    """The debounce delay from the environment (read when asked), default 10 s."""
    return dt.timedelta(seconds=float(os.environ.get("TUIYOU_RECOMPUTE_DEBOUNCE_SECONDS") or DEFAULT_DEBOUNCE))


def enqueue_recompute(*, session: Session, round_id: int, changes: int = 1, now: dt.datetime | None = None) -> None:
    """Queue (or join) the round's recompute; ``changes=0`` only makes sure one is queued (a page
    that found its result older than the ratings), without waiting on a writer's lock."""
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    table = RecomputeJob.__table__
    values = {"round_id": round_id, "queued_round_id": round_id, "state": "queued", "changes": changes,
              "due_at": now + debounce(), "attempts": 0, "worker": "", "created_at": now}
    if dialect in ("postgresql", "sqlite"):
        insert = (postgresql if dialect == "postgresql" else sqlite).insert(table).values(**values)
        statement = (insert.on_conflict_do_nothing(index_elements=["queued_round_id"]) if changes == 0 else
                     insert.on_conflict_do_update(index_elements=["queued_round_id"],
                                                  set_={"changes": table.c.changes + changes}))
        session.connection().execute(statement)
        return
    queued = session.exec(select(RecomputeJob).where(RecomputeJob.queued_round_id == round_id)).first()
    if queued is None:  # another database: check, then insert (a race ends in its unique constraint)
        session.add(RecomputeJob(**values))
    else:
        queued.changes += changes
        session.add(queued)
    session.flush()


def pending_job(*, session: Session, round_id: int) -> RecomputeJob | None:
    """The round's queued or running job, if any."""
    return session.exec(select(RecomputeJob).where(RecomputeJob.round_id == round_id,
                                                   RecomputeJob.state.in_(("queued", "running")))
                        .order_by(RecomputeJob.id).limit(1)).first()
