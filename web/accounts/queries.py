"""Reads of accounts: users by name, login checks, the user behind a bearer token."""
from __future__ import annotations

from sqlmodel import Session, select

from ..models import ApiToken, User, utcnow
from .passwords import check_password, token_digest


def get_user_by_name(*, session: Session, username: str) -> User | None:
    """The user called ``username`` (case-insensitive), or None."""
    return session.exec(select(User).where(User.username == username.strip().lower())).first()


def authenticate(*, session: Session, username: str, password: str) -> User | None:
    """The active user whose name and password match, or None."""
    user = get_user_by_name(session=session, username=username)
    if check_password(user, password) and user.active:
        return user
    return None


def user_for_token(*, session: Session, token: str) -> User | None:
    """The active user owning an unexpired, unrevoked ``token``, or None."""
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == token_digest(token))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    return user if user and user.active else None
