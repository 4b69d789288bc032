"""Claim and run due recompute jobs: the same code in every app server's worker thread and in
``tuiyou recompute run-pending``.

A claim is one statement: ``UPDATE recomputejob SET state='running', … WHERE id = (SELECT id …
LIMIT 1 [FOR UPDATE SKIP LOCKED])`` on a job that is queued and due, or running with its lease
run out (its worker stopped mid-run: the job is retried, ``attempts`` counts). On PostgreSQL two
workers never take the same job (the second skips the row the first locked) and never wait for
each other; on SQLite the statement runs under the one write lock. A job ends ``done`` (the
round's rankings stored for every method it has a stored result of, and the default), or
``failed`` when its ratings cannot be fitted (the message says why) or after ``MAX_ATTEMPTS``.
Only the worker that holds a job may end it.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from scoring.normalize import DEFAULT_METHOD

from ..core.models import RecomputeJob, Round, utcnow
from ..review import operations, queries, services

log = logging.getLogger(__name__)
#: how long a claim holds a job; the design scale's recompute takes well under a second
LEASE = dt.timedelta(minutes=2)
MAX_ATTEMPTS = 3
RETRY_AFTER = dt.timedelta(seconds=10)
Recompute = Callable[[Session, Round], None]


def worker_id() -> str:
    """host:pid:thread of the caller (a forked server worker has its own pid)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


@dataclass(frozen=True)
class Claimed:
    """A job this worker holds: which, of which round, its attempt."""

    id: int
    round_id: int
    attempts: int
    worker: str


def claim(engine: Engine, *, worker: str | None = None, now: dt.datetime | None = None) -> Claimed | None:
    """Take the next due job (queued and due, or running with its lease run out); None when none is."""
    worker, now = worker or worker_id(), now or utcnow()
    job = RecomputeJob.__table__.c
    due = or_(and_(job.state == "queued", job.due_at <= now),
              and_(job.state == "running", job.lease_until < now))
    candidate = select(job.id).where(due).order_by(job.due_at, job.id).limit(1)
    if engine.dialect.name == "postgresql":
        candidate = candidate.with_for_update(skip_locked=True)
    taking = (update(RecomputeJob.__table__).where(job.id == candidate.scalar_subquery(), due)
              .values(state="running", queued_round_id=None, worker=worker, attempts=job.attempts + 1,
                      started_at=now, lease_until=now + LEASE)
              .returning(job.id, job.round_id, job.attempts))
    with Session(engine) as session:
        row = session.execute(taking).first()
        session.commit()
    return Claimed(row.id, row.round_id, row.attempts, worker) if row else None


def _settle(engine: Engine, held: Claimed, **values) -> bool:
    """End or reschedule a job this worker still holds; False when another took it over meanwhile."""
    job = RecomputeJob.__table__.c
    with Session(engine) as session:
        moved = session.execute(update(RecomputeJob.__table__).where(
            job.id == held.id, job.state == "running", job.worker == held.worker,
            job.attempts == held.attempts).values(**values))
        session.commit()
    return moved.rowcount == 1


def refresh_round(session: Session, round_: Round) -> None:
    """Compute and store the round's rankings for every method it has a stored result of, and
    the default (what the chair's pages and the API read).

    Each is computed in a transaction that ends before the result is written in a short one of
    its own, so no transaction (nor PostgreSQL snapshot) stays open across a computation."""
    round_id = round_.id
    for method in sorted({DEFAULT_METHOD, *queries.stored_methods(session=session, round_=round_)}):
        round_ = session.get(Round, round_id)
        fingerprint = queries.ratings_fingerprint(session=session, round_=round_)
        if queries.cached_ranking(session=session, round_=round_, method=method, fingerprint=fingerprint):
            session.rollback()
            continue
        ranking = services.compute_ranking_of(session=session, round_=round_, method=method)
        session.rollback()  # the read ends here; the write below is a transaction of its own
        operations.store_ranking(session=session, round_=session.get(Round, round_id), method=method,
                                 fingerprint=fingerprint, ranking=ranking, computed_at=utcnow())
        session.commit()


def run_job(engine: Engine, held: Claimed, *, recompute: Recompute = refresh_round,
            now: dt.datetime | None = None) -> str:
    """Run a claimed job in the calling thread: its state afterwards (done, failed or retry, due
    ``RETRY_AFTER`` after ``now``)."""
    try:
        with Session(engine, expire_on_commit=False) as session:
            round_ = session.get(Round, held.round_id)
            if round_ is not None:
                recompute(session, round_)
    except ValueError as exc:  # the ratings cannot be fitted yet (e.g. one expert): another try will not help
        now = utcnow()
        _settle(engine, held, state="failed", finished_at=now, lease_until=None, message=str(exc)[:4000])
        return "failed"
    except Exception as exc:  # noqa: BLE001 — a database hiccup: try again later, a few times
        log.exception("recompute job %s (round %s) failed", held.id, held.round_id)
        now = max(now or utcnow(), utcnow())
        if held.attempts >= MAX_ATTEMPTS:
            _settle(engine, held, state="failed", finished_at=now, lease_until=None,
                    message=f"{type(exc).__name__}: {exc}"[:4000])
            return "failed"
        _settle(engine, held, lease_until=now + RETRY_AFTER, message=f"{type(exc).__name__}: {exc}"[:4000])
        return "retry"
    _settle(engine, held, state="done", finished_at=utcnow(), lease_until=None)
    return "done"


def run_pending(engine: Engine, *, worker: str | None = None, now: dt.datetime | None = None,
                recompute: Recompute = refresh_round, limit: int = 100) -> int:
    """Run every job due now (at most ``limit``), one after another; how many this call ran."""
    ran = 0
    while ran < limit:
        held = claim(engine, worker=worker, now=now)
        if held is None:
            return ran
        run_job(engine, held, recompute=recompute, now=now)
        ran += 1
    return ran
