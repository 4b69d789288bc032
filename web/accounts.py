"""Accounts: password hashing (argon2id via argon2-cffi) and API bearer tokens.

Tokens are random 256-bit strings shown once; only their SHA-256 is stored, so a leaked
database does not leak usable tokens.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from .models import ApiToken, Role, User, utcnow

_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the timing of a failed login
# the same whether or not the account exists.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``; raises ValueError when it is too short."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    """Whether ``password`` is the user's; constant work when the user is missing."""
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


def get_user_by_name(*, session: Session, username: str) -> User | None:
    """The user called ``username`` (case-insensitive), or None."""
    return session.exec(select(User).where(User.username == username.strip().lower())).first()


def authenticate(*, session: Session, username: str, password: str) -> User | None:
    """The active user whose name and password match, or None."""
    user = get_user_by_name(session=session, username=username)
    if check_password(user, password) and user.active:
        return user
    return None


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
                password_hash=hash_password(password), organisation=organisation,
                province=province, categories=list(categories))
    session.add(user)
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(*, session: Session, user: User, ttl_hours: float) -> tuple[str, ApiToken]:
    """A new bearer token for ``user`` (the plain token is returned once, never stored)."""
    token = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=_digest(token),
                   expires_at=utcnow() + dt.timedelta(hours=ttl_hours))
    session.add(row)
    return token, row


def user_for_token(*, session: Session, token: str) -> User | None:
    """The active user owning an unexpired, unrevoked ``token``, or None."""
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _digest(token))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    return user if user and user.active else None


def revoke_token(*, session: Session, token: str) -> bool:
    """Revoke ``token``; False when it was unknown or already revoked."""
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _digest(token))).first()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    session.add(row)
    return True
