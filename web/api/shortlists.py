"""``/api/v1/rounds/{key}/shortlist``: the proposal, overrides, the sign-off that seals the round,
re-opening, signed versions and the exports (chair, admin; experts 403, except that a panel
member signs a sealed round through ``…/signoff``: 201; off the panel 403; a second time 409).

Errors: 403 ``wrong_password`` when the signer's re-entered password is wrong; 409 when the
round is not in review; 422 for a missing reason; 423 ``locked`` for any write to a signed round.
"""
from __future__ import annotations

import json

from flask import Response, jsonify, request

from ..core.access import current_user, role_required
from ..core.db import get_session
from ..core.inputs import MAX_ID, record_id
from ..exports.build import SCOPES, export_document, render
from ..exports.fonts import FONT_PACKAGE, FontMissing
from ..core.models import Role
from ..panel import operations as panel_operations
from ..review import console, operations, queries
from ..rounds.queries import get_round
from .blueprint import bp, error, round_or_404


def _refused(exc: operations.ReviewError):
    get_session().rollback()
    return error(exc.status, exc.code, exc.en, message_zh=exc.zh, **exc.extra)


def _body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _versions(db, round_) -> list[dict]:
    versions = queries.result_versions(session=db, round_=round_)
    names = queries.user_names(session=db, ids={v.signed_by for v in versions} |
                               {v.reopened_by for v in versions if v.reopened_by})
    return [{"version": v.version, "content_sha256": v.content_sha256, "method": v.method,
             "signed_by": names.get(v.signed_by), "signed_at": v.signed_at.isoformat(),
             "reopened_by": names.get(v.reopened_by) if v.reopened_by else None,
             "reopened_at": v.reopened_at.isoformat() if v.reopened_at else None,
             "reopen_reason": v.reopen_reason, "audit_anchor": v.audit_anchor} for v in versions]


@bp.get("/rounds/<key>/shortlist")
@role_required(Role.chair, Role.admin)
def shortlist(key: str):
    """The shortlist (stored, or the unsaved proposal); ``?version=N`` gives a signed version's snapshot."""
    db = get_session()
    round_ = round_or_404(db, key)
    if request.args.get("version"):
        version = record_id(request.args["version"])
        if version is None:
            return error(422, "bad_version", f"version must be a whole number from 0 to {MAX_ID}")
        stored = queries.result_version(session=db, round_=round_, version=version)
        if stored is None:
            return error(404, "no_such_version", f"round {key} has no signed version {request.args['version']}")
        return jsonify({"round": key, "version": stored.version, "content_sha256": stored.content_sha256,
                        "signed_at": stored.signed_at.isoformat(), "audit_anchor": stored.audit_anchor,
                        "content": json.loads(stored.content)})
    try:
        view = console.shortlist_view(session=db, round_=round_, method=console.parse_method(request.args.get("method")))
    except operations.ReviewError as exc:
        return _refused(exc)
    db.commit()  # the rankings cache
    return jsonify({"round": key, "round_state": round_.state.value, "state": view.state, "method": view.method,
                    "content_sha256": view.content_sha256, "version": view.version,
                    "entries": view.entries, "versions": _versions(db, round_)})


@bp.post("/rounds/<key>/shortlist")
@role_required(Role.chair, Role.admin)
def propose(key: str):
    """(Re-)propose and store the shortlist by ``{"method"}``; the chair's overrides are kept."""
    db = get_session()
    round_ = round_or_404(db, key)
    try:
        method = console.parse_method(_body().get("method"))
        console.propose_and_save(session=db, round_=round_, method=method, actor=current_user())
    except operations.ReviewError as exc:
        return _refused(exc)
    db.commit()
    view = console.shortlist_view(session=db, round_=round_)
    return jsonify({"round": key, "state": view.state, "method": view.method, "entries": view.entries}), 201


@bp.post("/rounds/<key>/shortlist/entries/<int:entry_id>")
@role_required(Role.chair, Role.admin)
def override(key: str, entry_id: int):
    """Move an entry in or out: ``{"included": true|false, "reason": "…"}`` (a reason is required)."""
    db = get_session()
    round_ = round_or_404(db, key)
    body = _body()
    try:
        operations.ensure_writable(round_)
        if not isinstance(body.get("included"), bool):
            return error(422, "included_required", "send \"included\": true or false")
        shortlist = queries.get_shortlist(session=db, round_=round_)
        entry = next((e for e in queries.shortlist_entries(session=db, shortlist=shortlist) if e.id == entry_id),
                     None) if shortlist else None
        if entry is None:
            return error(404, "no_such_entry", f"round {key} has no shortlist entry {entry_id}")
        operations.override_entry(session=db, round_=round_, entry=entry, include=body["included"],
                                  reason=body.get("reason") or "", actor=current_user())
    except operations.ReviewError as exc:
        return _refused(exc)
    db.commit()
    return jsonify({"entry_id": entry.id, "included": entry.included, "override_reason": entry.override_reason})


@bp.post("/rounds/<key>/shortlist/signoff")
@role_required(Role.chair, Role.admin, Role.expert)
def signoff(key: str):
    """The chair re-enters the password and seals the result; then each panel member signs it the same way."""
    db = get_session()
    round_ = get_round(session=db, key=key)  # an expert is told 403 either way (see _member_signature)
    user = current_user()
    if user.role == Role.expert:
        return _member_signature(db, round_, key)
    if round_ is None:
        return error(404, "not_found", f"no round {key!r}")
    body = _body()
    dissent = body.get("dissent")
    if dissent is not None and not isinstance(dissent, str):
        return error(422, "bad_dissent", "dissent must be text")
    try:
        version = console.seal(session=db, round_=round_, signer=current_user(),
                               password=str(body.get("password") or ""), dissent=dissent)
    except operations.ReviewError as exc:
        return _refused(exc)
    db.commit()
    return jsonify({"round": key, "state": "signed", "version": version.version,
                    "content_sha256": version.content_sha256, "signed_at": version.signed_at.isoformat(),
                    "audit_anchor": version.audit_anchor}), 201


def _member_signature(db, round_, key: str):
    """An expert's signature on a sealed round of their panel (403 off the panel, 409 twice)."""
    if round_ is None:  # the same answer as off the panel: an expert learns nothing of other rounds
        return error(403, "not_on_panel", "you are not on this round's panel: nothing to sign")
    body = _body()
    try:
        signature = panel_operations.member_sign(session=db, round_=round_, member=current_user(),
                                                 password=str(body.get("password") or ""),
                                                 dissent=body.get("dissent"))
    except panel_operations.PanelRefused as exc:
        db.rollback()
        return error(exc.status, exc.code, exc.en, message_zh=exc.zh)
    db.commit()
    return jsonify({"round": key, "state": "signed", "signer": "member",
                    "content_sha256": signature.content_sha256, "signed_at": signature.signed_at.isoformat(),
                    "dissent": signature.dissent}), 201


@bp.post("/rounds/<key>/reopen", endpoint="reopen_round")
@role_required(Role.admin)
def reopen(key: str):
    """An admin re-opens a signed round with ``{"reason"}``; the signed version stays readable."""
    db = get_session()
    round_ = round_or_404(db, key)
    try:
        version = operations.reopen(session=db, round_=round_, actor=current_user(), reason=_body().get("reason") or "")
    except operations.ReviewError as exc:
        return _refused(exc)
    db.commit()
    return jsonify({"round": key, "state": round_.state.value,
                    "reopened_version": version.version if version else None})


@bp.get("/rounds/<key>/shortlist.<any(csv, xlsx, pdf):fmt>")
@role_required(Role.chair, Role.admin)
def export(key: str, fmt: str):
    """The shortlist (``?scope=rankings``: the full rankings) as CSV, XLSX or PDF; ``?version=N`` an older version."""
    db = get_session()
    round_ = round_or_404(db, key)
    scope = request.args.get("scope", "shortlist")
    if scope not in SCOPES:
        return error(422, "bad_scope", f"scope must be one of {', '.join(SCOPES)}")
    version = request.args.get("version")
    if version is not None and record_id(version) is None:
        return error(422, "bad_version", f"version must be a whole number from 0 to {MAX_ID}")
    doc = export_document(session=db, round_=round_, scope=scope, version=record_id(version) if version else None)
    if doc is None:
        return error(404, "no_such_version", f"round {key} has no signed version {version}")
    try:
        rendered = render(doc, fmt)
    except FontMissing as exc:
        return error(503, "cjk_font_missing", str(exc), package=FONT_PACKAGE)
    db.commit()
    return Response(rendered.body, mimetype=rendered.mimetype,
                    headers={"Content-Disposition": rendered.disposition})
