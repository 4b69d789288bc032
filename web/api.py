"""The JSON API under ``/api/v1`` (bearer tokens; described by ``/api/v1/openapi.json``)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from scoring.rules.config import load_rules

from .access import current_user, role_required
from .accounts import authenticate, issue_token, revoke_token
from .audit import record_event
from .db import get_session
from .models import Role
from .openapi import SPEC
from .queries import current_scores, expert_assignments, list_rounds, work_counts

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Fields an expert may see of a work: never the submitter, unit, province or other scores.
BLIND_FIELDS = ("id", "title", "category", "synopsis", "duration_min", "episodes", "url",
                "uhd", "aigc", "single_episode")


def _error(status: int, error: str, message: str, **extra):
    response = jsonify(error=error, message=message, **extra)
    response.status_code = status
    return response


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(SPEC)


@bp.post("/tokens", endpoint="issue_token")
def issue_token_view():
    """Exchange a user name and password for a bearer token."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("username"), str) \
            or not isinstance(body.get("password"), str):
        return _error(400, "bad_request", 'Send JSON {"username": "...", "password": "..."}.')
    db = get_session()
    user = authenticate(session=db, username=body["username"], password=body["password"])
    if user is None:
        record_event(db, "token.refused", actor=body["username"].strip().lower()[:100],
                     detail={"address": request.remote_addr})
        db.commit()
        return _error(401, "bad_credentials", "Unknown user name or wrong password.")
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


@bp.get("/rounds")
@role_required()
def rounds():
    """Every round with its state and number of works."""
    db = get_session()
    counts = work_counts(session=db)
    return jsonify([{"key": r.key, "year": r.year, "quarter": r.quarter, "kind": r.kind.value,
                     "stage": r.stage.value, "unit": r.unit, "state": r.state.value,
                     "works": counts.get(r.id, 0)} for r in list_rounds(session=db)])


@bp.get("/assignments")
@role_required(Role.expert)
def assignments():
    """The caller's assignments: blind work fields, current scores, version and criteria."""
    db, user = get_session(), current_user()
    rows = expert_assignments(session=db, expert=user)
    rules = load_rules()
    ratings = current_scores(session=db, assignments=[row.assignment for row in rows])
    result = []
    for row in rows:
        criteria = rules.criteria_sets[row.round.criteria_set].criteria
        result.append({
            "id": row.assignment.id, "round": row.round.key,
            "work": {field: getattr(row.work, field) for field in BLIND_FIELDS},
            "status": row.assignment.status.value,
            "scores": ratings.get(row.assignment.id, {}),
            "version": row.assignment.version,
            "criteria": [{"key": c.key, "label": c.label, "label_en": c.label_en, "rubric": c.rubric,
                          "min": c.min, "max": c.max, "step": c.step, "weight": c.weight}
                         for c in criteria],
        })
    return jsonify(result)
