"""``/api/v1/rounds/{key}/shortlist``: the proposal, overrides, the sign-off that seals the round,
re-opening, signed versions and the exports (chair, admin; experts 403, except that a panel
member signs a sealed round through ``…/signoff``: 201; off the panel 403; a second time 409).

Errors: 403 ``wrong_password`` when the signer's re-entered password is wrong; 409 when the
round is not in review; 422 for a missing reason; 423 ``locked`` for any write to a signed round.
"""
from __future__ import annotations

import json

from flask import Response

from ..core.access import current_user
from ..core.db import get_session
from ..exports.build import export_document, render
from ..exports.fonts import FONT_PACKAGE, FontMissing
from ..core.models import Role
from ..signing import operations as signing
from ..signing import queries as signing_queries
from ..review import services, operations, queries
from ..rounds.queries import get_round
from ..core.schemas import ApiError
from .blueprint import bp, error, round_or_404
from .registry import EXPORTS, Memoized, operation
from .shortlist_models import (ExportQuery, MemberSigned, Override, Overridden, Proposal, Proposed, Reopening,
                               RoundReopened, Sealed, Shortlist, ShortlistQuery, SignedSnapshot, Signature,
                               Unexplained, VersionSummary)

STAFF = (Role.chair, Role.admin)
LOCKED = ("The round is signed: every write is refused (`locked`)", ApiError)


def _versions(db, round_) -> list[VersionSummary]:
    versions = signing_queries.result_versions(session=db, round_=round_)
    names = queries.user_names(session=db, ids={v.signed_by for v in versions} |
                               {v.reopened_by for v in versions if v.reopened_by})
    return [VersionSummary(version=v.version, content_sha256=v.content_sha256, method=v.method,
                           signed_by=names.get(v.signed_by), signed_at=v.signed_at,
                           reopened_by=names.get(v.reopened_by) if v.reopened_by else None,
                           reopened_at=v.reopened_at, reopen_reason=v.reopen_reason, audit_anchor=v.audit_anchor)
            for v in versions]


@bp.get("/rounds/<key>/shortlist")
@operation("The shortlist (stored, or the unsaved proposal); ?version=N a signed version's snapshot",
           roles=STAFF, query=ShortlistQuery, answers={
               200: ("The shortlist with its entries and signed versions, or one signed version",
                     Shortlist | SignedSnapshot),
               304: ("Not modified: the request's If-None-Match holds this answer's ETag (nothing in the "
                     "shortlist, its entries, its state or its versions changed)", None),
               404: ("No such round, or no such signed version (`no_such_version`)", ApiError),
               422: ("Unknown method, or a version that is not a whole number", ApiError)})
def shortlist(key: str, query: ShortlistQuery):
    """The shortlist (stored, or the unsaved proposal); ``?version=N`` gives a signed version's snapshot."""
    db = get_session()
    round_ = round_or_404(db, key)
    if query.version is not None:
        stored = signing_queries.result_version(session=db, round_=round_, version=query.version)
        if stored is None:
            return error(404, "no_such_version", f"round {key} has no signed version {query.version}")
        return SignedSnapshot(round=key, version=stored.version, content_sha256=stored.content_sha256,
                              signed_at=stored.signed_at, audit_anchor=stored.audit_anchor,
                              content=json.loads(stored.content))
    view = services.shortlist_view(session=db, round_=round_, method=services.parse_method(query.method),
                                   latest=True)
    versions = _versions(db, round_)

    def answer() -> Shortlist:
        return Shortlist(round=key, round_state=round_.state, state=view.state, method=view.method,
                         content_sha256=view.content_sha256, version=view.version, entries=view.entries,
                         versions=versions)

    if view.entries_key is None:
        return answer()
    # the same entries, state and versions: the same bytes, serialized once per stored result (with an ETag)
    made_of = (view.entries_key, round_.state, view.state, view.method, view.content_sha256, view.version,
               tuple(v.model_dump_json() for v in versions))
    return Memoized(view.ranking.memo, "shortlist", answer, made_of)


@bp.post("/rounds/<key>/shortlist")
@operation("(Re-)propose and store the shortlist by {method}; the chair's overrides are kept", roles=STAFF,
           body=Proposal, optional_body=True, answers={
               201: ("Stored", Proposed), 409: ("No submitted ratings yet (`no_ratings`)", ApiError),
               422: ("Unknown method", ApiError), 423: LOCKED})
def propose(key: str, body: Proposal):
    """(Re-)propose and store the shortlist by ``{"method"}``; the chair's overrides are kept."""
    db = get_session()
    round_ = round_or_404(db, key)
    services.propose_and_save(session=db, round_=round_, method=services.parse_method(body.method),
                             actor=current_user())
    db.flush()
    view = services.shortlist_view(session=db, round_=round_)
    return Proposed(round=key, state=view.state, method=view.method, entries=view.entries), 201


@bp.post("/rounds/<key>/shortlist/entries/<int:entry_id>")
@operation("Move an entry in or out, with a written reason", roles=STAFF, body=Override, answers={
    200: ("Moved and audited", Overridden), 404: ("No such round or entry (`no_such_entry`)", ApiError),
    409: ("The entry is already there (`no_change`)", ApiError),
    422: ("`included` is not true or false, or no reason", ApiError), 423: LOCKED})
def override(key: str, entry_id: int, body: Override):
    """Move an entry in or out: ``{"included": true|false, "reason": "…"}`` (a reason is required)."""
    db = get_session()
    round_ = round_or_404(db, key)
    signing.ensure_writable(round_)
    shortlist = queries.get_shortlist(session=db, round_=round_)
    entry = next((e for e in queries.shortlist_entries(session=db, shortlist=shortlist) if e.id == entry_id),
                 None) if shortlist else None
    if entry is None:
        return error(404, "no_such_entry", f"round {key} has no shortlist entry {entry_id}")
    operations.override_entry(session=db, round_=round_, entry=entry, include=body.included,
                              reason=body.reason, actor=current_user())
    return Overridden(entry_id=entry.id, included=entry.included, override_reason=entry.override_reason)


@bp.post("/rounds/<key>/shortlist/signoff")
@operation("The chair seals the result (snapshot, SHA-256; the round becomes signed); then each panel member "
           "signs it", roles=(Role.chair, Role.admin, Role.expert), body=Signature,
           description="Called by an expert on a signed round whose panel they belong to (experts assigned in "
                       "the round), it records that member's signature with the optional dissent: 201. An expert "
                       "not on the panel gets 403 `not_on_panel`, before the seal 409 `not_sealed`, signing twice "
                       "409 `already_signed`; a wrong password 403 `wrong_password` and nothing is signed.",
           answers={201: ("Signed", Sealed | MemberSigned),
                    403: ("Wrong password (`wrong_password`), not on the panel, or not the chair", ApiError),
                    404: ("No such round", ApiError),
                    409: ("The round is not in review (`not_in_review`), abnormal ratings are neither explained "
                          "nor waived (`unexplained_abnormal`, with `unexplained`), not sealed yet, or signed "
                          "already", Unexplained),
                    422: ("A dissent that is not text, or too long", ApiError), 423: LOCKED})
def signoff(key: str, body: Signature):
    """The chair re-enters the password and seals the result; then each panel member signs it the same way."""
    db = get_session()
    round_ = get_round(session=db, key=key)  # an expert is told 403 either way (see _member_signature)
    user = current_user()
    if user.role == Role.expert:
        return _member_signature(db, round_, key, body)
    if round_ is None:
        return error(404, "not_found", f"no round {key!r}")
    version = services.sign_off_shortlist(session=db, round_=round_, signer=user, password=body.password, dissent=body.dissent)
    return Sealed(round=key, state="signed", version=version.version, content_sha256=version.content_sha256,
                  signed_at=version.signed_at, audit_anchor=version.audit_anchor), 201


def _member_signature(db, round_, key: str, body: Signature):
    """An expert's signature on a sealed round of their panel (403 off the panel, 409 twice)."""
    if round_ is None:  # the same answer as off the panel: an expert learns nothing of other rounds
        return error(403, "not_on_panel", "you are not on this round's panel: nothing to sign")
    signature = signing.member_signature(session=db, round_=round_, member=current_user(),
                                             password=body.password, dissent=body.dissent)
    return MemberSigned(round=key, state="signed", signer="member", content_sha256=signature.content_sha256,
                        signed_at=signature.signed_at, dissent=signature.dissent), 201


@bp.post("/rounds/<key>/reopen", endpoint="reopen_round")
@operation("An admin re-opens a signed round with a reason (a new version follows)", roles=(Role.admin,),
           body=Reopening, answers={200: ("Back in review; the signed version stays readable", RoundReopened),
                                    409: ("The round is not signed", ApiError), 422: ("No reason", ApiError)})
def reopen(key: str, body: Reopening):
    """An admin re-opens a signed round with ``{"reason"}``; the signed version stays readable."""
    db = get_session()
    round_ = round_or_404(db, key)
    version = operations.reopen(session=db, round_=round_, actor=current_user(), reason=body.reason)
    return RoundReopened(round=key, state=round_.state, reopened_version=version.version if version else None)


@bp.get("/rounds/<key>/shortlist.<any(csv, xlsx, pdf):fmt>")
@operation("Export: CSV (UTF-8 with BOM), XLSX (a sheet per category, method and hash), PDF (A4, Chinese text)",
           roles=STAFF, query=ExportQuery, answers={
               200: ("The file", EXPORTS), 404: ("No such round or signed version (`no_such_version`)", ApiError),
               422: ("Unknown scope, or a version that is not a whole number", ApiError),
               503: ("No CJK font for the PDF (`cjk_font_missing`, names the package)", ApiError)})
def export(key: str, fmt: str, query: ExportQuery):
    """The shortlist (``?scope=rankings``: the full rankings) as CSV, XLSX or PDF; ``?version=N`` an older version."""
    db = get_session()
    round_ = round_or_404(db, key)
    doc = export_document(session=db, round_=round_, scope=query.scope, version=query.version)
    if doc is None:
        return error(404, "no_such_version", f"round {key} has no signed version {query.version}")
    try:
        rendered = render(doc, fmt)
    except FontMissing as exc:
        return error(503, "cjk_font_missing", str(exc), package=FONT_PACKAGE)
    return Response(rendered.body, mimetype=rendered.mimetype,
                    headers={"Content-Disposition": rendered.disposition})
