"""The round page's draw as a background job (随机抽取进度): the same ``run_draw`` as
``tuiyou assign``, run in a thread of the app server, its stage and progress kept in a
``DrawJob`` row so any server process can answer the page's polling and a reload finds it.

A job is ``queued`` → ``running`` → ``done`` (the draw and the job's result committed together)
or ``failed`` (nothing written; the message says why: infeasible with category, needed and
available, refused, or an unexpected error). While a job is queued or running its
``active_round_id`` holds the round; the column is unique, so a second draw of the same round
is refused by the database itself, whichever process asks. A job whose process has gone (same
host, pid no longer alive) or that has not moved for ``STALE_AFTER`` is marked failed when next
read (``draw_lock``), so the page never sits at "running" without saying why. ``tuiyou assign``
runs its draw as a job too (in its own process, printing the progress as well), so the page
follows a draw started on the command line and neither path can start a second one.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ..core.models import DrawJob, Round, utcnow
from .draw_lock import ACTIVE, active_job, aware, blocking_job, busy_message, worker_id
from .operations import AssignmentRefused, InfeasibleAssignment, check_draw_request, run_draw

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]
# stage -> (中文, English)
STAGES = {"queued": ("排队等待", "queued"), "conflicts": ("回避检查", "checking conflicts"),
          "quotas": ("均衡配额", "balancing loads"), "category": ("按类别抽取", "drawing by category"),
          "writing": ("写入分配", "writing the assignments"), "done": ("完成", "done"),
          "failed": ("未完成", "failed")}


def start_job(*, session: Session, round_: Round, per_work: int, seed: int | None, actor: str) -> DrawJob:
    """Queue a draw of the round (checks the round and the parameters first); commits the job row.

    Raises AssignmentRefused when the draw is not allowed or another draw of the round is running.
    """
    seed = check_draw_request(round_, per_work, seed)
    running = blocking_job(session=session, round_=round_)
    if running is not None:
        raise AssignmentRefused(*busy_message(round_, running))
    job = DrawJob(round_id=round_.id, active_round_id=round_.id, per_work=per_work, seed=seed, actor=actor,
                  worker=worker_id(), stage="queued")
    session.add(job)
    try:
        session.commit()
    except IntegrityError:  # another process claimed the round between the check and the insert
        session.rollback()
        raise AssignmentRefused(*busy_message(round_, active_job(session=session, round_=round_))) from None
    return job


def _touch(engine: Engine, job_id: int, **values) -> None:
    """Record the job's progress in a short transaction of its own (the draw's stays open)."""
    with Session(engine) as session:
        session.execute(update(DrawJob).where(DrawJob.id == job_id).values(updated_at=utcnow(), **values))
        session.commit()


def _progress(engine: Engine, job_id: int, also: Progress | None) -> Progress:
    def tell(step: str, done: int, total: int) -> None:
        if also is not None:
            also(step, done, total)
        if step == "category":
            _touch(engine, job_id, stage="category", categories_done=done, categories_total=total)
        elif step == "done":
            _touch(engine, job_id, stage="writing")
        elif done == 0:
            _touch(engine, job_id, stage=step)
    return tell


def _fail(engine: Engine, job_id: int, zh: str, en: str, failure: dict | None = None) -> None:
    now = utcnow()
    _touch(engine, job_id, state="failed", active_round_id=None, finished_at=now, message_zh=zh[:4000],
           message_en=en[:4000], failure=failure)


def run_job(engine: Engine, job_id: int, *, also: Progress | None = None) -> None:
    """Run a queued job's draw in the calling thread; the job ends done or failed, never running.

    ``also`` receives the draw's progress as well (the command line prints it)."""
    try:
        with Session(engine, expire_on_commit=False) as session:
            job = session.get(DrawJob, job_id)
            round_ = session.get(Round, job.round_id)
            _touch(engine, job_id, state="running", stage="conflicts", worker=worker_id())
            try:
                outcome = run_draw(session=session, round_=round_, per_work=job.per_work, seed=job.seed,
                                   actor=job.actor, progress=_progress(engine, job_id, also), job_id=job_id)
            except AssignmentRefused as exc:
                session.rollback()
                _fail(engine, job_id, f"未分配，未写入任何数据：{exc.zh}", f"nothing assigned, nothing written: {exc.en}")
                return
            except InfeasibleAssignment as exc:
                session.rollback()
                _fail(engine, job_id,
                      f"无法分配，未写入任何数据：类别“{exc.category}”需要 {exc.needed}，仅有 {exc.available}（{exc}）",
                      f"infeasible, nothing written: {exc.category} needs {exc.needed}, has {exc.available} ({exc})",
                      {"category": str(exc.category), "needed": int(exc.needed), "available": int(exc.available)})
                return
            report = outcome.result.report
            lines_zh, lines_en = report.lines("zh"), report.lines("en")
            if outcome.dropped:
                lines_zh.append(f"移除了 {outcome.dropped} 条尚未开始、但已产生回避关系的分配，并已重新抽取补足")
                lines_en.append(f"removed {outcome.dropped} unstarted assignments that had become conflicts, "
                                "and drew their replacements")
            now = utcnow()
            # only a job still running may commit its draw: one settled as lost meanwhile (and
            # perhaps followed by another draw) leaves the database as it was
            finished = session.execute(update(DrawJob).where(DrawJob.id == job_id, DrawJob.state == "running").values(
                state="done", stage="done", active_round_id=None, draw_id=outcome.draw.id, finished_at=now,
                updated_at=now, result={"new": len(outcome.result.new), "kept": len(outcome.result.kept),
                                        "dropped": outcome.dropped, "coverage": report.coverage,
                                        "lines_zh": lines_zh, "lines_en": lines_en}))
            if finished.rowcount != 1:
                session.rollback()
                log.warning("draw job %s was settled as lost while it ran; its draw was not written", job_id)
                return
            session.commit()  # the draw and the job's outcome together
    except Exception as exc:  # noqa: BLE001 — whatever it was, the page must hear of it
        log.exception("draw job %s failed", job_id)
        _fail(engine, job_id, f"抽取意外中止，未写入任何数据：{type(exc).__name__}: {exc}",
              f"the draw stopped unexpectedly, nothing written: {type(exc).__name__}: {exc}")


def launch(engine: Engine, job: DrawJob, *, runner: Callable[[Engine, int], None] = run_job) -> threading.Thread:
    """Run the job in a daemon thread of this process."""
    thread = threading.Thread(target=runner, args=(engine, job.id), name=f"draw-job-{job.id}", daemon=True)
    thread.start()
    return thread


def job_status(job: DrawJob, *, lang: str = "zh", now: dt.datetime | None = None) -> dict:
    """What the page shows of a job (JSON): state, stage, categories done / total, elapsed, outcome."""
    en = lang == "en"
    end = aware(job.finished_at) if job.finished_at else (now or utcnow())
    stage = job.stage or job.state
    label = STAGES.get(stage, (stage, stage))[en]
    if job.state == "failed":  # where it stopped
        label = f"{STAGES['failed'][en]}（{label}）" if not en else f"{STAGES['failed'][en]} ({label})"
    result = job.result or {}
    return {
        "id": job.id, "state": job.state, "stage": stage, "stage_label": label,
        "categories_done": job.categories_done, "categories_total": job.categories_total,
        "elapsed_seconds": round(max((end - aware(job.created_at)).total_seconds(), 0.0), 1),
        "seed": str(job.seed), "per_work": job.per_work, "actor": job.actor,
        "message": (job.message_en if en else job.message_zh) if job.state == "failed" else None,
        "failure": job.failure,
        "report": None if job.state != "done" else {
            "new": result.get("new"), "kept": result.get("kept"), "dropped": result.get("dropped"),
            "coverage": result.get("coverage"), "lines": result.get("lines_en" if en else "lines_zh", [])},
        "finished": job.state not in ACTIVE,
    }


__all__ = ["STAGES", "start_job", "run_job", "launch", "job_status"]
