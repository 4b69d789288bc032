"""Writes of accounts: users and API bearer tokens.

Tokens are random 256-bit strings shown once; only their SHA-256 is stored, so a leaked
database does not leak usable tokens.
"""
from __future__ import annotations

import datetime as dt
import secrets

from sqlmodel import Session, select

from ..models import ApiToken, Role, User, utcnow
from .passwords import hash_password, token_digest
from .queries import get_user_by_name


def create_user(*, session: Session, username: str, password: str, role: Role | str,
                display_name: str = "", organisation: str = "", province: str = "",
                categories: list[str] | tuple[str, ...] = ()) -> User:
    """Add a user (not committed); raises ValueError for a taken name or a bad role."""
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
                password_hash=hash_password(password, username=name), organisation=organisation,
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
