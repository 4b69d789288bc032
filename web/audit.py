"""The append-only audit log, chained by SHA-256 and sealed, so that ``tuiyou audit verify``
finds and names an edited, removed or inserted event.

Each event's hash covers its own content and the previous event's hash; changing, removing
or reordering any past event breaks the chain after it. A chain alone can be recomputed by
anyone who can write to the database, so each event also carries a seal: an HMAC-SHA256 of
its hash under the audit key, which lives outside the database (``TUIYOU_AUDIT_KEY`` or the
instance folder's ``audit_key``). An event appended with a recomputed hash but without the
key fails its seal.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from .models import AuditEvent, utcnow


def _event_hash(event: AuditEvent) -> str:
    content = json.dumps({
        "at": event.at.isoformat(timespec="microseconds"), "actor": event.actor,
        "action": event.action, "round_id": event.round_id, "subject": event.subject,
        "detail": event.detail, "prev": event.prev_hash,
    }, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(content.encode()).hexdigest()


def _last_hash(session: Session) -> str:
    # FOR UPDATE serializes concurrent writers on PostgreSQL (SQLite serializes writes itself).
    last = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)
                        .with_for_update()).first()
    return last.hash if last else ""


def seal(key: bytes, event_hash: str) -> str:
    """The event's seal: HMAC-SHA256 of its hash under the audit key."""
    return hmac.new(key, event_hash.encode(), hashlib.sha256).hexdigest()


def audit_key_of(session: Session) -> bytes | None:
    """The audit key of the engine the session is bound to (``web.db`` attaches it), if any."""
    return getattr(session.get_bind(), "tuiyou_audit_key", None)


def record_event(session: Session, action: str, *, actor: str = "", round_id: int | None = None,
                 subject: str = "", detail: dict[str, Any] | None = None) -> AuditEvent:
    """Append an event (flushed, not committed: it commits with the change it describes)."""
    event = AuditEvent(at=utcnow(), actor=actor, action=action, round_id=round_id,
                       subject=subject, detail=detail or {}, prev_hash=_last_hash(session))
    event.hash = _event_hash(event)
    key = audit_key_of(session)
    event.seal = seal(key, event.hash) if key else ""
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class AuditProblem:
    """One event the check found wrong, and how."""

    event_id: int
    kind: str  # edited | removed | inserted | unsealed
    message: str


@dataclass(frozen=True)
class AuditCheck:
    events: int
    ok: bool
    first_bad_id: int | None = None
    problem: str = ""
    problems: tuple[AuditProblem, ...] = ()
    unsealed_before_sealing: int = 0


def verify_log(session: Session, *, key: bytes | None = None) -> AuditCheck:
    """Recompute the chain and the seals; name every event that was edited, removed around or inserted.

    Without ``key`` the seals are not checked (the chain still is). Events written before
    sealing began (an empty seal before the first sealed event) are counted, not flagged.
    """
    events = list(session.exec(select(AuditEvent).order_by(AuditEvent.id)))
    problems: list[AuditProblem] = []
    sealing_started, legacy = False, 0
    for i, event in enumerate(events):
        previous = events[i - 1].hash if i else ""
        if event.prev_hash != previous:
            before = events[i - 2].hash if i >= 2 else ""
            if i and event.prev_hash == before:
                skipped = events[i - 1]
                problems.append(AuditProblem(skipped.id, "inserted", f"event {skipped.id} was inserted: "
                                             f"event {event.id} links to the event before it"))
            else:
                problems.append(AuditProblem(event.id, "removed", f"event {event.id} does not link to the "
                                             "event before it (an event was removed or reordered)"))
        if _event_hash(event) != event.hash:
            problems.append(AuditProblem(event.id, "edited", f"event {event.id}: content does not match its "
                                         "hash (the event was edited)"))
        elif key is not None:
            if event.seal:
                sealing_started = True
                if not hmac.compare_digest(event.seal, seal(key, event.hash)):
                    problems.append(AuditProblem(event.id, "inserted", f"event {event.id}: its seal does not "
                                                 "match (written or rewritten without the audit key)"))
            elif sealing_started:
                problems.append(AuditProblem(event.id, "inserted", f"event {event.id} has no seal "
                                             "(inserted without the audit key)"))
            else:
                legacy += 1
    if problems:
        first = min(problems, key=lambda p: p.event_id)
        return AuditCheck(len(events), False, first.event_id, first.message,
                          tuple(sorted(problems, key=lambda p: p.event_id)), legacy)
    return AuditCheck(len(events), True, unsealed_before_sealing=legacy)
