"""The append-only audit log: chained by SHA-256, every event sealed, the head sealed, so that
``tuiyou audit verify`` finds and names an edited, removed, inserted, unsealed or cut-off event.

Each event's hash covers its own content and the previous event's hash; changing, removing or
reordering any past event breaks the chain after it. A chain alone can be recomputed by anyone
who can write to the database, so each event also carries a seal: an HMAC-SHA256 of its hash
under the audit key, which lives outside the database (``TUIYOU_AUDIT_KEY`` or the instance
folder's ``audit_key``). Every event must carry a valid seal; there is no exemption.

Events cut off the end (or all of them) leave a chain that is still whole. The one-row table
``audithead`` therefore keeps the sealed head: how many events the log holds and the last one's
hash, sealed with the same key and rewritten in the transaction of every event (its row lock
orders concurrent writers on PostgreSQL). Someone with database access alone can neither forge
a head for a shorter log nor extend the log under a head they replaced: the next event written
notices it and records an ``audit.head_mismatch`` event, which stays in the chain. What the head
cannot catch is a whole older state put back (an old backup, or an old head saved together with
its events): a printed anchor (``COUNT:HASH`` on every signed PDF) catches that, see
``verify_log(anchor=...)`` and docs/security.md.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any, Iterator

from sqlalchemy import func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from .models import AuditEvent, AuditHead, utcnow

HEAD_ID = 1
# Written by record_event when the head it was about to extend did not match the log.
HEAD_MISMATCH = "audit.head_mismatch"
ANCHOR_PATTERN = re.compile(r"^\s*(\d{1,12})\s*:\s*([0-9a-fA-F]{16,64})\s*$")


def content_hash(*, at: dt.datetime, actor: str, action: str, round_id: int | None, subject: str,
                 detail: dict[str, Any], prev_hash: str) -> str:
    """SHA-256 of an event's content and the previous event's hash (the chain's link)."""
    content = json.dumps({
        "at": at.isoformat(timespec="microseconds"), "actor": actor, "action": action, "round_id": round_id,
        "subject": subject, "detail": detail, "prev": prev_hash,
    }, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(content.encode()).hexdigest()


def _event_hash(event: AuditEvent) -> str:
    return content_hash(at=event.at, actor=event.actor, action=event.action, round_id=event.round_id,
                        subject=event.subject, detail=event.detail, prev_hash=event.prev_hash)


def seal(key: bytes, event_hash: str) -> str:
    """The event's seal: HMAC-SHA256 of its hash under the audit key."""
    return hmac.new(key, event_hash.encode(), hashlib.sha256).hexdigest()


def head_seal(key: bytes, events: int, last_hash: str) -> str:
    """The head's seal: HMAC-SHA256 of ``head:COUNT:HASH`` (never equal to an event's seal)."""
    return hmac.new(key, f"head:{events}:{last_hash}".encode(), hashlib.sha256).hexdigest()


def audit_key_of(session: Session) -> bytes | None:
    """The audit key of the engine the session is bound to (``web.core.db`` attaches it), if any."""
    bind = session.get_bind()
    return getattr(getattr(bind, "engine", bind), "tuiyou_audit_key", None)


@dataclass(frozen=True)
class Head:
    """The audit log's head as stored: events counted, the last one's hash, the seal."""

    events: int
    last_hash: str
    seal: str

    @property
    def anchor(self) -> str:
        """``COUNT:HASH``: what a signed PDF prints and ``tuiyou audit verify --anchor`` checks."""
        return f"{self.events}:{self.last_hash}"

    def sealed_by(self, key: bytes | None) -> bool:
        return key is not None and hmac.compare_digest(self.seal, head_seal(key, self.events, self.last_hash))


_HEAD = select(AuditHead.events, AuditHead.last_hash, AuditHead.seal).where(AuditHead.id == HEAD_ID)


def read_head(session: Session) -> Head | None:
    """The stored head (None when its row is missing)."""
    row = session.execute(_HEAD).first()
    return Head(*row) if row else None


_HEAD_TABLE = AuditHead.__table__
# A write that changes nothing and hands the row back: the lock and the read in one statement.
_TOUCH_HEAD = (update(_HEAD_TABLE).where(_HEAD_TABLE.c.id == HEAD_ID).values(events=_HEAD_TABLE.c.events)
               .returning(_HEAD_TABLE.c.events, _HEAD_TABLE.c.last_hash, _HEAD_TABLE.c.seal))
_LAST_EVENT = select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)


def _lock_head(session: Session) -> tuple[Head, bool]:
    """The head, locked until the transaction ends; True when its row had to be recreated.

    A write to the head's row comes first, before anything is read: on PostgreSQL it takes the
    row lock (a second app server waits here, then reads what the first committed); on SQLite
    it takes the database's write lock (the driver runs a lone SELECT outside any transaction,
    so a read first would let two writers extend the same head).
    """
    row = session.execute(_TOUCH_HEAD).first()
    if row is not None:
        return Head(*row), False
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(_HEAD_TABLE).values(id=HEAD_ID, events=0, last_hash="", seal="",
                                                       updated_at=utcnow()).on_conflict_do_nothing())
    return Head(*session.execute(_TOUCH_HEAD).one()), True


def _head_problem(key: bytes | None, head: Head, recreated: bool, last) -> str | None:
    """Why the head cannot be extended as it stands (None when it matches the log)."""
    if key is None:
        return None  # nothing can be checked or sealed without the key (see record_event)
    if recreated:
        return "missing"
    if not head.sealed_by(key):
        return "seal"
    if head.last_hash != (last.hash if last else "") or (last is None) != (head.events == 0):
        return "cut"
    return None


def _append(session: Session, key: bytes | None, prev_hash: str, action: str, *, actor: str,
            round_id: int | None, subject: str, detail: dict[str, Any]) -> AuditEvent:
    event = AuditEvent(at=utcnow(), actor=actor, action=action, round_id=round_id, subject=subject,
                       detail=detail, prev_hash=prev_hash)
    event.hash = _event_hash(event)
    event.seal = seal(key, event.hash) if key else ""
    session.add(event)
    session.flush()
    return event


def record_event(session: Session, action: str, *, actor: str = "", round_id: int | None = None,
                 subject: str = "", detail: dict[str, Any] | None = None) -> AuditEvent:
    """Append a sealed event and move the sealed head (flushed, not committed: it commits with
    the change it describes).

    When the head does not match the log (its row missing, its seal wrong, or its last hash not
    the last event's: events were cut off the end), an ``audit.head_mismatch`` event saying what
    was found is written first. While the head's seal holds, the new event links to the head's
    hash, so events cut off the end stay visible as a gap in the chain.
    """
    key = audit_key_of(session)
    head, recreated = _lock_head(session)
    last = session.execute(_LAST_EVENT).first()  # (id, hash) of the log's last event
    problem = _head_problem(key, head, recreated, last)
    trusted = key is not None and not recreated and head.sealed_by(key)
    prev_hash = head.last_hash if trusted else (last.hash if last else "")
    events = head.events if trusted else session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    if problem:
        found = {"problem": problem, "head_events": head.events, "head_hash": head.last_hash,
                 "last_event_id": last.id if last else None, "last_hash": last.hash if last else None}
        evidence = _append(session, key, prev_hash, HEAD_MISMATCH, actor="tuiyou", round_id=None,
                           subject="audithead", detail=found)
        prev_hash, events = evidence.hash, events + 1
    event = _append(session, key, prev_hash, action, actor=actor, round_id=round_id, subject=subject,
                    detail=detail or {})
    events += 1
    session.execute(update(_HEAD_TABLE).where(_HEAD_TABLE.c.id == HEAD_ID).values(
        events=events, last_hash=event.hash, seal=head_seal(key, events, event.hash) if key else "",
        updated_at=utcnow()))
    return event


class AuditKeyMissing(RuntimeError):
    """A migration that must seal audit events was run without the audit key."""


def migration_key(revision: str, needed_for: str) -> bytes:
    """The audit key a migration was given (``web.core.migrate.upgrade`` passes the engine's), or AuditKeyMissing."""
    from alembic import context

    key = context.config.attributes.get("audit_key")
    if not key:
        raise AuditKeyMissing(
            f"migration {revision} must seal {needed_for} and needs the audit key: run `tuiyou init-db` "
            "(it reads TUIYOU_AUDIT_KEY or the instance folder's audit_key, the key the app servers use)")
    return key.encode() if isinstance(key, str) else key


def append_in_migration(connection, key: bytes, action: str, *, actor: str, subject: str = "",
                        round_id: int | None = None, detail: dict[str, Any]) -> tuple[int, str]:
    """Append a sealed event from a migration (migrations run alone: nothing to lock) and move
    the head when its row exists (from migration 0009 on).

    Names only the columns the log has had since migrations 0003 and 0009, so later schema
    changes cannot break an old migration. Returns the new event's id and hash.
    """
    import sqlalchemy as sa
    from sqlmodel.sql.sqltypes import UTCDateTime

    table = sa.table("auditevent", sa.column("id", sa.Integer), sa.column("at", UTCDateTime),
                     sa.column("actor", sa.String), sa.column("action", sa.String),
                     sa.column("round_id", sa.Integer), sa.column("subject", sa.String),
                     sa.column("detail", sa.JSON), sa.column("prev_hash", sa.String),
                     sa.column("hash", sa.String), sa.column("seal", sa.String))
    prev_hash = connection.execute(sa.select(table.c.hash).order_by(table.c.id.desc()).limit(1)).scalar() or ""
    at = utcnow()
    digest = content_hash(at=at, actor=actor, action=action, round_id=round_id, subject=subject, detail=detail,
                          prev_hash=prev_hash)
    new_id = connection.execute(table.insert().values(
        at=at, actor=actor, action=action, round_id=round_id, subject=subject, detail=detail, prev_hash=prev_hash,
        hash=digest, seal=seal(key, digest)).returning(table.c.id)).scalar_one()
    head = sa.table("audithead", sa.column("id", sa.Integer), sa.column("events", sa.Integer),
                    sa.column("last_hash", sa.String), sa.column("seal", sa.String),
                    sa.column("updated_at", UTCDateTime))
    if sa.inspect(connection).has_table("audithead"):
        counted = connection.execute(sa.select(head.c.events).where(head.c.id == HEAD_ID)).scalar()
        if counted is not None:
            connection.execute(head.update().where(head.c.id == HEAD_ID).values(
                events=counted + 1, last_hash=digest, seal=head_seal(key, counted + 1, digest), updated_at=at))
    return new_id, digest


def parse_anchor(text: str) -> tuple[int, str]:
    """``COUNT:HASH`` (the hash in full, or its first 16 or more hex digits); ValueError otherwise."""
    match = ANCHOR_PATTERN.match(text or "")
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"an anchor looks like 1234:9f86d081884c7d65… (COUNT:HASH, at least 16 hex digits), "
                         f"not {text!r}")
    return int(match.group(1)), match.group(2).lower()


@dataclass(frozen=True)
class AuditProblem:
    """One thing the check found wrong: an event (``event_id``) or the head (``event_id`` None)."""

    event_id: int | None
    kind: str  # edited | removed | inserted | unsealed | cut | head | anchor
    message: str


@dataclass(frozen=True)
class AuditCheck:
    events: int
    ok: bool
    first_bad_id: int | None = None
    problem: str = ""
    problems: tuple[AuditProblem, ...] = ()
    head: Head | None = None
    anchor_event_id: int | None = None


def _stream(session: Session) -> Iterator[AuditEvent]:
    # Streamed in id order: the log can hold millions of events.
    yield from session.exec(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=2000))


def _event_problems(event: AuditEvent, previous: AuditEvent | None, before: str,
                    key: bytes | None) -> list[AuditProblem]:
    """What is wrong with ``event``, given the event before it and the hash of the one before that."""
    problems = []
    if event.prev_hash != (previous.hash if previous else ""):
        if previous is not None and event.prev_hash == before:
            problems.append(AuditProblem(previous.id, "inserted", f"event {previous.id} was inserted: "
                                         f"event {event.id} links to the event before it"))
        else:
            problems.append(AuditProblem(event.id, "removed", f"event {event.id} does not link to the "
                                         "event before it (an event was removed or reordered)"))
    if _event_hash(event) != event.hash:
        problems.append(AuditProblem(event.id, "edited", f"event {event.id}: content does not match its "
                                     "hash (the event was edited)"))
    elif key is not None:
        if not event.seal:
            problems.append(AuditProblem(event.id, "unsealed", f"event {event.id} has no seal (its seal was "
                                         "stripped, or it was written without the audit key)"))
        elif not hmac.compare_digest(event.seal, seal(key, event.hash)):
            problems.append(AuditProblem(event.id, "inserted", f"event {event.id}: its seal does not "
                                         "match (written or rewritten without the audit key)"))
    if event.action == HEAD_MISMATCH:
        d = event.detail if isinstance(event.detail, dict) else {}
        why = {"missing": "the head's row had been deleted", "seal": "the head's seal did not match (replaced "
               "without the audit key)", "cut": "the head named another last event than the log's (events had been "
               "cut off the end, or appended without the audit key)"}.get(d.get("problem"), "the head did not match the log")
        problems.append(AuditProblem(event.id, "cut", f"event {event.id}: when it was written, {why}: the "
                                     f"head counted {d.get('head_events')} events ending in "
                                     f"{str(d.get('head_hash'))[:16]}…, the log ended at event "
                                     f"{d.get('last_event_id')}"))
    return problems


def _head_problems(head: Head | None, count: int, last: AuditEvent | None, key: bytes | None) -> list[AuditProblem]:
    if head is None:
        return [AuditProblem(None, "head", "the sealed head is missing (its row in audithead was deleted): "
                             f"nothing shows that the {count} events are the whole log")]
    problems = []
    if key is not None and not head.sealed_by(key):
        problems.append(AuditProblem(None, "head", "the head's seal does not match (the head was written or "
                                     "replaced without the audit key)"))
    last_hash = last.hash if last else ""
    if head.events > count:
        problems.append(AuditProblem(None, "cut", f"the sealed head counts {head.events} events but the log "
                                     f"holds {count}: {head.events - count} events were removed"))
    elif head.events < count:
        problems.append(AuditProblem(None, "head", f"the log holds {count} events but the sealed head counts "
                                     f"{head.events}: events were appended without the audit key"))
    elif head.last_hash != last_hash:
        problems.append(AuditProblem(None, "cut", f"the sealed head ends in {head.last_hash[:16]}…, the log's "
                                     f"last event {last.id if last else '-'} in {last_hash[:16]}…: the end of the "
                                     "log was replaced"))
    return problems


def verify_log(session: Session, *, key: bytes | None = None, anchor: tuple[int, str] | None = None) -> AuditCheck:
    """Recompute the chain, the seals and the head; name every event edited, removed, inserted,
    unsealed or cut off, and check that the log holds ``anchor`` (COUNT, HASH) when given.

    Without ``key`` the seals are not checked (the chain and the head's count and hash still are).
    """
    problems: list[AuditProblem] = []
    before, count = "", 0
    last: AuditEvent | None = None
    anchor_event: AuditEvent | None = None
    for event in _stream(session):
        problems += _event_problems(event, last, before, key)
        count += 1
        if anchor is not None and count == anchor[0]:
            anchor_event = event
        before, last = (last.hash if last else ""), event
    head = read_head(session)
    problems += _head_problems(head, count, last, key)
    if anchor is not None:
        if anchor_event is None:
            problems.append(AuditProblem(None, "anchor", f"the anchor names event {anchor[0]} but the log holds "
                                         f"only {count}: the log was cut or an older copy restored"))
        elif not anchor_event.hash.startswith(anchor[1]):
            problems.append(AuditProblem(anchor_event.id, "anchor", f"event {anchor[0]} (id {anchor_event.id}) "
                                         f"has hash {anchor_event.hash[:16]}…, the anchor says {anchor[1][:16]}…: "
                                         "the log up to the anchor was rewritten"))
    if problems:
        ordered = sorted(problems, key=lambda p: (p.event_id is None, p.event_id or 0))
        first = ordered[0]
        return AuditCheck(count, False, first.event_id, first.message, tuple(ordered), head)
    return AuditCheck(count, True, head=head, anchor_event_id=anchor_event.id if anchor_event else None)
