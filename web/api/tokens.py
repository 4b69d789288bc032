"""``/api/v1/tokens`` and ``/api/v1/me``: bearer tokens for a user name and password."""
from __future__ import annotations

from typing import ClassVar

from flask import current_app, request
from pydantic import Field

from ..core.access import current_user
from ..accounts.operations import issue_token, revoke_token
from ..accounts.queries import authenticate
from ..core.audit import record_event
from ..core.db import get_session
from ..core.models import Role
from ..core.schemas import ApiError, Body, Moment, Reply, Text
from .blueprint import bp, error
from .registry import ANY_ROLE, PUBLIC, operation


class Credentials(Body):
    """A user name and password to exchange for a token."""

    refused: ClassVar = (400, "bad_request")

    username: Text = Field(description="the user name (case does not matter)")
    password: Text


class Token(Reply):
    """A bearer token: send it as ``Authorization: Bearer TOKEN``."""

    token: str
    expires_at: Moment
    role: Role


class Caller(Reply):
    """Who a token belongs to."""

    username: str
    display_name: str
    role: Role
    categories: list[str]


@bp.post("/tokens", endpoint="issue_token")
@operation("Exchange a user name and password for a bearer token", roles=PUBLIC, body=Credentials, answers={
    201: ("Token issued", Token), 400: ("The body is not {username, password} as text", ApiError),
    401: ("Unknown user name or wrong password (`bad_credentials`)", ApiError),
    429: ("Too many failed attempts for this account or address", ApiError)})
def issue_token_view(body: Credentials):
    """Exchange a user name and password for a bearer token."""
    db = get_session()
    user = authenticate(session=db, username=body.username, password=body.password)
    if user is None:
        record_event(db, "token.refused", actor=body.username.strip().lower()[:100],
                     detail={"address": request.remote_addr})  # kept: the answer commits it
        return error(401, "bad_credentials", "Unknown user name or wrong password.")
    token, row = issue_token(session=db, user=user, ttl_hours=current_app.config["TOKEN_TTL_HOURS"])
    record_event(db, "token.issued", actor=user.username)
    return Token(token=token, expires_at=row.expires_at, role=user.role)


@bp.delete("/tokens/current")
@operation("Revoke the token this request was made with", roles=ANY_ROLE, answers={204: ("Revoked", None)})
def revoke_current_token():
    """Revoke the token this request was made with."""
    db = get_session()
    revoke_token(session=db, token=request.headers["Authorization"][7:].strip())
    record_event(db, "token.revoked", actor=current_user().username)
    return None, 204


@bp.get("/me")
@operation("Who the token belongs to", roles=ANY_ROLE, answers={200: ("The caller's account", Caller)})
def me():
    """Who the token belongs to."""
    user = current_user()
    return Caller(username=user.username, display_name=user.display_name, role=user.role,
                  categories=user.categories)
