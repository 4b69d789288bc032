"""The round page's draw as a background job: it goes through its states with its progress in the
database, reports an infeasible draw (and writes nothing), refuses a second draw of the round
while one runs, never stays "running" once its process has gone, and draws exactly what
``tuiyou assign`` draws with the same seed."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading

import pytest
from sqlmodel import select

import web.assignment.operations as operations
from helpers.assignment import build_round, draw_on_page, live_pairs, wait_for_job
from testkit import PASSWORD, csrf_token
from web.core.models import Assignment, AssignmentDraw, AuditEvent, DrawJob, Round, RoundState

PAGE = "/admin/rounds/2025Q1/assignment"


def _start(client, **form):
    return client.post(PAGE + "/draw", data={"csrf_token": csrf_token(client, PAGE), **form})


class Gate:
    """Holds the draw at the given progress steps until the test lets it go on."""

    def __init__(self, monkeypatch, *steps: tuple[str, int]):
        self.events = {step: threading.Event() for step in steps}
        real = operations.draw_assignment

        def gated(*args, progress=None, **kwargs):
            def tell(step, done, total):
                progress(step, done, total)
                if (step, done) in self.events:
                    assert self.events[(step, done)].wait(30), f"the test never released {step} {done}"
            return real(*args, progress=tell, **kwargs)

        monkeypatch.setattr(operations, "draw_assignment", gated)

    def release(self, step: str, done: int) -> None:
        self.events[(step, done)].set()


@pytest.fixture
def chair(client, login, make_user):
    make_user("chair", role="chair")
    login("chair")
    return client


def test_the_job_goes_through_its_states_and_a_second_draw_is_refused(chair, session, monkeypatch):
    round_ = build_round(session)
    gate = Gate(monkeypatch, ("conflicts", 0), ("category", 1))
    assert _start(chair, per_work="3", seed="31337").status_code == 303
    seen = wait_for_job(chair, "2025Q1", until=lambda s: s["stage"] == "conflicts")
    assert seen["state"] == "running" and seen["seed"] == "31337" and seen["report"] is None
    html = chair.get(PAGE).get_data(as_text=True)
    assert 'data-state="running"' in html and "回避检查" in html

    refused = _start(chair, per_work="3", seed="1")  # same round, while the first runs
    assert refused.status_code == 303
    assert "另一次抽取正在进行" in chair.get(PAGE).get_data(as_text=True)
    session.expire_all()
    assert len(session.exec(select(DrawJob)).all()) == 1

    gate.release("conflicts", 0)
    mid = wait_for_job(chair, "2025Q1", until=lambda s: s["stage"] == "category" and s["categories_done"] == 1)
    assert mid["state"] == "running" and mid["categories_total"] == 4 and mid["elapsed_seconds"] >= 0
    assert mid["finished"] is False and mid["message"] is None
    assert session.exec(select(Assignment)).all() == []  # nothing is written before the draw ends
    gate.release("category", 1)

    done = wait_for_job(chair, "2025Q1")
    assert done["state"] == "done" and done["stage"] == "done" and done["categories_done"] == 4
    session.expire_all()
    draw = session.exec(select(AssignmentDraw)).one()
    assert draw.seed == 31337 and done["report"]["new"] == draw.created == len(live_pairs(session, round_))
    assert done["report"]["lines"][0].startswith("随机种子 31337")
    job = session.exec(select(DrawJob)).one()
    assert job.active_round_id is None and job.draw_id == draw.id
    english = chair.get(f"{PAGE}/jobs/{job.id}?lang=en").get_json()
    assert english["stage_label"] == "done" and english["report"]["lines"][0].startswith("seed 31337")
    assert "已完成随机抽取（种子 31337）" in chair.get(PAGE + "?lang=zh_CN").get_data(as_text=True)
    # the round is free again
    assert draw_on_page(chair, per_work="3", seed="5")["state"] == "done"


def test_an_infeasible_draw_says_why_and_writes_nothing(chair, session):
    build_round(session, experts=5)
    status = draw_on_page(chair, per_work="5", seed="1")
    assert status["state"] == "failed" and status["finished"] and status["report"] is None
    failure = status["failure"]
    assert failure["needed"] == 5 and failure["available"] < 5 and failure["category"]
    assert failure["category"] in status["message"] and "无法分配，未写入任何数据" in status["message"]
    assert status["stage_label"].startswith("未完成（") and status["stage"] in ("conflicts", "quotas", "category")
    assert f"需要 {failure['needed']}，仅有 {failure['available']}" in status["message"]
    session.expire_all()
    assert session.exec(select(Assignment)).all() == []
    assert session.exec(select(AssignmentDraw)).all() == []
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "assignment.drawn")).all() == []
    assert session.exec(select(DrawJob)).one().active_round_id is None
    assert status["message"] in chair.get(PAGE).get_data(as_text=True)


def test_an_unexpected_error_fails_the_job_with_its_message(chair, session, monkeypatch):
    build_round(session)

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(operations, "draw_assignment", broken)
    status = draw_on_page(chair, per_work="3", seed="2")
    assert status["state"] == "failed" and "RuntimeError: disk on fire" in status["message"]
    session.expire_all()
    assert session.exec(select(Assignment)).all() == []


def test_a_closed_round_is_refused_before_any_job(chair, session):
    build_round(session, state=RoundState.review)
    assert _start(chair, per_work="3").status_code == 303
    assert "只有征集（intake）或评审（scoring）阶段可以分配" in chair.get(PAGE).get_data(as_text=True)
    assert session.exec(select(DrawJob)).all() == []


def test_a_job_whose_process_is_gone_is_reported_and_frees_the_round(chair, session):
    round_ = build_round(session)
    import socket

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    session.add(DrawJob(round_id=round_.id, active_round_id=round_.id, state="running", stage="category",
                        categories_done=1, categories_total=4, per_work=3, seed=9, actor="chair",
                        worker=f"{socket.gethostname()}:{dead.stdout.strip()}"))
    session.commit()
    status = wait_for_job(chair, "2025Q1", timeout=5)
    assert status["state"] == "failed" and "运行抽取的进程已退出" in status["message"]
    assert draw_on_page(chair, per_work="3", seed="9")["state"] == "done"


def test_a_job_without_progress_for_too_long_is_reported(chair, session):
    round_ = build_round(session)
    long_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=11)
    session.add(DrawJob(round_id=round_.id, active_round_id=round_.id, state="running", stage="quotas",
                        per_work=3, seed=9, actor="chair", worker="another-server:4242", created_at=long_ago,
                        updated_at=long_ago))
    session.commit()
    assert 'data-state="failed"' in chair.get(PAGE).get_data(as_text=True)
    status = wait_for_job(chair, "2025Q1", timeout=5)
    assert "已 11 分钟没有进展" in status["message"] and "another-server:4242" in status["message"]


def test_the_page_draws_what_the_command_line_draws(chair, session, runner):
    round_ = build_round(session, works=50, experts=20)
    assert draw_on_page(chair, per_work="3", seed="20261129")["state"] == "done"
    session.expire_all()
    from_page = {(a.expert_id, a.work_id, a.presentation_order)
                 for a in session.exec(select(Assignment).where(Assignment.round_id == round_.id))}
    for row in session.exec(select(Assignment)).all():
        session.delete(row)
    session.commit()
    result = runner.invoke(args=["assign", "--round", "2025Q1", "--per-work", "3", "--seed", "20261129"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    from_cli = {(a.expert_id, a.work_id, a.presentation_order)
                for a in session.exec(select(Assignment).where(Assignment.round_id == round_.id))}
    assert from_page == from_cli and len(from_page) == 150


def test_the_status_of_another_rounds_job_is_not_found(chair, session):
    build_round(session)
    other = Round(key="2025Q2", year=2025, quarter=2, state=RoundState.scoring)
    session.add(other)
    session.flush()
    session.add(DrawJob(round_id=other.id, state="done", per_work=3, seed=1, actor="chair"))
    session.commit()
    job = session.exec(select(DrawJob)).one()
    assert chair.get(f"{PAGE}/jobs/{job.id}").status_code == 404
    assert chair.get(f"/admin/rounds/2025Q2/assignment/jobs/{job.id}").get_json()["state"] == "done"


def test_the_command_line_and_the_api_wait_for_a_running_draw(chair, session, monkeypatch, runner, app):
    round_ = build_round(session)
    gate = Gate(monkeypatch, ("quotas", 0))
    assert _start(chair, per_work="3", seed="8").status_code == 303
    wait_for_job(chair, "2025Q1", until=lambda s: s["stage"] == "quotas")
    result = runner.invoke(args=["assign", "--round", "2025Q1", "--per-work", "3", "--seed", "8"])
    assert result.exit_code == 1 and "另一次抽取正在进行" in result.output and "chair" in result.output
    token = app.test_client().post("/api/v1/tokens", json={"username": "chair", "password": PASSWORD}).get_json()
    answer = app.test_client().post("/api/v1/rounds/2025Q1/draws", json={"per_work": 3, "seed": 8},
                                    headers={"Authorization": f"Bearer {token['token']}"})
    assert answer.status_code == 409 and "another draw of round 2025Q1 is running" in answer.get_json()["message"]
    gate.release("quotas", 0)
    assert wait_for_job(chair, "2025Q1")["state"] == "done"
    session.expire_all()
    assert len(session.exec(select(AssignmentDraw)).all()) == 1 and live_pairs(session, round_)


def test_a_command_line_draw_is_a_job_the_page_shows(chair, session, runner):
    build_round(session)
    result = runner.invoke(args=["assign", "--round", "2025Q1", "--per-work", "3", "--seed", "99"])
    assert result.exit_code == 0, result.output
    job = session.exec(select(DrawJob)).one()
    assert (job.state, job.actor, job.seed, job.active_round_id) == ("done", "cli", 99, None)
    html = chair.get(PAGE).get_data(as_text=True)
    assert 'id="draw-job"' in html and 'data-state="done"' in html and "已完成随机抽取（种子 99）" in html


def test_another_app_server_follows_the_job_and_refuses_a_second_draw(chair, session, monkeypatch, database_url):
    from web import create_app

    build_round(session)
    gate = Gate(monkeypatch, ("category", 2))
    other = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test"})
    try:
        client = other.test_client()  # a second server process: its own engine, nothing shared in memory
        client.post("/login", data={"username": "chair", "password": PASSWORD, "csrf_token": csrf_token(client)})
        assert _start(chair, per_work="3", seed="4").status_code == 303
        status = wait_for_job(client, "2025Q1", until=lambda s: s["categories_done"] == 2)
        assert status["state"] == "running" and status["stage"] == "category"
        assert _start(client, per_work="3", seed="5").status_code == 303
        assert "另一次抽取正在进行" in client.get(PAGE).get_data(as_text=True)
        gate.release("category", 2)
        assert wait_for_job(client, "2025Q1")["state"] == "done"
    finally:
        other.extensions["tuiyou.engine"].dispose()


def test_manual_changes_wait_for_a_running_draw(chair, session, monkeypatch):
    build_round(session, capacity=30)
    assert draw_on_page(chair, per_work="2", seed="3")["state"] == "done"
    session.expire_all()
    pending = session.exec(select(Assignment).order_by(Assignment.id)).first().id
    gate = Gate(monkeypatch, ("quotas", 0))
    assert _start(chair, per_work="3", seed="3").status_code == 303
    wait_for_job(chair, "2025Q1", until=lambda s: s["stage"] == "quotas")
    data = {"csrf_token": csrf_token(chair, PAGE), "reason": "调整"}
    chair.post(f"{PAGE}/{pending}/remove", data=data)
    assert "正在随机抽取，请待其完成后再人工调整" in chair.get(PAGE).get_data(as_text=True)
    session.expire_all()
    assert session.get(Assignment, pending) is not None
    gate.release("quotas", 0)
    assert wait_for_job(chair, "2025Q1")["state"] == "done"
    chair.post(f"{PAGE}/{pending}/remove", data=data)
    assert "已保存调整" in chair.get(PAGE).get_data(as_text=True)
    session.expire_all()
    assert session.get(Assignment, pending) is None


def test_the_report_says_when_conflicted_assignments_were_replaced(chair, session, runner):
    from web.assignment.pool import declare_conflict
    from web.core.models import User, Work

    build_round(session, capacity=40)
    assert runner.invoke(args=["assign", "--round", "2025Q1", "--per-work", "3", "--seed", "6"]).exit_code == 0
    pending = session.exec(select(Assignment).order_by(Assignment.id)).first()
    declare_conflict(session=session, expert=session.get(User, pending.expert_id), actor="t",
                     work=session.get(Work, pending.work_id), reason="亲属")
    session.commit()
    result = runner.invoke(args=["assign", "--round", "2025Q1", "--per-work", "3", "--seed", "6"])
    assert result.exit_code == 0 and "removed 1 unstarted assignments that had become conflicts" in result.output
    status = wait_for_job(chair, "2025Q1")
    assert status["report"]["dropped"] == 1 and "移除了 1 条尚未开始" in status["report"]["lines"][-1]


def test_a_job_settled_as_lost_while_it_ran_does_not_write_its_draw(chair, session, monkeypatch):
    """Another server may settle a slow job as lost (and the round may be drawn again): when the
    first draw then finishes, it finds itself no longer running and leaves the database as it was."""
    build_round(session)
    gate = Gate(monkeypatch, ("category", 1))
    assert _start(chair, per_work="3", seed="77").status_code == 303
    wait_for_job(chair, "2025Q1", until=lambda s: s["stage"] == "category" and s["categories_done"] == 1)
    job = session.exec(select(DrawJob)).one()
    job.state, job.active_round_id, job.message_zh = "failed", None, "抽取已 11 分钟没有进展"
    session.add(job)
    session.commit()
    gate.release("category", 1)
    worker = next(t for t in threading.enumerate() if t.name == f"draw-job-{job.id}")
    worker.join(30)
    assert not worker.is_alive()
    session.expire_all()
    assert session.exec(select(Assignment)).all() == [] and session.exec(select(AssignmentDraw)).all() == []
    assert session.get(DrawJob, job.id).state == "failed"
