"""The expert's JSON bodies and answers, declared once: the API (``/api/v1/assignments/…``) and
the scoring form's same-origin calls read and answer through these models."""
from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field

from ..core.schemas import NO_NUL, ApiError, Body, Finite, Prose, Refused, Reply, Text, Whole, plain_keys, shown
from .operations import MAX_COMMENT, MAX_REASON, ScoreChange

MAX_VERSION = 2**31 - 1  # the version is an INTEGER column


class ScoreSave(Body):
    """One save of the form: the criteria to set (the others keep their values), and optionally
    the comment, the confidence and the highlight tags."""

    refused: ClassVar = (422, "bad_body")
    codes: ClassVar = {"version": "invalid_version", "scores": "invalid_scores", "comment": "invalid_comment",
                       "comment:too_long": "comment_too_long", "confidence": "invalid_confidence",
                       "highlights": "invalid_highlights"}

    scores: Annotated[dict[str, Finite], AfterValidator(plain_keys)] = Field(
        default_factory=dict, json_schema_extra={"propertyNames": {"pattern": NO_NUL}},
        description="criterion key → value; each criterion's min, max and step are in GET /assignments")
    version: Whole = Field(ge=0, le=MAX_VERSION, description="the version you last received (0 before any save)")
    comment: Annotated[Text, Field(max_length=MAX_COMMENT)] | None = Field(
        default=None, description="the remark; null keeps it")
    confidence: Annotated[Finite, Field(ge=0, le=1)] | None = Field(
        default=None, description="how sure the expert is, 0 to 1; null clears it")
    highlights: list[Text] | None = Field(default=None, description="highlight keys; null keeps them")

    @classmethod
    def refusal(cls, error: dict[str, Any]) -> Refused:
        """A value of ``scores`` that is no number is refused naming its criterion, as the rules do."""
        loc = error.get("loc") or ()
        if len(loc) == 2 and loc[0] == "scores":
            key = shown(loc[1])
            return Refused(422, "invalid_score", f"{key}: {shown(repr(error.get('input')))} is not a number.",
                           criterion=key)
        return super().refusal(error)

    def change(self) -> ScoreChange:
        """The operation's view of this save (an explicit ``"confidence": null`` clears it)."""
        return ScoreChange(scores=dict(self.scores), version=self.version, comment=self.comment,
                           confidence=self.confidence,
                           clear_confidence="confidence" in self.model_fields_set and self.confidence is None,
                           highlights=None if self.highlights is None else tuple(self.highlights))


class Recusal(Body):
    """Stepping aside from a work, with the reason (e.g. the relationship)."""

    refused: ClassVar = (422, "reason_required")
    codes: ClassVar = {"reason:too_long": "reason_too_long"}

    reason: Prose = Field(max_length=MAX_REASON, description="why the expert steps aside")


class Saved(Reply):
    """A save accepted as a new version."""

    version: int


class Submitted(Reply):
    """A complete form, now read-only."""

    status: Literal["submitted"]
    version: int


class Recused(Reply):
    """The expert stepped aside; the scores are kept."""

    status: Literal["recused"]


class Reopened(Reply):
    """A submitted form open again for changes."""

    status: Literal["pending", "in_progress"]
    version: int


class StaleVersion(ApiError):
    """409 ``stale_version``: the form was saved elsewhere; the current values, to choose from."""

    version: int
    scores: dict[str, float]
    comment: str | None


class Incomplete(ApiError):
    """422 ``incomplete``: the criteria still without a score."""

    missing: list[str]
