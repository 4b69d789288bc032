"""Writes of the chair console: the rankings cache, the proposal, overrides, re-opening.

Each write checks ``ensure_writable`` first (web.signing: a signed round refuses with ``RoundLocked``,
answered as 423), changes the models and records the audit event; the caller commits.
"""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from scoring.rules.shortlist import Proposal

from ..core.audit import record_event
from ..core.models import (RankingCache, ResultVersion, Role, Round, RoundState, Shortlist, ShortlistEntry,
                      User, utcnow)
from ..core.errors import Refused
from .queries import get_shortlist, is_case_round, shortlist_entries
from .rankings import RoundRanking
from ..signing.operations import ensure_writable
from ..signing.queries import result_versions, round_is_locked, sign_offs


def store_ranking(*, session: Session, round_: Round, method: str, fingerprint: str,
                  ranking: RoundRanking, computed_at: dt.datetime | None = None) -> None:
    """Keep a computed ranking for other requests and servers (a cache: no audit event)."""
    computed_at = computed_at or utcnow()
    payload = json.dumps(ranking.to_json(), ensure_ascii=False, allow_nan=False)
    table = RankingCache.__table__
    values = {"fingerprint": fingerprint, "payload": payload, "created_at": computed_at}
    # Write first, read nothing: on SQLite a transaction that has read cannot then write once
    # another connection wrote (an immediate "database is locked"); a write first waits its turn.
    try:
        with session.begin_nested():
            moved = session.execute(update(table).where(table.c.round_id == round_.id, table.c.method == method)
                                    .values(**values))
            if moved.rowcount == 0:
                session.execute(insert(table).values(round_id=round_.id, method=method, **values))
    except IntegrityError:
        pass  # another server stored the same computation at the same moment


def save_proposal(*, session: Session, round_: Round, ranking: RoundRanking, proposal: Proposal,
                  actor: User) -> Shortlist:
    """Store (or re-store) the proposed shortlist; the chair's overrides are kept."""
    ensure_writable(round_)
    shortlist = get_shortlist(session=session, round_=round_)
    kept: dict[int, ShortlistEntry] = {}
    if shortlist is None:
        shortlist = Shortlist(round_id=round_.id)
    else:
        for entry in shortlist_entries(session=session, shortlist=shortlist):
            if entry.override_reason:
                kept[entry.case_id or entry.work_id] = entry
            else:
                session.delete(entry)
    shortlist.method, shortlist.state = ranking.method, "proposed"
    shortlist.content_sha256, shortlist.frozen_at = None, None
    session.add(shortlist)
    session.flush()
    case = is_case_round(round_)
    for decision in proposal.entries:
        c = decision.candidate
        row = ranking.row(c.key)
        entry = kept.pop(c.key, None)
        if entry is None:
            entry = ShortlistEntry(shortlist_id=shortlist.id, category=c.category, rank=c.rank, score=c.score,
                                   se=c.se if c.se == c.se else None, proposed=decision.proposed,
                                   included=decision.proposed,
                                   work_id=None if case else c.key, case_id=c.key if case else None)
        entry.rank, entry.score, entry.proposed = c.rank, row.score, decision.proposed
        entry.se = row.se  # None: not estimable (never 0.0, which would read as exact)
        entry.straddles_cut = decision.straddles_cut
        if not entry.override_reason:
            entry.included = decision.proposed
        session.add(entry)
    for orphan in kept.values():  # an overridden item that no longer has ratings
        session.delete(orphan)
    session.flush()
    record_event(session, "shortlist.proposed", actor=actor.username, round_id=round_.id, subject=round_.key,
                 detail={"method": ranking.method, "proposed": len(proposal.proposed),
                         "candidates": len(proposal.entries), "cap": proposal.cap, "capped": proposal.capped,
                         "notes": proposal.notes})
    return shortlist


def override_entry(*, session: Session, round_: Round, entry: ShortlistEntry, include: bool, reason: str,
                   actor: User) -> ShortlistEntry:
    """Move an entry in or out of the shortlist; a written reason is required and audited."""
    ensure_writable(round_)
    reason = (reason or "").strip()
    if not reason:
        raise Refused(422, "reason_required", "调整入选名单须填写书面理由",
                          "moving a work in or out of the shortlist needs a written reason")
    if len(reason) > 2000:
        raise Refused(422, "reason_too_long", "理由不超过 2000 字", "the reason must be at most 2000 characters")
    if entry.included == include:
        raise Refused(409, "no_change", "该作品已处于所选状态", "the work is already where you asked to move it")
    entry.included = include
    entry.override_reason, entry.override_by, entry.override_at = reason, actor.id, utcnow()
    session.add(entry)
    record_event(session, "shortlist.override", actor=actor.username, round_id=round_.id, subject=round_.key,
                 detail={"item_id": entry.case_id or entry.work_id, "category": entry.category,
                         "included": include, "proposed": entry.proposed, "reason": reason})
    return entry


def reopen(*, session: Session, round_: Round, actor: User, reason: str) -> ResultVersion | None:
    """An admin re-opens a signed round (back to review) with a reason; the signed version stays readable.

    Returns the version re-opened, or None for a round that is signed without a sealed version of
    its own (signed around the chair before the sign-off became the only way in): it goes back to
    review all the same, and the audit event says that no sealed version was re-opened.
    """
    if actor.role != Role.admin:
        raise Refused(403, "admin_only", "只有管理员可以重新开启已签署的轮次", "only an admin can re-open a signed round")
    reason = (reason or "").strip()
    if not reason:
        raise Refused(422, "reason_required", "重新开启须填写理由", "re-opening needs a written reason")
    if not round_is_locked(round_):
        raise Refused(409, "not_signed", "轮次尚未签署", "the round is not signed")
    versions = result_versions(session=session, round_=round_)
    # the sealed version this signing made: the last one, unless that one was already re-opened
    current = versions[-1] if versions and versions[-1].reopened_at is None else None
    if current is not None:
        current.reopened_by, current.reopened_at, current.reopen_reason = actor.id, utcnow(), reason
        session.add(current)
    shortlist = get_shortlist(session=session, round_=round_)
    if shortlist is not None:
        shortlist.state, shortlist.content_sha256, shortlist.frozen_at = "proposed", None, None
        session.add(shortlist)
        # the signatures belong to the version just re-opened (kept there and in the audit log)
        for sign_off, _user in sign_offs(session=session, shortlist=shortlist):
            session.delete(sign_off)
    round_.state = RoundState.review
    session.add(round_)
    session.flush()
    record_event(session, "round.state", actor=actor.username, round_id=round_.id, subject=round_.key,
                 detail={"from": "signed", "to": "review", "backward": True, "reason": reason})
    record_event(session, "shortlist.reopened", actor=actor.username, round_id=round_.id, subject=round_.key,
                 detail={"version": current.version if current else None,
                         "sha256": current.content_sha256 if current else None, "reason": reason,
                         **({} if current else {"sealed_version": False})})
    return current
