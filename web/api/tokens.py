"""``/api/v1/tokens`` and ``/api/v1/me``: bearer tokens for a user name and password."""
from __future__ import annotations

from flask import current_app, jsonify, request

from ..core.access import current_user, role_required
from ..accounts.operations import issue_token, revoke_token
from ..accounts.queries import authenticate
from ..core.audit import record_event
from ..core.db import get_session
from .blueprint import bp, error


@bp.post("/tokens", endpoint="issue_token")
def issue_token_view():
    """Exchange a user name and password for a bearer token."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("username"), str) \
            or not isinstance(body.get("password"), str):
        return error(400, "bad_request", 'Send JSON {"username": "...", "password": "..."}.')
    db = get_session()
    user = authenticate(session=db, username=body["username"], password=body["password"])
    if user is None:
        record_event(db, "token.refused", actor=body["username"].strip().lower()[:100],
                     detail={"address": request.remote_addr})
        db.commit()
        return error(401, "bad_credentials", "Unknown user name or wrong password.")
    token, row = issue_token(session=db, user=user, ttl_hours=current_app.config["TOKEN_TTL_HOURS"])
    record_event(db, "token.issued", actor=user.username)
    db.commit()
    return jsonify(token=token, expires_at=row.expires_at.isoformat(), role=user.role.value), 201


@bp.delete("/tokens/current")
@role_required()
def revoke_current_token():
    """Revoke the token this request was made with."""
    db = get_session()
    revoke_token(session=db, token=request.headers["Authorization"][7:].strip())
    record_event(db, "token.revoked", actor=current_user().username)
    db.commit()
    return "", 204


@bp.get("/me")
@role_required()
def me():
    """Who the token belongs to."""
    user = current_user()
    return jsonify(username=user.username, display_name=user.display_name, role=user.role.value,
                   categories=user.categories)
