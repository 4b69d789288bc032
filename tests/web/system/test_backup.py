"""``tuiyou backup`` / ``tuiyou restore``: a restore into a fresh database gives back every row of
every table; a backup from a newer schema, of the other kind of database, or onto a database
that holds data is refused without writing anything."""
from __future__ import annotations

import io
import json
import tarfile

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from helpers.intake import dump_database
from testkit import PG_URL, require_tool
from web.core.audit import record_event, verify_log
from web.core.db import make_engine
from web.core.migrate import upgrade
from web.core.models import Assignment, AssignmentStatus, Rating, Work
from web.rounds.operations import create_round


@pytest.fixture
def filled(app, session, make_user):
    """A little of everything: users, a round, works, assignments, ratings, audit events."""
    expert = make_user("expert1", role="expert")
    make_user("chair1", role="chair")
    round_ = create_round(session=session, key="2025Q1", actor="admin")
    works = [Work(round_id=round_.id, title=f"山河人间{i}", category="网络剧", submitter="山河文化传媒有限公司",
                  copyright_holder="山河文化", synopsis="一部网络剧", episodes=24) for i in range(5)]
    session.add_all(works)
    session.flush()
    for i, work in enumerate(works):
        assignment = Assignment(round_id=round_.id, expert_id=expert.id, work_id=work.id, version=1,
                                status=AssignmentStatus.in_progress, presentation_order=i)
        session.add(assignment)
        session.flush()
        session.add(Rating(assignment_id=assignment.id, criterion="thought", value=7.5 + i / 2, version=1))
    record_event(session, "test.filled", actor="test", detail={"works": 5})
    session.commit()
    return app


def other_database(name: str) -> str:
    """A fresh, empty database beside the test one (a SQLite file, or a PostgreSQL database; one per
    xdist worker, named after the worker's test database)."""
    url = make_url(PG_URL)
    name = f"{name}_{url.database}"
    admin = make_engine(PG_URL)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def fresh_url(tmp_path, name: str) -> str:
    if PG_URL:
        return other_database(name)
    return f"sqlite:///{tmp_path / (name + '.sqlite')}"


def cli_for(url: str, monkeypatch, tmp_path):
    from web import create_app

    monkeypatch.setenv("TUIYOU_INSTANCE", str(tmp_path / "instance2"))
    return create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test"})


def test_backup_then_restore_into_a_fresh_database_gives_back_every_table(filled, runner, tmp_path, monkeypatch):
    if PG_URL:
        require_tool("pg_dump")
    target = tmp_path / "tuiyou.backup"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "backup written" in result.output
    original = dump_database(filled.extensions["tuiyou.engine"])
    assert len(original["work"]) == 5 and len(original["rating"]) == 5

    fresh = cli_for(fresh_url(tmp_path, "tuiyou_restore_test"), monkeypatch, tmp_path)
    result = fresh.test_cli_runner().invoke(args=["restore", str(target)])
    assert result.exit_code == 0, result.output
    restored = dump_database(fresh.extensions["tuiyou.engine"])
    assert restored == original
    from sqlmodel import Session

    with Session(fresh.extensions["tuiyou.engine"]) as check:
        assert verify_log(check).ok
    fresh.extensions["tuiyou.engine"].dispose()


def test_restore_refuses_a_newer_schema_and_writes_nothing(filled, runner, tmp_path, monkeypatch):
    if PG_URL:
        require_tool("pg_dump")
    good = tmp_path / "good.backup"
    assert runner.invoke(args=["backup", str(good)]).exit_code == 0
    newer = tmp_path / "newer.backup"
    with tarfile.open(good) as source, tarfile.open(newer, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(data)
                manifest["revision"] = "9999_from_the_future"
                data = json.dumps(manifest).encode()
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    fresh_engine_url = fresh_url(tmp_path, "tuiyou_restore_newer")
    fresh = cli_for(fresh_engine_url, monkeypatch, tmp_path)
    upgrade(fresh.extensions["tuiyou.engine"])
    before = dump_database(fresh.extensions["tuiyou.engine"])
    result = fresh.test_cli_runner().invoke(args=["restore", str(newer)])
    assert result.exit_code == 1
    assert "9999_from_the_future" in result.output and "newer" in result.output
    assert dump_database(fresh.extensions["tuiyou.engine"]) == before
    fresh.extensions["tuiyou.engine"].dispose()


def test_restore_refuses_a_database_with_data_unless_replace(filled, runner, tmp_path):
    if PG_URL:
        require_tool("pg_dump")
    path = tmp_path / "same.backup"
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    before = dump_database(filled.extensions["tuiyou.engine"])
    refused = runner.invoke(args=["restore", str(path)])
    assert refused.exit_code == 1 and "--replace" in refused.output
    assert dump_database(filled.extensions["tuiyou.engine"]) == before


def test_restore_refuses_what_is_not_a_backup(runner, tmp_path):
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a tar file at all")
    result = runner.invoke(args=["restore", str(junk)])
    assert result.exit_code == 1 and "not a Tuiyou backup" in result.output and "Traceback" not in result.output
