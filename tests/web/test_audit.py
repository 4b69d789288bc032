"""``tuiyou audit verify`` names an edited, a removed and an inserted event — including one
appended with a correctly recomputed chain hash by someone without the audit key."""
from __future__ import annotations

from sqlalchemy import text
from sqlmodel import select

from web.audit import _event_hash, verify_log
from web.models import AuditEvent, utcnow


def three_events(runner):
    for key in ("2025Q1", "2025Q2", "2025Q3"):
        assert runner.invoke(args=["round", "create", key]).exit_code == 0


def test_events_are_sealed_and_verify_passes(runner, session, app):
    three_events(runner)
    events = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert all(len(e.seal) == 64 for e in events)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact: 3 events" in result.output
    assert verify_log(session, key=app.config["AUDIT_KEY"]).ok


def test_forged_append_with_a_recomputed_hash_is_named(runner, session):
    three_events(runner)
    last = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    forged = AuditEvent(at=utcnow(), actor="intruder", action="round.state", subject="2025Q1",
                        detail={"to": "signed"}, prev_hash=last.hash)
    forged.hash = _event_hash(forged)  # the chain algorithm is public; the audit key is not
    session.add(forged)
    session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"event {forged.id}: inserted" in result.output and "without the audit key" in result.output


def test_a_row_inserted_into_the_chain_is_named(runner, session):
    three_events(runner)
    events = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    # move event 3 up to id 10 and put a forged event between 2 and it (id 5)
    session.execute(text("UPDATE auditevent SET id = 10 WHERE id = :id"), {"id": events[2].id})
    forged = AuditEvent(id=5, at=utcnow(), actor="intruder", action="round.created", subject="2025Q9",
                        detail={}, prev_hash=events[1].hash)
    forged.hash = _event_hash(forged)
    session.add(forged)
    session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "event 5: inserted" in result.output


def test_edit_and_removal_are_named(runner, session):
    three_events(runner)
    session.execute(text("UPDATE auditevent SET actor = 'someone' WHERE id = 1"))
    session.execute(text("DELETE FROM auditevent WHERE id = 2"))
    session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "event 1: edited" in result.output and "event 3: removed" in result.output
