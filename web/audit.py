"""The append-only audit log, chained by SHA-256 so that ``tuiyou audit verify`` finds edits.

Each event's hash covers its own content and the previous event's hash; changing, removing
or reordering any past event breaks every hash after it.
"""
from __future__ import annotations

import hashlib
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


def record_event(session: Session, action: str, *, actor: str = "", round_id: int | None = None,
                 subject: str = "", detail: dict[str, Any] | None = None) -> AuditEvent:
    """Append an event (flushed, not committed: it commits with the change it describes)."""
    event = AuditEvent(at=utcnow(), actor=actor, action=action, round_id=round_id,
                       subject=subject, detail=detail or {}, prev_hash=_last_hash(session))
    event.hash = _event_hash(event)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class AuditCheck:
    events: int
    ok: bool
    first_bad_id: int | None = None
    problem: str = ""


def verify_log(session: Session) -> AuditCheck:
    """Recompute the chain; report the first event whose hash or link is wrong."""
    previous, count = "", 0
    for event in session.exec(select(AuditEvent).order_by(AuditEvent.id)):
        count += 1
        if event.prev_hash != previous:
            return AuditCheck(count, False, event.id, "does not link to the event before it "
                              "(an event was removed or reordered)")
        if _event_hash(event) != event.hash:
            return AuditCheck(count, False, event.id, "content does not match its hash "
                              "(the event was edited)")
        previous = event.hash
    return AuditCheck(count, True)
