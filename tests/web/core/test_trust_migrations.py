"""Migrations 0009 and 0010 on databases written by older versions: the audit log's early,
unsealed events are sealed once (and only those), the head is written; rounds signed around the
chair go back to review with a sealed audit event. Without the audit key they stop, unchanged."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import Session
from sqlmodel.sql.sqltypes import UTCDateTime

from testkit import AUDIT_KEY, PG_URL
from web.core.audit import AuditKeyMissing, content_hash, read_head, seal, verify_log
from web.core.db import make_engine
from web.core.migrate import downgrade, upgrade
from web.core.models import utcnow

EVENTS = sa.table("auditevent", sa.column("id", sa.Integer), sa.column("at", UTCDateTime),
                  sa.column("actor", sa.String), sa.column("action", sa.String), sa.column("round_id", sa.Integer),
                  sa.column("subject", sa.String), sa.column("detail", sa.JSON), sa.column("prev_hash", sa.String),
                  sa.column("hash", sa.String), sa.column("seal", sa.String))


@pytest.fixture
def old_database(database_url, tmp_path):
    """A database at ``revision`` (a function argument), its engine holding the audit key or not."""
    engines = []

    def at(revision: str, *, key: bytes | None = AUDIT_KEY):
        url = database_url if PG_URL else f"sqlite:///{tmp_path / 'old.sqlite'}"
        engine = make_engine(url)
        engine.tuiyou_audit_key = key
        if PG_URL:
            downgrade(engine, "base")
        upgrade(engine, revision)
        engines.append(engine)
        return engine

    yield at
    for engine in engines:
        if PG_URL:  # leave the shared test database at head for the tests after this one
            engine.tuiyou_audit_key = AUDIT_KEY
            upgrade(engine, "head")
        engine.dispose()


def add_events(connection, *sealed: bool) -> list[int]:
    """Events chained as an older version wrote them; ``sealed`` says which carry a seal."""
    previous = connection.execute(sa.select(EVENTS.c.hash).order_by(EVENTS.c.id.desc()).limit(1)).scalar() or ""
    ids = []
    for n, with_seal in enumerate(sealed):
        at = utcnow()
        digest = content_hash(at=at, actor="admin", action="round.created", round_id=None, subject=f"2025Q{n}",
                              detail={"n": n}, prev_hash=previous)
        ids.append(connection.execute(EVENTS.insert().values(
            at=at, actor="admin", action="round.created", round_id=None, subject=f"2025Q{n}", detail={"n": n},
            prev_hash=previous, hash=digest, seal=seal(AUDIT_KEY, digest) if with_seal else "")
            .returning(EVENTS.c.id)).scalar_one())
        previous = digest
    return ids


def test_0009_seals_the_early_events_once_and_writes_the_head(old_database):
    engine = old_database("0008_draw_job")
    with engine.begin() as connection:
        early = add_events(connection, False, False, False, True)  # three before sealing began, then one sealed
        late = add_events(connection, False)  # unsealed after sealing began: nobody with the key wrote it
    upgrade(engine, "head")
    with Session(engine) as session:
        rows = {row.id: row for row in session.execute(sa.select(EVENTS)).all()}
        assert all(rows[i].seal == seal(AUDIT_KEY, rows[i].hash) for i in early)
        assert rows[late[0]].seal == ""
        marker = [row for row in rows.values() if row.action == "audit.sealed_existing"]
        assert len(marker) == 1 and marker[0].detail["sealed"] == 3
        assert (marker[0].detail["first_id"], marker[0].detail["last_id"]) == (early[0], early[2])
        head = read_head(session)
        assert head.events == 6 and head.last_hash == marker[0].hash and head.sealed_by(AUDIT_KEY)
        check = verify_log(session, key=AUDIT_KEY)
        assert [(p.event_id, p.kind) for p in check.problems] == [(late[0], "unsealed")]


def test_0009_without_the_key_stops_and_changes_nothing(old_database):
    engine = old_database("0008_draw_job", key=None)
    with engine.begin() as connection:
        add_events(connection, False, False)
    with pytest.raises(AuditKeyMissing, match="needs the audit key: run `tuiyou init-db`"):
        upgrade(engine, "head")
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0008_draw_job"
        assert not sa.inspect(connection).has_table("audithead")
        assert connection.execute(sa.text("SELECT count(*) FROM auditevent WHERE seal = ''")).scalar() == 2


def test_0009_on_an_empty_log_without_a_key_leaves_an_unsealed_head_that_verify_names(old_database):
    engine = old_database("head", key=None)
    with Session(engine) as session:
        head = read_head(session)
        assert (head.events, head.last_hash, head.seal) == (0, "", "")
        check = verify_log(session, key=AUDIT_KEY)
        assert not check.ok and "the head's seal does not match" in check.problem


def _signed_round(connection, key: str, *, version: str | None) -> int:
    """A round at ``signed`` as the admin page could leave it; ``version``: None, 'current' or 'reopened'."""
    round_id = connection.execute(sa.text(
        "INSERT INTO round (key, year, quarter, kind, stage, state, criteria_set, created_at) "
        "VALUES (:key, 2025, 1, 'quarter', 'national', 'signed', 'works', CURRENT_TIMESTAMP) RETURNING id"),
        {"key": key}).scalar_one()
    shortlist = connection.execute(sa.text(
        "INSERT INTO shortlist (round_id, method, state, content_sha256, created_at) "
        "VALUES (:r, 'affine', 'signed', :h, CURRENT_TIMESTAMP) RETURNING id"), {"r": round_id, "h": "a" * 64}).scalar_one()
    user = connection.execute(sa.text("SELECT id FROM \"user\" WHERE username = 'chair'")).scalar()
    connection.execute(sa.text("INSERT INTO signoff (shortlist_id, user_id, content_sha256, signed_at) "
                               "VALUES (:s, :u, :h, CURRENT_TIMESTAMP)"), {"s": shortlist, "u": user, "h": "a" * 64})
    if version:
        connection.execute(sa.text(
            "INSERT INTO resultversion (round_id, version, method, content, content_sha256, signed_by, signed_at, "
            "reopened_at) VALUES (:r, 1, 'affine', '{}', :h, :u, CURRENT_TIMESTAMP, "
            + ("CURRENT_TIMESTAMP" if version == "reopened" else "NULL") + ")"),
            {"r": round_id, "h": "a" * 64, "u": user})
    return round_id


def test_0010_moves_rounds_signed_without_a_snapshot_back_to_review(old_database):
    engine = old_database("0009_audit_head")
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO \"user\" (username, display_name, role, password_hash, organisation, province, categories, "
            "active, created_at) VALUES ('chair', '组长', 'chair', 'x', '', '', '[]', TRUE, CURRENT_TIMESTAMP)"))
        around = _signed_round(connection, "2025Q1", version=None)
        sealed = _signed_round(connection, "2025Q2", version="current")
        after_reopen = _signed_round(connection, "2025Q3", version="reopened")
    upgrade(engine, "head")
    with engine.connect() as connection:
        states = dict(connection.execute(sa.text("SELECT id, state FROM round")).all())
        assert states == {around: "review", sealed: "signed", after_reopen: "review"}
        shortlists = dict(connection.execute(sa.text("SELECT round_id, state FROM shortlist")).all())
        assert shortlists == {around: "proposed", sealed: "signed", after_reopen: "proposed"}
        assert connection.execute(sa.text("SELECT count(*) FROM signoff")).scalar() == 1  # the sealed round's
        moved = connection.execute(sa.text(
            "SELECT round_id, actor, detail FROM auditevent WHERE action = 'round.state' ORDER BY id")).all()
    assert [(r, a) for r, a, _ in moved] == [(around, "migration 0010"), (after_reopen, "migration 0010")]
    detail = moved[0][2] if isinstance(moved[0][2], dict) else __import__("json").loads(moved[0][2])
    assert detail["from"] == "signed" and detail["to"] == "review" and "no snapshot" in detail["reason"]
    with Session(engine) as session:
        check = verify_log(session, key=AUDIT_KEY)
        assert check.ok, check.problems
        assert check.events == 2 and check.head.events == 2


def test_0010_without_the_key_stops_when_it_has_a_round_to_move(old_database):
    engine = old_database("0009_audit_head")
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO \"user\" (username, display_name, role, password_hash, organisation, province, categories, "
            "active, created_at) VALUES ('chair', '组长', 'chair', 'x', '', '', '[]', TRUE, CURRENT_TIMESTAMP)"))
        _signed_round(connection, "2025Q1", version=None)
    engine.tuiyou_audit_key = None
    with pytest.raises(AuditKeyMissing, match="migration 0010_signed_without_snapshot must seal"):
        upgrade(engine, "head")
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT state FROM round")).scalar() == "signed"


def test_0011_gives_every_user_an_epoch_of_their_own(old_database):
    """On a database whose users are referenced from other tables (SQLite must not rebuild ``user``)."""
    engine = old_database("0010_signed_without_snapshot")
    with engine.begin() as connection:
        for name in ("ann", "bob"):
            connection.execute(sa.text(
                "INSERT INTO \"user\" (username, display_name, role, password_hash, organisation, province, "
                "categories, active, created_at) VALUES (:n, :n, 'expert', 'x', '', '', '[]', TRUE, CURRENT_TIMESTAMP)"),
                {"n": name})
        connection.execute(sa.text("INSERT INTO apitoken (user_id, token_hash, created_at, expires_at) "
                                   "SELECT id, 'c' || id, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM \"user\""))
    upgrade(engine, "head")
    with engine.connect() as connection:
        epochs = [e for (e,) in connection.execute(sa.text('SELECT session_epoch FROM "user"')).all()]
    assert len(epochs) == 2 and len(set(epochs)) == 2 and all(len(e) == 32 for e in epochs)
