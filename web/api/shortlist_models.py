"""The bodies, queries and answers of ``/api/v1/rounds/{key}/shortlist…`` (see ``shortlists.py``)."""
from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field

from ..core.inputs import MAX_ID
from ..core.models import RoundState
from ..signing.operations import MAX_TEXT
from ..core.schemas import ApiError, Body, Moment, Prose, Query, Reply, Text, integral
from .rankings import Method

ANCHOR = ("the chair's seal: the audit log's sealed head just after this signing, COUNT:HASH, as every PDF of "
          "this version prints it; `tuiyou audit verify --anchor COUNT:HASH` checks that the log still holds it")
MAX_OVERRIDE_REASON = 2000  # review.operations.override_entry refuses a longer one
# 0 … 2^31 − 1, as web.core.inputs.record_id reads an id from a query (0 names no version: 404)
Version = Annotated[int, Field(ge=0, le=MAX_ID, description="a signed version's number (1, 2, …)"),
                    BeforeValidator(integral)]


class ShortlistQuery(Query):
    """The method of an unsaved proposal, or a signed version to read."""

    codes: ClassVar = {"method": "unknown_method", "version": "bad_version"}

    method: Method | None = Field(default=None, description="empty or absent: the default method")
    version: Version | None = None


class ExportQuery(Query):
    """What to export: the shortlist or the full rankings, of the current state or a signed version."""

    codes: ClassVar = {"scope": "bad_scope", "version": "bad_version"}

    scope: Literal["shortlist", "rankings"] = "shortlist"
    version: Version | None = None


class Proposal(Body):
    """Which method to propose the shortlist by (the default when none is named)."""

    codes: ClassVar = {"method": "unknown_method"}

    method: Method | None = Field(default=None, description="empty or absent: the default method")


class Override(Body):
    """Move one entry in or out of the shortlist, with the written reason."""

    refused: ClassVar = (422, "included_required")
    codes: ClassVar = {"reason": "reason_required", "reason:too_long": "reason_too_long"}

    included: bool = Field(description="true: into the shortlist; false: out of it")
    reason: Prose = Field(max_length=MAX_OVERRIDE_REASON, description="why (kept beside the entry in every export)")


class Signature(Body):
    """The signer's re-entered password, and an optional dissent (保留意见)."""

    codes: ClassVar = {"password": (403, "wrong_password"), "dissent": "bad_dissent",
                       "dissent:too_long": "text_too_long"}

    password: Text = Field(default="", description="the signer re-enters their password; missing or wrong: 403")
    dissent: Annotated[Text, Field(max_length=MAX_TEXT)] | None = None


class Reopening(Body):
    """Why a signed round is opened again."""

    refused: ClassVar = (422, "reason_required")

    reason: Prose


class Entry(Reply):
    """One work (or case) of the shortlist: its rank and band, whether it was proposed and is
    included, and the chair's override with its reason."""

    item_id: int
    entry_id: int | None = Field(description="null in an unsaved proposal")
    title: str
    category: str
    rank: int
    rank_low: int
    rank_high: int
    score: float | None
    se: float | None
    p_shortlist: float | None
    n_ratings: int
    proposed: bool
    included: bool
    straddles_cut: bool
    override_reason: str | None
    override_by: str | None
    override_at: Moment | None
    reason: str | None = Field(default=None, description="why the proposal put it in or out (unsaved proposals)")


class VersionSummary(Reply):
    """A signed version of the result, and its re-opening if any."""

    version: int
    content_sha256: str
    method: str
    signed_by: str | None
    signed_at: Moment
    reopened_by: str | None
    reopened_at: Moment | None
    reopen_reason: str | None
    audit_anchor: str | None = Field(description=ANCHOR)


class Shortlist(Reply):
    """The shortlist as it stands: ``state`` is ``unsaved``, ``proposed`` or ``signed``."""

    round: str
    round_state: RoundState
    state: Literal["unsaved", "proposed", "signed"]
    method: str
    content_sha256: str | None
    version: int | None
    entries: list[Entry]
    versions: list[VersionSummary]


class SignedSnapshot(Reply):
    """One signed version: the frozen content whose SHA-256 was signed."""

    round: str
    version: int
    content_sha256: str
    signed_at: Moment
    audit_anchor: str | None = Field(description=ANCHOR)
    content: dict[str, Any]


class Proposed(Reply):
    """The stored proposal."""

    round: str
    state: Literal["unsaved", "proposed", "signed"]
    method: str
    entries: list[Entry]


class Overridden(Reply):
    """An entry moved in or out."""

    entry_id: int
    included: bool
    override_reason: str | None


class Sealed(Reply):
    """The chair's sign-off: the result frozen as a new signed version."""

    round: str
    state: Literal["signed"]
    version: int
    content_sha256: str
    signed_at: Moment
    audit_anchor: str | None = Field(description=ANCHOR)


class MemberSigned(Reply):
    """A panel member's signature on the sealed result."""

    round: str
    state: Literal["signed"]
    signer: Literal["member"]
    content_sha256: str
    signed_at: Moment
    dissent: str | None


class RoundReopened(Reply):
    """A signed round back in review."""

    round: str
    state: RoundState
    reopened_version: int | None = Field(description="the signed version re-opened (null when none was signed)")


class Unexplained(ApiError):
    """409: with ``unexplained_abnormal``, the assignment ids whose abnormal rating blocks the sign-off."""

    unexplained: list[int] | None = None
