"""Writes of accounts: users, their passwords, the end of their sessions, and API bearer tokens.

Tokens are random 256-bit strings shown once; only their SHA-256 is stored, so a leaked
database does not leak usable tokens.
"""
from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import update
from sqlmodel import Session, select

from ..core.audit import record_event
from ..core.models import ApiToken, Role, User, new_session_epoch, utcnow
from .passwords import check_password, hash_password, token_digest
from .queries import get_user_by_name


def create_user(*, session: Session, username: str, password: str, role: Role | str,
                display_name: str = "", organisation: str = "", province: str = "",
                categories: list[str] | tuple[str, ...] = (), password_hash: str | None = None) -> User:
    """Add a user (not committed); raises ValueError for a taken name or a bad role.

    ``password_hash``: a hash :func:`hash_password` already made of ``password`` (the demo's users,
    who share one password, are hashed once: argon2id costs about 0.3 s a hash here)."""
    name = username.strip().lower()
    if not name or len(name) > 100 or any(ch.isspace() for ch in name):
        raise ValueError(f"invalid user name {username!r}: 1-100 characters, no spaces")
    if get_user_by_name(session=session, username=name):
        raise ValueError(f"user {name!r} already exists")
    try:
        role = Role(role)
    except ValueError:
        raise ValueError(f"unknown role {role!r}: expert, chair or admin") from None
    user = User(username=name, display_name=display_name or username.strip(), role=role,
                password_hash=password_hash or hash_password(password, username=name), organisation=organisation,
                province=province, categories=list(categories))
    session.add(user)
    return user


def issue_token(*, session: Session, user: User, ttl_hours: float) -> tuple[str, ApiToken]:
    """A new bearer token for ``user`` (the plain token is returned once, never stored)."""
    token = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=token_digest(token),
                   expires_at=utcnow() + dt.timedelta(hours=ttl_hours))
    session.add(row)
    return token, row


def revoke_token(*, session: Session, token: str) -> bool:
    """Revoke ``token``; False when it was unknown or already revoked."""
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == token_digest(token))).first()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    session.add(row)
    return True


def end_sessions(*, session: Session, user: User, actor: str, why: str) -> int:
    """End every session and API token of ``user``, on every app server (not committed).

    A new session epoch makes every cookie carrying the old one worthless (web.core.access checks it on
    each request); every unrevoked token is revoked. Returns how many tokens were revoked.
    """
    user.session_epoch = new_session_epoch()
    session.add(user)
    revoked = session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                              .values(revoked_at=utcnow())).rowcount
    session.flush()
    record_event(session, "user.sessions_ended", actor=actor, subject=user.username,
                 detail={"why": why, "tokens_revoked": revoked})
    return revoked


def set_password(*, session: Session, user: User, password: str, actor: str, why: str = "password_reset") -> None:
    """Set ``user``'s password and end all their sessions and tokens (ValueError when the policy
    refuses the password); audit-logged without the password."""
    user.password_hash = hash_password(password, username=user.username)
    session.add(user)
    record_event(session, "user.password_set", actor=actor, subject=user.username, detail={"why": why})
    end_sessions(session=session, user=user, actor=actor, why=why)


def change_own_password(*, session: Session, user: User, current: str, new: str, repeated: str) -> None:
    """A user changes their own password: the current one first (ValueError saying what is wrong)."""
    if not check_password(user, current):
        raise ValueError("current")
    if new != repeated:
        raise ValueError("repeat")
    if new == current:
        raise ValueError("same")
    set_password(session=session, user=user, password=new, actor=user.username, why="password_changed")
