"""``tuiyou audit verify`` against an attacker who can write to the database but does not hold the
audit key: every event is sealed (no exemption for early ones), the head (count and last hash)
is sealed, so stripping seals, recomputing the chain, cutting events off the end, deleting a
round's events or all of them is named; a printed anchor catches an older state put back.

Every attack is plain SQL, as someone with only database access would do it."""
from __future__ import annotations

import subprocess
import threading

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from helpers.review import scored_round
from testkit import AUDIT_KEY, PASSWORD, PG_URL, require_tool
from web.core.audit import _event_hash, content_hash, read_head, record_event, verify_log
from web.core.models import AuditEvent, utcnow


def make_rounds(runner, *keys):
    for key in keys or ("2025Q1", "2025Q2", "2025Q3"):
        result = runner.invoke(args=["round", "create", key])
        assert result.exit_code == 0, result.output


def events(session) -> list[AuditEvent]:
    session.expire_all()
    return session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()


def verify(runner, *args):
    return runner.invoke(args=["audit", "verify", *args])


def rechain(session, *, keep_seals: bool = False) -> None:
    """What an attacker without the key can do: recompute every hash from the first event on, blank
    (or keep) the seals, and point the head at the new last hash."""
    previous = ""
    for event in events(session):
        digest = content_hash(at=event.at, actor=event.actor, action=event.action, round_id=event.round_id,
                              subject=event.subject, detail=event.detail, prev_hash=previous)
        session.execute(text("UPDATE auditevent SET prev_hash = :p, hash = :h" + ("" if keep_seals else ", seal = ''")
                             + " WHERE id = :id"), {"p": previous, "h": digest, "id": event.id})
        previous = digest
    count = session.execute(text("SELECT count(*) FROM auditevent")).scalar()
    session.execute(text("UPDATE audithead SET events = :n, last_hash = :h, seal = ''"), {"n": count, "h": previous})
    session.commit()


def test_events_and_head_are_sealed_and_verify_passes(runner, session, app):
    make_rounds(runner)
    stored = events(session)
    assert all(len(e.seal) == 64 for e in stored)
    head = read_head(session)
    assert (head.events, head.last_hash) == (3, stored[-1].hash) and len(head.seal) == 64
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "intact: 3 events" in result.output and f"head 3:{stored[-1].hash}" in result.output
    assert verify_log(session, key=app.config["AUDIT_KEY"]).ok


def test_stripped_seals_and_a_recomputed_chain_are_named(runner, session):
    """The issue's attack: edit an event, recompute every hash, blank every seal (passed before)."""
    make_rounds(runner)
    session.execute(text("UPDATE auditevent SET subject = '2025Q9' WHERE id = 1"))
    rechain(session)
    result = verify(runner)
    assert result.exit_code == 1
    for event in events(session):
        assert f"event {event.id}: unsealed" in result.output
    assert "head: head: the head's seal does not match" in result.output
    assert "before sealing began" not in result.output


def test_a_recomputed_chain_under_the_old_seals_is_named(runner, session):
    make_rounds(runner)
    session.execute(text("UPDATE auditevent SET actor = 'someone' WHERE id = 2"))
    rechain(session, keep_seals=True)
    result = verify(runner)
    assert result.exit_code == 1
    assert "event 1: " not in result.output, "event 1's hash did not change: its seal still holds"
    assert "event 2: inserted: event 2: its seal does not match" in result.output
    assert "event 3: inserted: event 3: its seal does not match" in result.output


def test_a_forged_append_is_named_with_or_without_a_seal(runner, session):
    make_rounds(runner)
    last = events(session)[-1]
    forged = AuditEvent(at=utcnow(), actor="intruder", action="round.state", subject="2025Q1",
                        detail={"to": "signed"}, prev_hash=last.hash)
    forged.hash = _event_hash(forged)  # the chain algorithm is public; the audit key is not
    session.add(forged)
    session.commit()
    result = verify(runner)
    assert result.exit_code == 1
    assert f"event {forged.id}: unsealed" in result.output and "without the audit key" in result.output
    assert "events were appended without the audit key" in result.output  # the head still counts 3
    session.execute(text("UPDATE auditevent SET seal = :s WHERE id = :id"), {"s": "0" * 64, "id": forged.id})
    session.commit()
    assert f"event {forged.id}: inserted: event {forged.id}: its seal does not match" in verify(runner).output


def test_a_row_inserted_into_the_chain_is_named(runner, session):
    make_rounds(runner)
    stored = events(session)
    # move event 3 up to id 10 and put a forged event between 2 and it (id 5)
    session.execute(text("UPDATE auditevent SET id = 10 WHERE id = :id"), {"id": stored[2].id})
    forged = AuditEvent(id=5, at=utcnow(), actor="intruder", action="round.created", subject="2025Q9",
                        detail={}, prev_hash=stored[1].hash)
    forged.hash = _event_hash(forged)
    session.add(forged)
    session.commit()
    result = verify(runner)
    assert result.exit_code == 1 and "event 5: inserted" in result.output


def test_edit_and_removal_are_named(runner, session):
    make_rounds(runner)
    session.execute(text("UPDATE auditevent SET actor = 'someone' WHERE id = 1"))
    session.execute(text("DELETE FROM auditevent WHERE id = 2"))
    session.commit()
    result = verify(runner)
    assert result.exit_code == 1
    assert "event 1: edited" in result.output and "event 3: removed" in result.output
    assert "sealed head counts 3 events but the log holds 2" in result.output


def test_events_cut_off_the_end_are_named(runner, session):
    make_rounds(runner, "2025Q1", "2025Q2", "2025Q3", "2025Q4")
    session.execute(text("DELETE FROM auditevent WHERE id > 2"))
    session.commit()
    result = verify(runner)
    assert result.exit_code == 1
    assert "head: cut: the sealed head counts 4 events but the log holds 2: 2 events were removed" in result.output


def test_a_rounds_events_removed_are_named(runner, session):
    make_rounds(runner)
    for key in ("2025Q1", "2025Q2", "2025Q3"):
        assert runner.invoke(args=["round", "set-state", key, "intake"]).exit_code == 0
    q2 = session.execute(text("SELECT id FROM round WHERE key = '2025Q2'")).scalar()
    gone = [e.id for e in events(session) if e.round_id == q2]
    session.execute(text("DELETE FROM auditevent WHERE round_id = :r"), {"r": q2})
    session.commit()
    result = verify(runner)
    assert result.exit_code == 1 and "removed" in result.output and "events were removed" in result.output
    assert len(gone) == 2
    # the same, with the chain recomputed over the gap: every event after it loses its seal
    rechain(session, keep_seals=True)
    again = verify(runner)
    assert again.exit_code == 1 and "its seal does not match" in again.output


@pytest.mark.parametrize("head_too", [False, True])
def test_all_events_removed_are_named(runner, session, head_too):
    make_rounds(runner)
    session.execute(text("DELETE FROM auditevent"))
    if head_too:
        session.execute(text("DELETE FROM audithead"))
    session.commit()
    result = verify(runner)
    assert result.exit_code == 1
    if head_too:
        assert "the sealed head is missing" in result.output
    else:
        assert "the sealed head counts 3 events but the log holds 0" in result.output


def test_an_empty_head_without_the_key_is_named(runner, session):
    """All events gone and the head set back to an empty log's: without the key it cannot be sealed."""
    make_rounds(runner)
    session.execute(text("DELETE FROM auditevent"))
    session.execute(text("UPDATE audithead SET events = 0, last_hash = '', seal = ''"))
    session.commit()
    result = verify(runner)
    assert result.exit_code == 1 and "the head's seal does not match" in result.output


@pytest.mark.parametrize("forge_head", [False, True])
def test_a_cut_stays_visible_after_the_app_writes_again(runner, session, forge_head):
    """Cut the end (and, without the key, write a head to match), then let the app go on: the next
    event records what it found and links past the gap, so the cut never looks whole."""
    make_rounds(runner, "2025Q1", "2025Q2", "2025Q3", "2025Q4")
    stored = events(session)
    session.execute(text("DELETE FROM auditevent WHERE id > :id"), {"id": stored[1].id})
    if forge_head:
        session.execute(text("UPDATE audithead SET events = 2, last_hash = :h, seal = :s"),
                        {"h": stored[1].hash, "s": "f" * 64})
    session.commit()
    make_rounds(runner, "2025")
    mismatch = [e for e in events(session) if e.action == "audit.head_mismatch"]
    assert len(mismatch) == 1 and mismatch[0].detail["problem"] == ("seal" if forge_head else "cut")
    result = verify(runner)
    assert result.exit_code == 1
    assert f"event {mismatch[0].id}: cut: event {mismatch[0].id}: when it was written" in result.output
    if not forge_head:  # the head's own hash still links past the two removed events
        assert f"event {mismatch[0].id}: removed" in result.output


def test_anchor_catches_an_older_state_put_back(runner, session):
    """The residual risk: a whole older state (events and head) put back passes the check by itself;
    the anchor printed later does not, because the older log does not hold it."""
    make_rounds(runner, "2025Q1", "2025Q2")
    saved = session.execute(text("SELECT events, last_hash, seal FROM audithead")).one()
    make_rounds(runner, "2025Q3", "2025Q4")
    stored = events(session)
    anchor = f"4:{stored[3].hash}"
    assert verify(runner, "--anchor", anchor).exit_code == 0
    short = verify(runner, "--anchor", f"4:{stored[3].hash[:16]}")
    assert short.exit_code == 0 and f"found: event {stored[3].id}" in short.output
    # put the older state back: the events after it deleted, the head it had then restored
    session.execute(text("DELETE FROM auditevent WHERE id > :id"), {"id": stored[1].id})
    session.execute(text("UPDATE audithead SET events = :e, last_hash = :h, seal = :s"),
                    {"e": saved[0], "h": saved[1], "s": saved[2]})
    session.commit()
    assert verify(runner).exit_code == 0, "an older state, consistent in itself: only an anchor can tell"
    result = verify(runner, "--anchor", anchor)
    assert result.exit_code == 1
    assert "the anchor names event 4 but the log holds only 2" in result.output


def test_anchor_of_a_rewritten_log_is_named(runner, session):
    make_rounds(runner)
    stored = events(session)
    result = verify(runner, "--anchor", f"2:{'0' * 64}")
    assert result.exit_code == 1 and f"event 2 (id {stored[1].id}) has hash {stored[1].hash[:16]}" in result.output


@pytest.mark.parametrize("anchor", ["", "12", "3:xyz", "0:" + "a" * 64, "3:abcdef", "-1:" + "a" * 64])
def test_a_malformed_anchor_is_refused_with_the_format(runner, session, anchor):
    result = verify(runner, "--anchor", anchor)
    assert result.exit_code == 2 and "COUNT:HASH" in result.output and "Traceback" not in result.output


def test_concurrent_writers_on_two_app_servers_keep_one_chain(app, database_url, tmp_path, monkeypatch):
    """Two app servers (two engines), four threads each, writing at once: one chain, one head.
    On PostgreSQL the head's row lock orders them; SQLite serializes writers itself."""
    from web import create_app

    monkeypatch.setenv("TUIYOU_INSTANCE", str(tmp_path / "second"))
    second = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test", "AUDIT_KEY": AUDIT_KEY})
    engines = [app.extensions["tuiyou.engine"], second.extensions["tuiyou.engine"]]
    failures: list[BaseException] = []

    def writer(engine, n):
        try:
            for i in range(10):
                with Session(engine) as db:
                    record_event(db, "test.concurrent", actor=f"w{n}", detail={"i": i})
                    db.commit()
        except BaseException as exc:  # noqa: BLE001 (reported below)
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(engines[n % 2], n)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with Session(engines[0]) as db:
        check = verify_log(db, key=AUDIT_KEY)
        assert check.ok, check.problems
        assert check.events == 80 and check.head.events == 80
    engines[1].dispose()
    if PG_URL:
        assert database_url.startswith("postgres")


def test_every_signed_pdf_prints_the_anchor_that_verify_checks(client, runner, session, make_user):
    """The anchor on the PDF (in full, and short on every page) is what `tuiyou audit verify --anchor`
    checks: it holds while the log is whole and fails once an older state is put back."""
    pdftotext = require_tool("pdftotext")
    scored_round(session, make_user)
    make_user("chair1", role="chair")
    token = client.post("/api/v1/tokens", json={"username": "chair1", "password": PASSWORD}).get_json()["token"]
    chair = {"Authorization": f"Bearer {token}"}
    before = session.execute(text("SELECT events, last_hash, seal FROM audithead")).one()
    anchor = client.post("/api/v1/rounds/2025Q1/shortlist/signoff", json={"password": PASSWORD},
                         headers=chair).get_json()["audit_anchor"]
    pdf = client.get("/api/v1/rounds/2025Q1/shortlist.pdf", headers=chair)
    assert pdf.status_code == 200
    pages = subprocess.run([pdftotext, "-", "-"], input=pdf.data, capture_output=True, check=True).stdout.decode()
    count, digest = anchor.split(":")
    assert "审计锚点" in pages and anchor in pages
    assert pages.count(f"审计锚点 {count}:{digest[:16]}…") == pages.count("\f"), "the short anchor on every page"
    printed = f"{count}:{digest[:16]}"
    assert runner.invoke(args=["audit", "verify", "--anchor", anchor]).exit_code == 0
    assert runner.invoke(args=["audit", "verify", "--anchor", printed]).exit_code == 0
    # an older state put back: the log as it was before the sign-off, with the head it had then
    session.execute(text("DELETE FROM auditevent WHERE id > (SELECT id FROM auditevent WHERE hash = :h)"),
                    {"h": before[1]})
    session.execute(text("UPDATE audithead SET events = :e, last_hash = :h, seal = :s"),
                    {"e": before[0], "h": before[1], "s": before[2]})
    session.commit()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    result = runner.invoke(args=["audit", "verify", "--anchor", printed])
    assert result.exit_code == 1 and f"the anchor names event {count} but the log holds only {before[0]}" in result.output
