"""The administration commands: init-db, user add, round create, audit verify, demo."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, create_engine, select

from testkit import PG_URL
from web.accounts.queries import authenticate
from web.core.models import Assignment, AssignmentStatus, AuditEvent, Rating, Role, Round, User, Work


def test_init_db_is_idempotent(runner):
    first = runner.invoke(args=["init-db"])
    assert first.exit_code == 0, first.output
    assert "database ready" in first.output
    assert runner.invoke(args=["init-db"]).exit_code == 0


def test_user_add_with_profile(runner, session):
    result = runner.invoke(args=["user", "add", "zhang", "--role", "expert", "--password-stdin",
                                 "--org", "中国传媒大学", "--province", "北京市",
                                 "--categories", "网络剧，网络电影"], input="s3cret-password\n")
    assert result.exit_code == 0, result.output
    user = session.exec(select(User).where(User.username == "zhang")).one()
    assert (user.role, user.organisation, user.province, user.categories) == \
        (Role.expert, "中国传媒大学", "北京市", ["网络剧", "网络电影"])
    assert authenticate(session=session, username="zhang", password="s3cret-password")


def test_user_add_refuses_bad_input(runner):
    args = ["user", "add", "li", "--role", "chair", "--password-stdin"]
    assert "at least 8" in runner.invoke(args=args, input="short\n").output
    bad_category = runner.invoke(args=[*args[:4], "expert", "--password-stdin", "--categories", "网剧"],
                                 input="long enough pw\n")
    assert bad_category.exit_code != 0 and "unknown category '网剧'" in bad_category.output
    assert runner.invoke(args=["user", "add", "li", "--role", "boss", "--password-stdin"]).exit_code != 0
    assert runner.invoke(args=args, input="long enough pw\n").exit_code == 0
    again = runner.invoke(args=args, input="long enough pw\n")
    assert again.exit_code == 1 and "already exists" in again.output


def test_round_create(runner, session):
    assert runner.invoke(args=["round", "create", "2025Q1"]).exit_code == 0
    provincial = runner.invoke(args=["round", "create", "2025Q2-浙江", "--stage", "provincial",
                                     "--unit", "浙江省广播电视局"])
    assert provincial.exit_code == 0, provincial.output
    rounds = {r.key: r for r in session.exec(select(Round))}
    assert rounds["2025Q1"].quarter == 1 and rounds["2025Q2-浙江"].unit == "浙江省广播电视局"
    for args, message in [(["2025Q1"], "already exists"), (["2025Q5"], "is not like"),
                          (["2031Q1"], "no calendar for 2031"),
                          (["2025Q3-川", "--stage", "provincial"], "needs --unit")]:
        result = runner.invoke(args=["round", "create", *args])
        assert result.exit_code == 1 and message in result.output, result.output


def test_audit_verify_detects_tampering(runner, session):
    runner.invoke(args=["round", "create", "2025Q1"])
    runner.invoke(args=["round", "create", "2025Q2"])
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "intact: 2 events" in ok.output
    session.execute(text("UPDATE auditevent SET subject = '2025Q9' WHERE id = 1"))
    session.commit()
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1 and "broken at event 1" in broken.output and "edited" in broken.output


def test_audit_verify_detects_removal(runner, session):
    for key in ("2025Q1", "2025Q2", "2025Q3"):
        runner.invoke(args=["round", "create", key])
    session.execute(text("DELETE FROM auditevent WHERE id = 2"))
    session.commit()
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1 and "broken at event 3" in broken.output and "removed" in broken.output


@pytest.mark.slow
def test_demo_builds_the_promised_data(runner, tmp_path):
    path = tmp_path / "demo.sqlite"
    result = runner.invoke(args=["demo", "--no-serve", "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert "expert01" in result.output and "tuiyou-demo" in result.output
    engine = create_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        rounds = {r.key: r for r in session.exec(select(Round))}
        q1 = rounds["2025Q1"]
        assert (q1.year, q1.quarter, q1.stage.value, q1.state.value) == (2025, 1, "national", "scoring")
        zhejiang = rounds["2025Q1-浙江"]
        assert (zhejiang.stage.value, zhejiang.unit, zhejiang.state.value) == ("provincial", "浙江省广播电视局", "review")
        provincial_works = session.exec(select(Work).where(Work.round_id == zhejiang.id)).all()
        assert len(provincial_works) == 16 and {w.unit for w in provincial_works} == {"浙江省广播电视局"}
        assert not any(w.recommended for w in provincial_works)
        works = session.exec(select(Work).where(Work.round_id == q1.id)).all()
        assert 200 <= len(works) <= 500
        per_category = Counter(w.category for w in works)
        assert len(per_category) == 11 and min(per_category.values()) >= 10
        assert len(set(w.title for w in works)) == len(works), "titles are unique"
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in w.title) for w in works), "Chinese titles"
        users = session.exec(select(User)).all()
        roles = Counter(u.role for u in users)
        assert roles[Role.admin] >= 1 and roles[Role.chair] >= 1 and 15 <= roles[Role.expert] <= 25
        assignments = session.exec(select(Assignment).where(Assignment.round_id == q1.id)).all()
        status = Counter(a.status for a in assignments)
        assert 0 < status[AssignmentStatus.submitted] < len(assignments), "part of the scoring is done"
        assert status[AssignmentStatus.pending] > 0
        per_work = Counter(a.work_id for a in assignments)
        assert set(per_work.values()) == {5}
        experts = {u.id: u for u in users}
        assert all(experts[a.expert_id].role == Role.expert for a in assignments)
        assert all(w.category in experts[a.expert_id].categories
                   for a in assignments for w in [session.get(Work, a.work_id)])
        # experts differ in severity: their mean scores spread out
        ratings = session.exec(select(Rating, Assignment).join(Assignment)).all()
        means = {}
        for rating, assignment in ratings:
            means.setdefault(assignment.expert_id, []).append(rating.value)
        expert_means = sorted(sum(v) / len(v) for v in means.values())
        assert expert_means[-1] - expert_means[0] > 1.0
        assert session.exec(select(AuditEvent)).first() is not None
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_demo_command_serves_the_login_page(tmp_path):
    """The README's first command, end to end: the console script builds the demo and serves it."""
    if PG_URL:
        return  # the demo is always embedded SQLite; once is enough
    port = _free_port()
    env = {**os.environ, "TUIYOU_INSTANCE": str(tmp_path / "instance")}
    tuiyou = Path(sys.executable).with_name("tuiyou")
    process = subprocess.Popen([str(tuiyou), "demo", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline and status is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
                    status = response.status
            except OSError:
                assert process.poll() is None, process.stdout.read()
                time.sleep(0.3)
        assert status == 200
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0]
    assert f"http://127.0.0.1:{port}/login" in output and "admin" in output
    assert (tmp_path / "instance" / "demo.sqlite").exists()
