"""One draw per round at a time, across server processes and the command line.

A ``DrawJob`` row holds the round in its unique ``active_round_id`` while the draw is queued
or running. A job whose process has gone (same host, pid no longer alive) or that has not moved
for ``STALE_AFTER`` is marked failed when next looked at, with a message saying so: a draw
writes everything in one transaction at its end, so a lost one has written nothing.
"""
from __future__ import annotations

import datetime as dt
import os
import socket

from sqlmodel import Session, select

from ..core.models import DrawJob, Round, utcnow

ACTIVE = ("queued", "running")
STALE_AFTER = dt.timedelta(minutes=10)  # the design scale's whole draw takes under two minutes


def worker_id() -> str:
    """host:pid of this process (read when asked: a forked server worker has its own pid)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def aware(moment: dt.datetime) -> dt.datetime:
    """A stored time as aware UTC (SQLite hands back naive ones in some paths)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def active_job(*, session: Session, round_: Round) -> DrawJob | None:
    """The round's queued or running job, if any."""
    return session.exec(select(DrawJob).where(DrawJob.active_round_id == round_.id)).first()


def job_of(*, session: Session, job_id: int) -> DrawJob | None:
    """A job by id."""
    return session.get(DrawJob, job_id)


def latest_job(*, session: Session, round_: Round) -> DrawJob | None:
    """The round's most recent job (running or finished), if any."""
    return session.exec(select(DrawJob).where(DrawJob.round_id == round_.id)
                        .order_by(DrawJob.id.desc()).limit(1)).first()


def _worker_gone(worker: str) -> bool:
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine: only the staleness rule can tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def settle_if_lost(*, session: Session, job: DrawJob, now: dt.datetime | None = None) -> bool:
    """Mark a queued or running job failed when its process is gone or it stopped moving (caller commits)."""
    if job.state not in ACTIVE:
        return False
    now = now or utcnow()
    idle = now - aware(job.updated_at)
    if _worker_gone(job.worker):
        zh, en = "运行抽取的进程已退出", "the process running the draw has stopped"
    elif idle > STALE_AFTER:
        minutes = int(idle.total_seconds() // 60)
        zh, en = f"抽取已 {minutes} 分钟没有进展", f"the draw has made no progress for {minutes} minutes"
    else:
        return False
    job.state, job.active_round_id, job.finished_at, job.updated_at = "failed", None, now, now
    job.message_zh = f"{zh}（{job.worker}），未写入任何数据，请重新抽取"
    job.message_en = f"{en} ({job.worker}); nothing was written — start the draw again"
    session.add(job)
    session.flush()
    return True


def blocking_job(*, session: Session, round_: Round, job_id: int | None = None) -> DrawJob | None:
    """Another live job of the round that a draw (of job ``job_id``, or none) must wait for; lost ones are settled."""
    running = active_job(session=session, round_=round_)
    if running is None or running.id == job_id:
        return None
    if settle_if_lost(session=session, job=running):
        session.commit()
        return None
    return running


def busy_message(round_: Round, job: DrawJob | None) -> tuple[str, str]:
    """Why a draw of the round is refused while ``job`` runs (Chinese, English)."""
    who = f"{job.actor or '—'}，{aware(job.created_at):%H:%M:%S} UTC 开始" if job else ""
    who_en = f"{job.actor or '—'}, started {aware(job.created_at):%H:%M:%S} UTC" if job else ""
    return (f"轮次 {round_.key} 的另一次抽取正在进行（{who}），请等待其完成后再试",
            f"another draw of round {round_.key} is running ({who_en}); wait for it to finish")
