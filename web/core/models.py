"""Database tables (SQLModel). Every schema change goes through an Alembic migration.

Times are timezone-aware UTC (``utcnow()``); SQLModel's ``UTCDateTime`` stores them in UTC
on both SQLite and PostgreSQL and hands them back aware.
"""
from __future__ import annotations

import datetime as dt
import secrets
from enum import Enum
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint, false
from sqlmodel import Field, SQLModel


def utcnow() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def new_session_epoch() -> str:
    """A fresh random session epoch (128 bits as hex): every session cookie of the user must carry it."""
    return secrets.token_hex(16)


class Role(str, Enum):
    expert = "expert"
    chair = "chair"
    admin = "admin"


class RoundKind(str, Enum):
    quarter = "quarter"
    annual = "annual"
    dissemination = "dissemination"


class RoundState(str, Enum):
    draft = "draft"
    intake = "intake"
    scoring = "scoring"
    review = "review"
    signed = "signed"


class Stage(str, Enum):
    provincial = "provincial"
    national = "national"


class SubmitterType(str, Enum):
    organisation = "organisation"
    individual = "individual"


class UnitType(str, Enum):
    province = "province"
    central = "central"


class AssignmentStatus(str, Enum):
    pending = "pending"
    in_progress = "in_progress"
    submitted = "submitted"
    recused = "recused"


class Round(SQLModel, table=True):
    """A quarter, the year, or the year's dissemination cases, at one stage."""

    id: Optional[int] = Field(default=None, primary_key=True)
    key: str = Field(index=True, unique=True, max_length=64)
    year: int
    quarter: Optional[int] = None
    kind: RoundKind = RoundKind.quarter
    stage: Stage = Stage.national
    unit: Optional[str] = Field(default=None, max_length=200)
    state: RoundState = RoundState.draft
    criteria_set: str = Field(default="works", max_length=32)
    created_at: dt.datetime = Field(default_factory=utcnow)


class ImportBatch(SQLModel, table=True):
    """One accepted import file; its hash makes re-importing the same file a no-op."""

    # One batch per file and round: a concurrent second import of the same file fails cleanly.
    __table_args__ = (UniqueConstraint("round_id", "sha256", name="uq_importbatch_round_sha256"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    filename: str = Field(max_length=400)
    sha256: str = Field(max_length=64)
    rows_imported: int = 0
    rows_rejected: int = 0
    late_reason: Optional[str] = None
    actor: str = Field(default="", max_length=100)
    # "works" or "cases" (dissemination cases).
    kind: str = Field(default="works", max_length=20, sa_column_kwargs={"server_default": "works"})
    created_at: dt.datetime = Field(default_factory=utcnow)


class Work(SQLModel, table=True):
    """An entry: one work as submitted, with every field the notice asks for."""

    __table_args__ = (Index("ix_work_round_category", "round_id", "category"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    title: str = Field(max_length=400)
    title_normalized: str = Field(default="", max_length=400, index=True)
    category: str = Field(max_length=40)
    submitter: str = Field(max_length=200)
    submitter_type: SubmitterType = SubmitterType.organisation
    unit: str = Field(default="", max_length=200)
    unit_type: UnitType = UnitType.province
    platform: str = Field(default="", max_length=200)
    first_broadcast: Optional[dt.date] = None
    last_broadcast: Optional[dt.date] = None
    license_no: Optional[str] = Field(default=None, max_length=200)
    copyright_holder: str = Field(default="", max_length=200)
    uhd: bool = False
    aigc: bool = False
    single_episode: bool = False
    episodes: Optional[int] = None
    duration_min: Optional[float] = None
    synopsis: str = ""
    url: str = Field(default="", max_length=1000)
    source_work_id: Optional[int] = Field(default=None, foreign_key="work.id")
    # A provincial round's first-review decision: forwarded to the national stage.
    recommended: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    import_batch_id: Optional[int] = Field(default=None, foreign_key="importbatch.id")
    created_at: dt.datetime = Field(default_factory=utcnow)


class DisseminationCase(SQLModel, table=True):
    """An outstanding dissemination case (优秀传播案例) of the year."""

    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    name: str = Field(max_length=400)
    unit: str = Field(max_length=200)
    period_start: Optional[dt.date] = None
    period_end: Optional[dt.date] = None
    description: str = ""
    channels: str = ""
    reach: str = ""
    url: str = Field(default="", max_length=1000)
    import_batch_id: Optional[int] = Field(default=None, foreign_key="importbatch.id")
    created_at: dt.datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    """An account: admin (secretariat), chair or expert, with the expert's profile."""

    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=100)
    display_name: str = Field(default="", max_length=100)
    role: Role = Role.expert
    password_hash: str = Field(max_length=300)
    organisation: str = Field(default="", max_length=200)
    province: str = Field(default="", max_length=40)
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    # An expert's most works per round (每轮最多评审数); None: no limit.
    capacity: Optional[int] = None
    # Random, replaced when the user logs out or their password changes or is reset: a session
    # cookie counts only while it carries the current epoch (web.core.access), on every app server.
    session_epoch: str = Field(default_factory=new_session_epoch, max_length=32,
                               sa_column_kwargs={"server_default": ""})
    created_at: dt.datetime = Field(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: dt.datetime = Field(default_factory=utcnow)
    expires_at: dt.datetime
    revoked_at: Optional[dt.datetime] = None


class Conflict(SQLModel, table=True):
    """A declared conflict of interest: an expert must never rate the work or unit named."""

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    work_id: Optional[int] = Field(default=None, foreign_key="work.id")
    organisation: Optional[str] = Field(default=None, max_length=200)
    kind: str = Field(default="self_declared", max_length=40)
    # A person the expert declared (a relative, a former student …), matched against credits.
    person: Optional[str] = Field(default=None, max_length=100)
    reason: str = ""
    created_at: dt.datetime = Field(default_factory=utcnow)


class Assignment(SQLModel, table=True):
    """One expert asked to rate one work (or dissemination case) in a round."""

    __table_args__ = (UniqueConstraint("round_id", "expert_id", "work_id", "case_id"),
                      Index("ix_assignment_round_status", "round_id", "status"),
                      # covering the chair pages' and the progress board's reads (migration 0015)
                      Index("ix_assignment_round_expert_status", "round_id", "expert_id", "status", "version",
                            "updated_at"),
                      Index("ix_assignment_round_work_status", "round_id", "work_id", "status"),
                      Index("ix_assignment_round_submitted", "round_id", "status", "version", "updated_at",
                            "submitted_at", "id"))

    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    expert_id: int = Field(foreign_key="user.id", index=True)
    work_id: Optional[int] = Field(default=None, foreign_key="work.id", index=True)
    case_id: Optional[int] = Field(default=None, foreign_key="disseminationcase.id")
    status: AssignmentStatus = AssignmentStatus.pending
    version: int = 0
    confidence: Optional[float] = None
    presentation_order: int = 0
    recuse_reason: Optional[str] = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    submitted_at: Optional[dt.datetime] = None
    # Set by the chair: the expert may reopen this submitted form once while the round is scoring.
    reopen_allowed: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class Rating(SQLModel, table=True):
    """A value for one criterion, kept for every accepted save (``version``): nothing is lost."""

    __table_args__ = (UniqueConstraint("assignment_id", "criterion", "version"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    criterion: str = Field(max_length=40)
    value: float
    version: int
    created_at: dt.datetime = Field(default_factory=utcnow)


class Comment(SQLModel, table=True):
    """Free text on an assignment: the expert's remarks or an explanation of an outlier."""

    id: Optional[int] = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    author_id: int = Field(foreign_key="user.id")
    kind: str = Field(default="remark", max_length=20)
    body: str
    version: int = 0
    created_at: dt.datetime = Field(default_factory=utcnow)


class HighlightTag(SQLModel, table=True):
    """A focus area of section 二 that an expert ticked for a work."""

    __table_args__ = (UniqueConstraint("assignment_id", "tag"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    tag: str = Field(max_length=40)


class Shortlist(SQLModel, table=True):
    """The proposed, then adjusted, then signed selection of a round."""

    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", unique=True)
    method: str = Field(default="", max_length=40)
    state: str = Field(default="proposed", max_length=20)
    content_sha256: Optional[str] = Field(default=None, max_length=64)
    frozen_at: Optional[dt.datetime] = None
    created_at: dt.datetime = Field(default_factory=utcnow)


class ShortlistEntry(SQLModel, table=True):
    """A work's place on a shortlist; moving it in or out needs a written reason."""

    id: Optional[int] = Field(default=None, primary_key=True)
    shortlist_id: int = Field(foreign_key="shortlist.id", index=True)
    work_id: Optional[int] = Field(default=None, foreign_key="work.id")
    case_id: Optional[int] = Field(default=None, foreign_key="disseminationcase.id")
    category: str = Field(max_length=40)
    rank: int
    score: float
    se: Optional[float] = None  # null: no standard error could be estimated (migration 0013)
    proposed: bool
    included: bool
    straddles_cut: bool = False
    override_reason: Optional[str] = None
    override_by: Optional[int] = Field(default=None, foreign_key="user.id")
    override_at: Optional[dt.datetime] = None


class SignOff(SQLModel, table=True):
    """A panel member's signature on a shortlist, with any dissent beside it."""

    __table_args__ = (UniqueConstraint("shortlist_id", "user_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    shortlist_id: int = Field(foreign_key="shortlist.id", index=True)
    user_id: int = Field(foreign_key="user.id")
    dissent: Optional[str] = None
    content_sha256: str = Field(max_length=64)
    signed_at: dt.datetime = Field(default_factory=utcnow)


class AuditEvent(SQLModel, table=True):
    """Append-only log; each event carries the hash of the one before (``tuiyou audit verify``)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow)
    actor: str = Field(default="", max_length=100)
    action: str = Field(max_length=60, index=True)
    round_id: Optional[int] = Field(default=None, foreign_key="round.id", index=True)
    subject: str = Field(default="", max_length=200)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(default="", max_length=64)
    # HMAC-SHA256 of ``hash`` under the audit key kept outside the database (web.core.audit).
    seal: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})


class AuditHead(SQLModel, table=True):
    """The audit log's sealed head (one row, id 1): how many events it holds and the last one's
    hash, sealed under the audit key and rewritten with every event (web.core.audit)."""

    id: int = Field(default=1, primary_key=True)
    events: int = 0
    last_hash: str = Field(default="", max_length=64)
    seal: str = Field(default="", max_length=64)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class ScoreSave(SQLModel, table=True):
    """An applied score save under its Idempotency-Key: a retry gets this first answer back."""

    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_scoresave_user_key"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    key: str = Field(max_length=100)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    version: int
    created_at: dt.datetime = Field(default_factory=utcnow)


class ResultVersion(SQLModel, table=True):
    """One signed version of a round's result: the frozen snapshot, its SHA-256, and any re-opening."""

    __table_args__ = (UniqueConstraint("round_id", "version", name="uq_resultversion_round_version"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    version: int
    method: str = Field(max_length=40)
    # Canonical JSON (sorted keys, no spaces, UTF-8): exactly the bytes the hash covers.
    content: str
    content_sha256: str = Field(max_length=64)
    signed_by: int = Field(foreign_key="user.id")
    signed_at: dt.datetime = Field(default_factory=utcnow)
    reopened_by: Optional[int] = Field(default=None, foreign_key="user.id")
    reopened_at: Optional[dt.datetime] = None
    reopen_reason: Optional[str] = None
    # The audit log's head just after this signing (COUNT:HASH, printed on the PDF as its anchor).
    audit_events: Optional[int] = None
    audit_hash: Optional[str] = Field(default=None, max_length=64)

    @property
    def audit_anchor(self) -> Optional[str]:
        """``COUNT:HASH`` of the audit log just after this signing (None when signed before there was a head)."""
        return f"{self.audit_events}:{self.audit_hash}" if self.audit_hash else None


class RankingCache(SQLModel, table=True):
    """A round's computed rankings for one method, valid while the ratings' fingerprint matches."""

    __table_args__ = (UniqueConstraint("round_id", "method", name="uq_rankingcache_round_method"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    method: str = Field(max_length=40)
    fingerprint: str = Field(max_length=200)
    payload: str
    created_at: dt.datetime = Field(default_factory=utcnow)


class ExpertAbsence(SQLModel, table=True):
    """An expert who is not available in one round (no new assignments there)."""

    __table_args__ = (UniqueConstraint("round_id", "user_id", name="uq_expertabsence_round_user"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    user_id: int = Field(foreign_key="user.id")
    reason: str = ""
    created_at: dt.datetime = Field(default_factory=utcnow)


class AssignmentDraw(SQLModel, table=True):
    """One seeded draw (随机抽取) of a round: anyone can re-run it with the same seed."""

    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    seed: int = Field(sa_column=Column(BigInteger, nullable=False))
    per_work: int
    created: int = 0
    kept: int = 0
    report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    actor: str = Field(default="", max_length=100)
    created_at: dt.datetime = Field(default_factory=utcnow)


class AbnormalFlag(SQLModel, table=True):
    """A rating flagged abnormal (畸高/畸低), its author's written explanation or the chair's waiver.

    ``active`` is false when later ratings brought it back within the rule (history is kept).
    """

    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    assignment_id: int = Field(foreign_key="assignment.id", unique=True)
    total: float
    others_mean: float
    others_n: int
    direction: str = Field(max_length=10)
    active: bool = True
    flagged_at: dt.datetime = Field(default_factory=utcnow)
    explanation: Optional[str] = None
    explained_at: Optional[dt.datetime] = None
    waiver_reason: Optional[str] = None
    waived_by: Optional[int] = Field(default=None, foreign_key="user.id")
    waived_at: Optional[dt.datetime] = None


class DrawJob(SQLModel, table=True):
    """A draw run in the background for the round's page: its stage and progress, then the
    outcome (the draw written, or why nothing was). ``active_round_id`` holds the round while the
    job is queued or running and is cleared when it ends; being unique, it lets one draw per
    round run at a time, across every server process."""

    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    active_round_id: Optional[int] = Field(default=None, unique=True)
    state: str = Field(default="queued", max_length=10)  # queued, running, done, failed
    stage: str = Field(default="", max_length=20)  # conflicts, quotas, category, writing, done
    categories_done: int = 0
    categories_total: int = 0
    per_work: int
    seed: int = Field(sa_column=Column(BigInteger, nullable=False))
    actor: str = Field(default="", max_length=100)
    worker: str = Field(default="", max_length=200)  # host:pid of the process running it
    message_zh: Optional[str] = None
    message_en: Optional[str] = None
    failure: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    result: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    draw_id: Optional[int] = Field(default=None, foreign_key="assignmentdraw.id")
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    finished_at: Optional[dt.datetime] = None


class RecomputeJob(SQLModel, table=True):
    """A recompute of a round's rankings after its ratings changed, shared by every app server.

    ``queued_round_id`` holds the round while the job waits: being unique, every change of the
    round until the job starts lands on this one row (``changes`` counts them; the debounce),
    and it is cleared when a worker claims the job, so a change made while it runs queues the
    next one. A claim takes the job for ``lease_until``; a job whose lease ran out (its worker
    stopped mid-run) is claimed again (``attempts``). See web/recompute/."""

    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    queued_round_id: Optional[int] = Field(default=None, unique=True)
    state: str = Field(default="queued", max_length=10, index=True)  # queued, running, done, failed
    changes: int = 1
    due_at: dt.datetime = Field(default_factory=utcnow)
    attempts: int = 0
    worker: str = Field(default="", max_length=200)
    lease_until: Optional[dt.datetime] = None
    message: Optional[str] = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    started_at: Optional[dt.datetime] = None
    finished_at: Optional[dt.datetime] = None
