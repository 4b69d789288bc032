"""Reads of accounts: users by name, login checks, the user behind a bearer token."""
from __future__ import annotations

from sqlalchemy import bindparam
from sqlmodel import Session, select

from ..core.models import ApiToken, User, utcnow
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


# One prebuilt statement: every API request runs it, so it costs one query and no statement building.
_TOKEN_OWNER = (select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                .where(ApiToken.token_hash == bindparam("token_hash")))


def user_for_token(*, session: Session, token: str) -> User | None:
    """The active user owning an unexpired, unrevoked ``token``, or None."""
    row = session.exec(_TOKEN_OWNER, params={"token_hash": token_digest(token)}).first()
    if row is None:
        return None
    found, user = row
    if found.revoked_at is not None or found.expires_at <= utcnow():
        return None
    return user if user.active else None
