"""Build an export of a round (the signed version, or the current proposal) and render it."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from sqlmodel import Session

from ..core.models import Round
from ..signing import queries as signing
from ..signing.queries import signatures as panel_signatures
from ..review import services, queries
from .document import ExportDocument, from_snapshot, from_view
from .pdf import to_pdf
from .tabular import to_csv, to_xlsx

FORMATS = {"csv": ("text/csv; charset=utf-8", to_csv),
           "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", to_xlsx),
           "pdf": ("application/pdf", to_pdf)}
SCOPES = ("shortlist", "rankings")


def round_label(round_: Round) -> str:
    """The round as printed on exports: key, stage and unit."""
    stage = "省级初审" if round_.stage.value == "provincial" else "总局评审"
    return f"{round_.key}（{stage}{'·' + round_.unit if round_.unit else ''}）"


def export_document(*, session: Session, round_: Round, scope: str = "shortlist",
                    version: int | None = None) -> ExportDocument | None:
    """The signed version asked for (the latest when the round is signed), else the current proposal.

    None when ``version`` names no signed version.
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r} (shortlist or rankings)")
    versions = signing.result_versions(session=session, round_=round_)
    chosen = None
    if version is not None:
        chosen = next((v for v in versions if v.version == version), None)
        if chosen is None:
            return None
    elif signing.round_is_locked(round_) and versions:
        chosen = versions[-1]
    if chosen is not None:
        names = queries.user_names(session=session, ids={chosen.signed_by})
        signatures = [{"role": "评审组组长", "name": names.get(chosen.signed_by, ""),
                       "signed_at": chosen.signed_at.isoformat(timespec="seconds"), "dissent": None}]
        shortlist = queries.get_shortlist(session=session, round_=round_)
        unsigned: list[str] = []
        if shortlist is not None and shortlist.content_sha256 == chosen.content_sha256:
            unsigned = [s.name for s in panel_signatures(session=session, round_=round_)[1]]
            signatures = [{"role": "评审组组长" if user.role.value != "expert" else "评审专家",
                           "name": user.display_name or user.username,
                           "signed_at": s.signed_at.isoformat(timespec="seconds"), "dissent": s.dissent}
                          for s, user in signing.sign_offs(session=session, shortlist=shortlist)]
        return from_snapshot(round_key=round_.key, round_label=round_label(round_), content_text=chosen.content,
                             sha256=chosen.content_sha256, version=chosen.version, signed_at=chosen.signed_at,
                             signatures=signatures, scope=scope, unsigned=unsigned,
                             audit_anchor=chosen.audit_anchor)
    view = services.shortlist_view(session=session, round_=round_)
    return from_view(round_key=round_.key, round_label=round_label(round_), method=view.method,
                     state=view.state, entries=view.entries, scope=scope)


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
