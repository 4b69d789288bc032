"""Build an export of a round (the signed version, or the current proposal) and render it.

Gathers from the review and panel features what the document prints: the entries with every
override, the method used per category, the whole panel's signatures, the abnormal-score
explanations and waivers the sign-off relied on, and the audit log's head."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from sqlmodel import Session

from scoring.rules.documents import DocumentRule, load_document_rule

from ..core.audit import read_head
from ..core.models import Round
from ..rating.flags import abnormal_ratings
from ..review import queries, services
from ..signing import queries as signing
from ..signing.queries import panel_members
from ..signing.queries import signatures as panel_signatures
from .document import AnnexItem, ExportDocument, Member, from_snapshot, from_view
from .pdf import to_pdf
from .tabular import to_csv, to_xlsx
from .titles import round_title

FORMATS = {"csv": ("text/csv; charset=utf-8", to_csv),
           "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", to_xlsx),
           "pdf": ("application/pdf", to_pdf)}
SCOPES = ("shortlist", "rankings")


def issuer_of(round_: Round, rule: DocumentRule | None = None) -> str:
    """The body that issues the round's documents (config/documents.toml)."""
    return (rule or load_document_rule()).issuer(provincial=round_.stage.value == "provincial", unit=round_.unit)


def _annex(session: Session, round_: Round) -> list[AnnexItem]:
    """The round's abnormal ratings (``rating.flags.abnormal_ratings``, the count every page shows)
    that have an explanation or a waiver: what the sign-off relied on."""
    return [AnnexItem(r.expert, r.title, r.category, r.flag.direction, r.flag.explanation, r.flag.explained_at,
                      r.flag.waiver_reason, r.waived_by, r.flag.waived_at)
            for r in abnormal_ratings(session=session, round_=round_)
            if r.flag.explanation or r.flag.waiver_reason]


def _members_signed(session: Session, round_: Round, chosen) -> list[Member]:
    """Chair first, then the members in the order they signed, then every member who has not."""
    shortlist = queries.get_shortlist(session=session, round_=round_)
    if shortlist is not None and shortlist.content_sha256 == chosen.content_sha256:
        signed, waiting = panel_signatures(session=session, round_=round_)
        members = [Member(s.name, s.role, s.signed_at, s.dissent) for s in signed]
        members.sort(key=lambda m: m.role != "chair")  # stable: the chair first, then in signing order
        return members + [Member(s.name, "member") for s in waiting]
    # an older version (the round was re-opened since): its chair's signature is what is kept
    names = queries.user_names(session=session, ids={chosen.signed_by})
    return [Member(names.get(chosen.signed_by, ""), "chair", chosen.signed_at)]


def _categories_used(session: Session, round_: Round, method: str) -> list[dict]:
    return services.ranking_for(session=session, round_=round_, method=method).categories


def export_document(*, session: Session, round_: Round, scope: str = "shortlist",
                    version: int | None = None) -> ExportDocument | None:
    """The signed version asked for (the latest when the round is signed), else the current proposal.

    None when ``version`` names no signed version.
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r} (shortlist or rankings)")
    rule = load_document_rule()
    title = round_title(round_, scope)
    versions = signing.result_versions(session=session, round_=round_)
    chosen = None
    if version is not None:
        chosen = next((v for v in versions if v.version == version), None)
        if chosen is None:
            return None
    elif signing.round_is_locked(round_) and versions:
        chosen = versions[-1]
    if chosen is not None:
        latest = chosen.version == versions[-1].version
        return from_snapshot(round_key=round_.key, title=title, issuer=issuer_of(round_, rule),
                             content_text=chosen.content, sha256=chosen.content_sha256, version=chosen.version,
                             signed_at=chosen.signed_at, members=_members_signed(session, round_, chosen),
                             scope=scope, audit_head=chosen.audit_anchor,
                             categories_used=_categories_used(session, round_, chosen.method) if latest else [],
                             annex=_annex(session, round_) if latest else [], rule=rule)
    view = services.shortlist_view(session=session, round_=round_)
    ranking = services.ranking_for(session=session, round_=round_, method=view.method)
    head = read_head(session)
    members = [Member("", "chair")] + [Member(u.display_name or u.username, "member")
                                       for u in panel_members(session=session, round_=round_)]
    return from_view(round_key=round_.key, title=title, issuer=issuer_of(round_, rule), method=view.method,
                     params=ranking.params, state=view.state, entries=view.entries, scope=scope, members=members,
                     audit_head=head.anchor if head else None, categories_used=ranking.categories,
                     annex=_annex(session, round_), rule=rule)


@dataclass(frozen=True)
class Rendered:
    body: bytes
    mimetype: str
    filename: str

    @property
    def disposition(self) -> str:
        """Content-Disposition with an ASCII fallback and the UTF-8 file name (RFC 6266)."""
        ascii_name = self.filename.encode("ascii", "replace").decode().replace("?", "_")
        return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(self.filename)}"


def render(doc: ExportDocument, fmt: str) -> Rendered:
    """The file in ``fmt`` (csv, xlsx, pdf); FontMissing from the PDF writer when no CJK font exists."""
    mimetype, writer = FORMATS[fmt]
    return Rendered(writer(doc), mimetype, f"{doc.filename_stem}.{fmt}")
